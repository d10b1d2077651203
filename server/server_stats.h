// Counters the server keeps for /healthz, /metrics and the shutdown log line.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace skirmish::server {

struct ServerStats {
  std::uint64_t connections_total = 0;
  std::uint64_t connections_rejected = 0;  // over server.max_connections
  std::uint64_t http_requests = 0;
  std::uint64_t websockets_opened = 0;
  std::map<int, std::uint64_t> handshake_failures;  // by HTTP status
  std::map<int, std::uint64_t> ws_closes;           // by close code we sent or echoed
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t timeouts = 0;  // requests and close handshakes that ran out of time
};

}  // namespace skirmish::server
