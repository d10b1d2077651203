// Counters the server keeps for /healthz, /metrics and the shutdown log line. Each event loop
// has its own (its connections add to it); /metrics, run on any loop, reads every loop's, so
// the counters are atomic and the maps keyed by reason are behind a mutex: a reader gets a
// Snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace skirmish::server {

struct ServerStats {
  using Counter = std::atomic<std::uint64_t>;
  // Every reason the server has, and the codes and statuses it sends, start at 0, so that a
  // rate() or an absent() on /metrics sees them before the first one happens.
  ServerStats() {
    for (const char* r : {"request_timeout", "close_timeout", "ping_timeout", "slow_hard_limit", "slow_soft_limit",
                          "slow_reader", "flood"}) {
      closes_by_reason_[r] = 0;
    }
    for (const char* r : {"over_max_connections", "over_max_per_ip", "shutting_down"}) rejected_by_reason_[r] = 0;
    for (const char* c : {"1000", "1001", "1002", "1007", "1008", "1009", "1013"}) ws_closes_[c] = 0;
    for (const int s : {400, 426}) handshake_failures_[s] = 0;
  }
  Counter connections_total{0};
  Counter http_requests{0};
  Counter websockets_opened{0};
  Counter frames_in{0};
  Counter frames_out{0};
  Counter bytes_in{0};
  Counter bytes_out{0};
  Counter messages_over_rate{0};   // made to wait: over server.max_messages_per_second
  Counter pings_coalesced{0};      // pings answered by the pong of a later ping (RFC 6455 5.5.3)
  Counter reads_paused{0};         // times a connection's reading paused for that limit

  void handshake_failed(int status) { bump(handshake_failures_, status); }
  // A client's own close code is echoed, and could be any of 2,000: those of applications
  // (3000-3999 registered, 4000-4999 private) are counted together, so that no client can
  // make up series.
  void closed_with(int code) {
    bump(ws_closes_, code >= 3000 && code <= 3999 ? std::string("3xxx")
                     : code >= 4000 && code <= 4999 ? std::string("4xxx")
                                                    : std::to_string(code));
  }
  // Connections we ended for a reason other than a close handshake: request_timeout,
  // close_timeout, ping_timeout, slow_hard_limit, slow_soft_limit, slow_reader, flood.
  void ended(const std::string& reason) { bump(closes_by_reason_, reason); }
  // Connections refused before any request: over_max_connections, over_max_per_ip, shutting_down.
  void rejected(const std::string& reason) { bump(rejected_by_reason_, reason); }

  // Plain values, as they stood (each counter read once; the maps together).
  struct Snapshot {
    std::uint64_t connections_total = 0, http_requests = 0, websockets_opened = 0;
    std::uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t messages_over_rate = 0, pings_coalesced = 0, reads_paused = 0;
    std::map<int, std::uint64_t> handshake_failures;  // by HTTP status
    std::map<std::string, std::uint64_t> ws_closes;   // by close code we sent or echoed (3xxx, 4xxx)
    std::map<std::string, std::uint64_t> closes_by_reason;
    std::map<std::string, std::uint64_t> rejected_by_reason;
    // Adds another loop's numbers to these.
    Snapshot& operator+=(const Snapshot& other);
  };
  Snapshot snapshot() const;

 private:
  template <class Key>
  void bump(std::map<Key, std::uint64_t>& map, const Key& key) {
    std::lock_guard<std::mutex> lock(maps_mutex_);
    map[key]++;
  }
  mutable std::mutex maps_mutex_;
  std::map<int, std::uint64_t> handshake_failures_;
  std::map<std::string, std::uint64_t> ws_closes_;
  std::map<std::string, std::uint64_t> closes_by_reason_;
  std::map<std::string, std::uint64_t> rejected_by_reason_;
};

inline ServerStats::Snapshot ServerStats::snapshot() const {
  Snapshot s;
  s.connections_total = connections_total.load();
  s.http_requests = http_requests.load();
  s.websockets_opened = websockets_opened.load();
  s.frames_in = frames_in.load();
  s.frames_out = frames_out.load();
  s.bytes_in = bytes_in.load();
  s.bytes_out = bytes_out.load();
  s.messages_over_rate = messages_over_rate.load();
  s.pings_coalesced = pings_coalesced.load();
  s.reads_paused = reads_paused.load();
  std::lock_guard<std::mutex> lock(maps_mutex_);
  s.handshake_failures = handshake_failures_;
  s.ws_closes = ws_closes_;
  s.closes_by_reason = closes_by_reason_;
  s.rejected_by_reason = rejected_by_reason_;
  return s;
}

inline ServerStats::Snapshot& ServerStats::Snapshot::operator+=(const Snapshot& o) {
  connections_total += o.connections_total;
  http_requests += o.http_requests;
  websockets_opened += o.websockets_opened;
  frames_in += o.frames_in;
  frames_out += o.frames_out;
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
  messages_over_rate += o.messages_over_rate;
  pings_coalesced += o.pings_coalesced;
  reads_paused += o.reads_paused;
  for (const auto& [k, v] : o.handshake_failures) handshake_failures[k] += v;
  for (const auto& [k, v] : o.ws_closes) ws_closes[k] += v;
  for (const auto& [k, v] : o.closes_by_reason) closes_by_reason[k] += v;
  for (const auto& [k, v] : o.rejected_by_reason) rejected_by_reason[k] += v;
  return *this;
}

}  // namespace skirmish::server
