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
#include "protocol/forwarded_for.h"
#include "protocol/handshake.h"
#include "protocol/http_types.h"
#include "server/connection.h"
#include "server/connection_host.h"
#include "server/server_stats.h"
#include "server/static_files.h"
#include "server/ws_application.h"

namespace skirmish::server {

// Who asked for a request a route answers: its connection, by id (a deferred answer finds
// nothing once it is gone), and the client's address (per-IP limits; a trusted proxy's client).
struct RequestOrigin {
  ConnId conn = 0;
  std::string_view ip;
  bool secure = false;  // a trusted proxy said the client came over TLS (its URLs are https/wss)
};

class Server final : private ConnectionHost {
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
  using Route = std::function<std::optional<protocol::HttpResponse>(const protocol::HttpRequest&, const RequestOrigin&)>;
  void add_route(std::string path, Route handler) { routes_[std::move(path)] = std::move(handler); }
  void set_deferred_gone_handler(std::function<void(ConnId)> on_gone) { deferred_gone_ = std::move(on_gone); }
  // Answers a request a route deferred. Returns false when that connection is gone.
  bool finish_deferred(ConnId id, const protocol::HttpResponse& response);
  // More numbers for /metrics (e.g. the Agones sidecar's), after the application's.
  void add_metrics_source(std::function<void(MetricsText&)> source) { metrics_sources_.push_back(std::move(source)); }
  // Called on every shutdown completion, after every handle of ours is closed.
  void set_on_stopped(std::function<void()> cb) { on_stopped_ = std::move(cb); }

  uv_loop_t* loop() { return loop_; }
  std::uint64_t now_ms() const { return uv_now(loop_); }
  const config::Config& config() const { return config_; }
  ServerStats& stats() { return stats_; }
  std::size_t connection_count() const { return connections_.size(); }

 private:
  // ConnectionHost: what connections ask of us.
  std::optional<std::string> refuse_websocket(const std::string& target) const override;
  std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) override;
  // Routes, files, /healthz, /metrics; upgrades are handled by the connection.
  std::optional<protocol::HttpResponse> on_request(Connection& conn, const protocol::HttpRequest& request) override;
  void on_open(Connection& conn, const protocol::HttpRequest& request) override;
  void on_text(Connection& conn, std::string_view text) override;
  void on_binary(Connection& conn, std::string_view data) override;
  void on_closed(Connection& conn) override;
  void resume_later(ConnId id) override;
  Connection* find(ConnId id);

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
  std::vector<std::function<void(MetricsText&)>> metrics_sources_;
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
  protocol::AddressSet trusted_proxies_;         // server.trusted_proxies
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace skirmish::server
