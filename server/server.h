// The daemon's event loop: listeners, the connection registry, timers and signals.
// This (with the rest of server/) is the only code that touches libuv.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "protocol/handshake.h"
#include "protocol/http_types.h"
#include "server/connection.h"
#include "server/server_stats.h"
#include "server/static_files.h"
#include "server/ws_application.h"

namespace skirmish::server {

class Server {
 public:
  Server(uv_loop_t* loop, const config::Config& config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds and listens; returns false (after logging why) when the address is unusable.
  bool listen();
  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // Stops accepting, closes every WebSocket with 1001 and lets the loop end once they are
  // gone or the shutdown grace has passed. Idempotent.
  void begin_shutdown();
  bool shutting_down() const { return shutting_down_; }

  void set_application(WsApplication* app) { app_ = app; }
  // Serves requests whose normalised path is `path`, or starts with it when it ends in '/',
  // before static files. A handler that returns nullopt answers later with finish_deferred()
  // (a long poll); if the connection goes away first, `on_gone` is told its id.
  using Route = std::function<std::optional<protocol::HttpResponse>(const protocol::HttpRequest&, ConnId)>;
  void add_route(std::string path, Route handler) { routes_[std::move(path)] = std::move(handler); }
  void set_deferred_gone_handler(std::function<void(ConnId)> on_gone) { deferred_gone_ = std::move(on_gone); }
  // Answers a request a route deferred. Returns false when that connection is gone.
  bool finish_deferred(ConnId id, const protocol::HttpResponse& response);
  // Has the connection go on with requests it held back, once the current callback is over.
  void resume_later(ConnId id);
  // Called on every shutdown completion, after every handle of ours is closed.
  void set_on_stopped(std::function<void()> cb) { on_stopped_ = std::move(cb); }

  // For the application: by id, so a stale id finds nothing instead of a freed object.
  Connection* find(ConnId id);
  bool send_text(ConnId id, std::string_view text);
  void close(ConnId id, std::uint16_t code, std::string_view reason);
  template <class Fn>
  void for_each_open(Fn&& fn) {
    for (auto& [id, conn] : connections_) {
      if (conn->is_open()) fn(*conn);
    }
  }

  // For connections.
  uv_loop_t* loop() { return loop_; }
  std::uint64_t now_ms() const { return uv_now(loop_); }
  const config::Config& config() const { return config_; }
  const protocol::HandshakePolicy& handshake_policy() const { return config_.handshake; }
  ServerStats& stats() { return stats_; }
  std::size_t connection_count() const { return connections_.size(); }
  // One read buffer for every connection: reads are handled before the next one starts.
  uv_buf_t read_buffer() { return uv_buf_init(read_buffer_.data(), static_cast<unsigned>(read_buffer_.size())); }
  // Answers a plain HTTP request (routes, files, /healthz); upgrades are handled by the
  // connection. nullopt: a route will answer later.
  std::optional<protocol::HttpResponse> respond(Connection& conn, const protocol::HttpRequest& request);
  // Whether this target is the WebSocket endpoint.
  bool is_websocket_path(const std::string& target) const;
  void on_websocket_open(Connection& conn, const protocol::HttpRequest& request);
  void on_text(Connection& conn, std::string_view text);
  void on_binary(Connection& conn, std::string_view data);
  void on_connection_closed(Connection& conn);

 private:
  static void on_connection(uv_stream_t* listener, int status);
  static void on_sweep(uv_timer_t* t);
  static void on_signal(uv_signal_t* s, int signum);
  static void on_grace_expired(uv_timer_t* t);
  static void on_resume(uv_idle_t* idle);

  bool listen_on(uv_tcp_t& tcp, const std::string& host, int port, bool ipv6_only);
  void maybe_finish_shutdown();
  protocol::HttpResponse health_response(const protocol::HttpRequest& request) const;
  protocol::HttpResponse metrics_response(const protocol::HttpRequest& request) const;

  uv_loop_t* loop_;
  config::Config config_;
  StaticFiles files_;
  WsApplication* app_ = nullptr;
  std::function<void()> on_stopped_;
  ServerStats stats_;

  // Listeners: the configured address and, when that is the IPv4 wildcard, the IPv6 one too.
  uv_tcp_t listener_v4_;
  uv_tcp_t listener_v6_;
  bool v4_open_ = false;
  bool v6_open_ = false;
  int port_ = 0;

  uv_timer_t sweep_timer_;
  uv_timer_t grace_timer_;
  uv_idle_t resume_idle_;
  std::vector<ConnId> to_resume_;
  uv_signal_t sigint_;
  uv_signal_t sigterm_;
  bool shutting_down_ = false;
  bool stopped_ = false;
  std::uint64_t started_ms_ = 0;

  ConnId next_id_ = 1;
  std::unordered_map<ConnId, Connection*> connections_;
  std::unordered_map<std::string, Route> routes_;
  std::function<void(ConnId)> deferred_gone_;
  std::unordered_map<std::string, int> per_ip_;  // open connections by client address
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace skirmish::server
