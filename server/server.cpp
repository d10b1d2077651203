#include "server/server.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "protocol/http_response.h"
#include "protocol/request_target.h"
#include "server/json_response.h"
#include "server/metrics_text.h"

namespace skirmish::server {

namespace {
// Deadlines are checked by one coarse timer over all connections (Valkey's clientsCron),
// not one timer per connection: timeouts of seconds do not need millisecond precision.
constexpr std::uint64_t kSweepIntervalMs = 250;
constexpr const char* kWebSocketPath = "/ws";
}  // namespace

Server::Server(uv_loop_t* loop, const config::Config& config)
    : loop_(loop),
      config_(config),
      files_(config.server.web_root.empty() ? StaticFiles::embedded()
                                            : StaticFiles::from_directory(config.server.web_root)) {
  trusted_proxies_.add_all(config.server.trusted_proxies);  // validated by the config loader
  uv_tcp_init(loop_, &listener_v4_);
  uv_tcp_init(loop_, &listener_v6_);
  listener_v4_.data = listener_v6_.data = this;
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &grace_timer_);
  sweep_timer_.data = grace_timer_.data = this;
  uv_idle_init(loop_, &resume_idle_);
  resume_idle_.data = this;
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  sigint_.data = sigterm_.data = this;
  started_ms_ = uv_now(loop_);
}

Server::~Server() = default;

bool Server::listen_on(uv_tcp_t& tcp, const std::string& host, int port, bool ipv6_only) {
  sockaddr_storage addr{};
  const bool v6 = host.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
              : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) {
    spdlog::error("server.host '{}' is not an IP address: {}", host, uv_strerror(rc));
    return false;
  }
  rc = uv_tcp_bind(&tcp, reinterpret_cast<const sockaddr*>(&addr), ipv6_only ? UV_TCP_IPV6ONLY : 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&tcp), 1024, on_connection);
  if (rc != 0) {
    spdlog::log(ipv6_only ? spdlog::level::debug : spdlog::level::err, "cannot listen on {}:{}: {}", host, port,
                uv_strerror(rc));
    return false;
  }
  return true;
}

bool Server::listen() {
  const auto& s = config_.server;
  const bool v6 = s.host.find(':') != std::string::npos;
  uv_tcp_t& primary = v6 ? listener_v6_ : listener_v4_;
  if (!listen_on(primary, s.host, s.port, false)) return false;
  (v6 ? v6_open_ : v4_open_) = true;
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&primary, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  // The default "all IPv4 interfaces" also means IPv6 clients, if the machine has IPv6.
  if (s.host == "0.0.0.0") v6_open_ = listen_on(listener_v6_, "::", port_, true);

  uv_timer_start(&sweep_timer_, on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  return true;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (status < 0) {
    spdlog::warn("accept failed: {}", uv_strerror(status));
    return;
  }
  const ConnectionContext context{self->loop_, &self->config_, &self->stats_, self->read_buffer_.data(),
                                  self->read_buffer_.size()};
  auto* conn = new Connection(*self, context, self->next_id_++);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(conn->handle())) != 0) {
    conn->abort();  // frees itself in its close callback
    return;
  }
  self->stats_.connections_total++;
  self->connections_[conn->id()] = conn;
  conn->start();
  // A trusted proxy's connection counts under the client its first request names (identify).
  const bool via_proxy = self->trusted_proxies_.contains(conn->tcp_ip());
  const int from_ip = via_proxy ? 0 : ++self->per_ip_[std::string(conn->ip())];
  conn->set_ip_counted(!via_proxy);
  const auto& cfg = self->config_.server;
  const char* refused = nullptr;
  const char* reason = nullptr;
  if (self->shutting_down_) {
    refused = "shutting_down";
    reason = "the server is shutting down";
  } else if (self->connections_.size() > static_cast<std::size_t>(cfg.max_connections)) {
    refused = "over_max_connections";
    reason = "the server is full, try again shortly";
  } else if (cfg.max_connections_per_ip > 0 && from_ip > cfg.max_connections_per_ip) {
    refused = "over_max_per_ip";
    reason = "too many connections from your address";
  }
  if (refused) {
    // Answered as HTTP whatever the client meant to ask: 503 with Retry-After is what a
    // browser's WebSocket, a load balancer and a person with curl all understand.
    self->stats_.rejected_by_reason[refused]++;
    spdlog::debug("conn {} {}: refused: {}", conn->id(), conn->peer(), reason);
    conn->respond_and_drain(
        protocol::serialize_response(protocol::make_reject_response({503, reason, {{"Retry-After", "5"}}})));
    return;
  }
  spdlog::debug("conn {} {}: accepted", conn->id(), conn->peer());
}

Connection* Server::find(ConnId id) {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

std::optional<std::string> Server::refuse_websocket(const std::string& target) const {
  const auto path = protocol::normalize_path(target);
  if (!path || *path != kWebSocketPath) return "no WebSocket endpoint here: use /ws";
  return app_ ? app_->refuse_websocket(target) : std::nullopt;
}

protocol::HttpResponse Server::health_response(const protocol::HttpRequest& request) const {
  nlohmann::json body = {
      {"status", shutting_down_ ? "stopping" : "ok"},
      {"uptime_s", static_cast<double>(uv_now(loop_) - started_ms_) / 1000.0},
      {"connections", connections_.size()},
      {"websockets_opened", stats_.websockets_opened},
  };
  if (app_) app_->describe(body);
  return json_response(request, shutting_down_ ? 503 : 200, body.dump() + "\n");
}

bool Server::finish_deferred(ConnId id, const protocol::HttpResponse& response) {
  Connection* c = find(id);
  if (!c || !c->awaiting_response()) return false;
  c->finish_deferred(response);
  return true;
}

void Server::resume_later(ConnId id) {
  if (to_resume_.empty() && !stopped_) uv_idle_start(&resume_idle_, on_resume);
  to_resume_.push_back(id);
}

void Server::on_resume(uv_idle_t* idle) {
  auto* self = static_cast<Server*>(idle->data);
  std::vector<ConnId> ids;
  ids.swap(self->to_resume_);
  uv_idle_stop(idle);
  for (const ConnId id : ids) {
    if (Connection* c = self->find(id)) c->resume_held_input();
  }
}

std::optional<protocol::HttpResponse> Server::identify(Connection& conn, const protocol::HttpRequest& request) {
  if (trusted_proxies_.empty() || !trusted_proxies_.contains(conn.tcp_ip())) return std::nullopt;
  // The proxy nearest us wrote the last value: "https" (any case) means the client came over TLS.
  const auto proto = protocol::joined_header(request.headers, "x-forwarded-proto");
  std::string_view last = proto ? std::string_view(*proto) : std::string_view();
  if (const std::size_t comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  conn.set_secure(last.size() == 5 && (last[0] | 0x20) == 'h' && (last[1] | 0x20) == 't' && (last[2] | 0x20) == 't' &&
                  (last[3] | 0x20) == 'p' && (last[4] | 0x20) == 's');
  // Every X-Forwarded-For line, in order: a proxy may add a line of its own rather than append.
  const auto forwarded = protocol::joined_header(request.headers, "x-forwarded-for");
  std::string client = protocol::client_address(trusted_proxies_, conn.tcp_ip(), forwarded ? &*forwarded : nullptr);
  if (conn.ip_counted() && client == conn.ip()) return std::nullopt;
  if (conn.ip_counted()) {
    // A proxy that reuses one connection for several clients: move it to the new one.
    if (auto it = per_ip_.find(std::string(conn.ip())); it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
  }
  const int from_ip = ++per_ip_[client];
  conn.set_client(std::move(client));
  conn.set_ip_counted(true);
  const int limit = config_.server.max_connections_per_ip;
  if (limit > 0 && from_ip > limit) {
    stats_.rejected_by_reason["over_max_per_ip"]++;
    spdlog::debug("conn {} {}: refused: too many connections from your address", conn.id(), conn.peer());
    auto r = protocol::make_reject_response({503, "too many connections from your address", {{"Retry-After", "5"}}});
    return r;
  }
  return std::nullopt;
}

std::optional<protocol::HttpResponse> Server::on_request(Connection& conn, const protocol::HttpRequest& request) {
  const RequestOrigin origin{conn.id(), conn.ip(), conn.secure()};
  const auto path = protocol::normalize_path(request.target);
  protocol::HttpResponse r;
  r.keep_alive = request.keep_alive;
  if (!path) {
    return protocol::make_reject_response({400, "bad request target", {}});
  }
  // A route that throws (a bug, or input nobody thought of) costs its request a 500, never
  // the process: an exception must not unwind through libuv.
  auto run = [&](const Route& route) -> std::optional<protocol::HttpResponse> {
    try {
      return route(request, origin);
    } catch (const std::exception& e) {
      spdlog::error("conn {} {}: {} {} failed: {}", conn.id(), conn.peer(), request.method, *path, e.what());
      auto failed = protocol::make_reject_response({500, "internal error", {}});
      failed.keep_alive = false;
      return failed;
    }
  };
  if (const auto route = routes_.find(*path); route != routes_.end()) return run(route->second);
  // Prefix routes ("/session/") own everything below them.
  for (auto slash = path->rfind('/'); slash != std::string::npos && slash > 0; slash = path->rfind('/', slash - 1)) {
    if (const auto route = routes_.find(path->substr(0, slash + 1)); route != routes_.end()) {
      return run(route->second);
    }
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto reject = protocol::make_reject_response({405, "only GET and HEAD are allowed here", {{"Allow", "GET, HEAD"}}});
    reject.keep_alive = request.keep_alive;
    return reject;
  }
  if (*path == "/healthz") return health_response(request);
  if (*path == "/metrics") return metrics_response(request);
  if (*path == kWebSocketPath) {
    auto reject = protocol::make_reject_response(
        {426, "this is the WebSocket endpoint: connect with a WebSocket client",
         {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"}}});
    reject.keep_alive = request.keep_alive;
    return reject;
  }
  return files_.respond(*path, request);
}

protocol::HttpResponse Server::metrics_response(const protocol::HttpRequest& request) const {
  MetricsText m;
  std::size_t queued_sum = 0, queued_max = 0, websockets = 0;
  for (const auto& [id, conn] : connections_) {
    queued_sum += conn->queued_bytes();
    queued_max = std::max(queued_max, conn->queued_bytes());
    if (conn->is_open()) websockets++;
  }
  m.gauge("skirmish_connections", "TCP connections open now", static_cast<double>(connections_.size()));
  m.gauge("skirmish_websockets", "WebSocket connections open now", static_cast<double>(websockets));
  m.counter("skirmish_connections_total", "TCP connections accepted", static_cast<double>(stats_.connections_total));
  m.labelled("counter", "skirmish_connections_rejected_total", "connections refused before any request", "reason",
             stats_.rejected_by_reason);
  m.counter("skirmish_http_requests_total", "HTTP requests answered", static_cast<double>(stats_.http_requests));
  m.counter("skirmish_websockets_opened_total", "WebSocket handshakes accepted",
            static_cast<double>(stats_.websockets_opened));
  m.labelled("counter", "skirmish_handshake_failures_total", "requests refused, by HTTP status", "status",
             stats_.handshake_failures);
  m.labelled("counter", "skirmish_websocket_closes_total", "close frames sent or echoed, by close code", "code",
             stats_.ws_closes);
  m.labelled("counter", "skirmish_connections_ended_total", "connections ended by the server, by reason", "reason",
             stats_.closes_by_reason);
  m.counter("skirmish_frames_received_total", "WebSocket frames received", static_cast<double>(stats_.frames_in));
  m.counter("skirmish_frames_sent_total", "WebSocket frames sent", static_cast<double>(stats_.frames_out));
  m.counter("skirmish_bytes_received_total", "bytes received", static_cast<double>(stats_.bytes_in));
  m.counter("skirmish_bytes_sent_total", "bytes handed to the kernel or queued", static_cast<double>(stats_.bytes_out));
  m.counter("skirmish_messages_over_rate_total", "client messages that waited for server.max_messages_per_second",
            static_cast<double>(stats_.messages_over_rate));
  m.counter("skirmish_pings_coalesced_total", "pings answered only by the pong of a later ping sent with them",
            static_cast<double>(stats_.pings_coalesced));
  m.counter("skirmish_reads_paused_total", "times a connection's reading paused for that limit",
            static_cast<double>(stats_.reads_paused));
  m.gauge("skirmish_queued_bytes", "bytes waiting to be sent, all connections", static_cast<double>(queued_sum));
  m.gauge("skirmish_queued_bytes_max", "bytes waiting to be sent, the worst connection",
          static_cast<double>(queued_max));
  if (app_) app_->write_metrics(m);
  for (const auto& source : metrics_sources_) source(m);
  protocol::HttpResponse r;
  r.keep_alive = request.keep_alive;
  r.head_only = request.method == "HEAD";
  r.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}, {"Cache-Control", "no-store"}};
  r.body = m.take();
  return r;
}

void Server::on_open(Connection& conn, const protocol::HttpRequest& request) {
  stats_.websockets_opened++;
  spdlog::debug("conn {} {}: websocket open", conn.id(), conn.peer());
  if (shutting_down_) {
    conn.close_websocket(1001, "server shutting down");
    return;
  }
  if (app_) app_->on_open(conn, request);
}

void Server::on_text(Connection& conn, std::string_view text) {
  if (app_) app_->on_text(conn, text);
}

void Server::on_binary(Connection& conn, std::string_view data) {
  if (app_) app_->on_binary(conn, data);
}

void Server::on_closed(Connection& conn) {
  spdlog::debug("conn {} {}: closed", conn.id(), conn.peer());
  connections_.erase(conn.id());
  if (conn.ip_counted()) {
    if (auto it = per_ip_.find(std::string(conn.ip())); it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
  }
  if (conn.upgraded() && app_) app_->on_close(conn);
  if (conn.awaiting_response() && deferred_gone_) deferred_gone_(conn.id());
  if (shutting_down_) maybe_finish_shutdown();
}

void Server::on_sweep(uv_timer_t* t) {
  auto* self = static_cast<Server*>(t->data);
  const std::uint64_t now = uv_now(self->loop_);
  // Walking the map while connections close is safe: they leave it only in their close
  // callback, which libuv runs later, and nothing here accepts new ones.
  for (auto& [id, conn] : self->connections_) conn->on_sweep(now);
}

void Server::on_signal(uv_signal_t* s, int signum) {
  auto* self = static_cast<Server*>(s->data);
  spdlog::info("received {}, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
  self->begin_shutdown();
}

void Server::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (v4_open_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_v4_), nullptr);
  if (v6_open_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_v6_), nullptr);
  v4_open_ = v6_open_ = false;
  // Requests the application holds (long polls) are answered first, with "Connection: close".
  if (app_) app_->on_server_stopping();
  for (auto& [id, c] : connections_) {  // safe to walk: see on_sweep
    if (c->state() == Connection::State::Open) {
      // A client far behind gets its close frame next, not after its stale tick frames.
      c->close_websocket(1001, "server shutting down", c->over_soft_limit());
    } else if (c->state() == Connection::State::Http) {
      // Between requests (or inside one that has not arrived whole): nothing to answer.
      c->abort();
    }
  }
  uv_timer_start(&grace_timer_, on_grace_expired, static_cast<std::uint64_t>(config_.server.shutdown_grace_ms), 0);
  maybe_finish_shutdown();
}

void Server::on_grace_expired(uv_timer_t* t) {
  auto* self = static_cast<Server*>(t->data);
  spdlog::info("shutdown grace over: dropping {} connection(s)", self->connections_.size());
  for (auto& [id, conn] : self->connections_) conn->abort();  // safe to walk: see on_sweep
  self->maybe_finish_shutdown();
}

void Server::maybe_finish_shutdown() {
  if (stopped_ || !connections_.empty()) return;
  stopped_ = true;
  // Every handle of ours is closed, so uv_run returns once these close callbacks have run.
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&sweep_timer_), reinterpret_cast<uv_handle_t*>(&grace_timer_),
                         reinterpret_cast<uv_handle_t*>(&resume_idle_),
                         reinterpret_cast<uv_handle_t*>(&sigint_), reinterpret_cast<uv_handle_t*>(&sigterm_)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
  for (uv_tcp_t* l : {&listener_v4_, &listener_v6_}) {
    auto* h = reinterpret_cast<uv_handle_t*>(l);
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
  if (on_stopped_) on_stopped_();
}

}  // namespace skirmish::server
