// Counters the server keeps for /healthz, /metrics and the shutdown log line.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace skirmish::server {

struct ServerStats {
  std::uint64_t connections_total = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t websockets_opened = 0;
  std::map<int, std::uint64_t> handshake_failures;  // by HTTP status
  std::map<int, std::uint64_t> ws_closes;           // by close code we sent or echoed
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  // Connections we ended for a reason other than a close handshake: request_timeout,
  // close_timeout, ping_timeout, slow_hard_limit, slow_soft_limit, flood.
  std::map<std::string, std::uint64_t> closes_by_reason;
  // Connections refused before any request: over_max_connections, over_max_per_ip, shutting_down.
  std::map<std::string, std::uint64_t> rejected_by_reason;
  std::uint64_t messages_over_rate = 0;   // made to wait: over server.max_messages_per_second
  std::uint64_t pings_coalesced = 0;      // pings answered by the pong of a later ping (RFC 6455 5.5.3)
  std::uint64_t reads_paused = 0;         // times a connection's reading paused for that limit
};

}  // namespace skirmish::server
