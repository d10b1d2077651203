#include "server/server.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <map>
#include <system_error>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "protocol/handshake.h"
#include "protocol/header_text.h"
#include "protocol/http_response.h"
#include "protocol/request_target.h"
#include "server/cpu_allowance.h"
#include "server/json_response.h"
#include "server/loop_pinning.h"
#include "server/metrics_text.h"

namespace skirmish::server {

namespace {
constexpr const char* kWebSocketPath = "/ws";

std::size_t loop_count(const config::Config& config) {
  int n = config.server.io_threads;
  if (n <= 0) {
    // One per core the process may use: the CPUs it may run on, or fewer under a cgroup CPU
    // quota (a container limited to 2 CPUs on a 64-core node gets 2 loops, not 64; a daemon
    // pinned to one CPU gets one loop, not two taking turns on it).
    n = static_cast<int>(std::ceil(usable_cores()));
  }
  return static_cast<std::size_t>(std::clamp(n, 1, 64));
}

std::uint64_t monotonic_ms() { return uv_hrtime() / 1000000; }
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
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  uv_signal_init(loop_, &sighup_);
  uv_signal_init(loop_, &sigquit_);
  uv_signal_init(loop_, &sigusr1_);
  uv_signal_init(loop_, &sigusr2_);
  sigint_.data = sigterm_.data = sighup_.data = sigquit_.data = sigusr1_.data = sigusr2_.data = this;
  started_ms_ = monotonic_ms();
  const std::size_t n = loop_count(config_);
  loop_cpus_ = loop_cpus(config_.server.pin_loops, n, allowed_cpus());
  ConnectionLoop::Owner& owner = *this;
  loops_.push_back(std::make_unique<ConnectionLoop>(owner, loop_, 0, config_));
  for (std::size_t k = 1; k < n; ++k) {
    auto t = std::make_unique<IoThread>();
    uv_loop_init(&t->loop);
    // Set up here, before its thread runs the loop; bound to that thread when it starts.
    loops_.push_back(std::make_unique<ConnectionLoop>(owner, &t->loop, static_cast<std::uint8_t>(k), config_));
    io_threads_.push_back(std::move(t));
  }
  std::vector<ConnectionLoop*> loops;
  std::vector<uv_loop_t*> uv_loops;
  for (auto& l : loops_) {
    loops.push_back(l.get());
    uv_loops.push_back(l->loop());
  }
  fan_out_ = std::make_unique<LoopFanOut>(std::move(loops), std::move(uv_loops), threads_started_);
}

Server::~Server() {
  if (!stopped_) {
    // Unwinding without a stop (an exception after listen): the loops still have their
    // sweep timers and inboxes; close them, or their threads would never end.
    for (std::size_t k = 1; k < loops_.size(); ++k) {
      ConnectionLoop* l = loops_[k].get();
      if (!threads_started_ || !l->post([l] { l->close_handles(); })) {
        if (!threads_started_) l->close_handles();
      }
    }
  }
  join_loops();
  for (auto& t : io_threads_) {
    if (uv_loop_close(&t->loop) != 0) spdlog::warn("an I/O loop closed with handles still open");
  }
}

void Server::join_loops() {
  // The threads end once their loops have nothing left (finish_shutdown closes their handles).
  for (auto& t : io_threads_) {
    if (t->thread.joinable()) {
      t->thread.join();
    } else if (!t->ran) {
      t->ran = true;
      uv_run(&t->loop, UV_RUN_DEFAULT);  // never started: its handles' close callbacks
    }
  }
}

void Server::start_io_threads() {
  for (std::size_t k = 1; k < loops_.size(); ++k) {
    ConnectionLoop* cl = loops_[k].get();
    IoThread* t = io_threads_[k - 1].get();
    const int cpu = loop_cpus_.empty() ? -1 : loop_cpus_[k];
    t->thread = std::thread([cl, t, k, cpu] {
      // Named, so that each loop's CPU can be told apart in top -H and /proc/PID/task/*/comm
      // (loop 0 is the main thread, which keeps the process's name).
      pthread_setname_np(pthread_self(), ("skirmish-loop" + std::to_string(k)).c_str());
      if (cpu >= 0) pin_loop(k, cpu);
      cl->bind_thread();
      uv_run(&t->loop, UV_RUN_DEFAULT);
    });
  }
}

void Server::pin_loop(std::size_t k, int cpu) {
  if (const int err = pin_this_thread(cpu); err != 0) {
    spdlog::warn("event loop {} could not be kept to CPU {}: {}; the scheduler places it (server.pin_loops)", k, cpu,
                 std::system_category().message(err));
  }
}

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

  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  // SIGQUIT stops gracefully too (nginx's graceful stop; by default it would dump core and
  // lose every player since the last save), and the user signals are only logged.
  uv_signal_start(&sigquit_, on_signal, SIGQUIT);
  uv_signal_start(&sigusr1_, on_ignored_signal, SIGUSR1);
  uv_signal_start(&sigusr2_, on_ignored_signal, SIGUSR2);
  // SIGHUP only if it is not ignored: `nohup skirmishd` means "keep running when the terminal
  // closes", and libuv would install its handler over that.
  struct sigaction hup{};
  if (sigaction(SIGHUP, nullptr, &hup) != 0 || hup.sa_handler != SIG_IGN) uv_signal_start(&sighup_, on_signal, SIGHUP);
  start_io_threads();
  threads_started_ = true;
  // Loop 0 last: threads this one starts later (libuv's pool, for a Redis host's lookup)
  // inherit its CPU, and the loops' own threads pin themselves.
  if (!loop_cpus_.empty()) pin_loop(0, loop_cpus_[0]);
  if (loops_.size() > 1) {
    if (loop_cpus_.empty()) {
      spdlog::info("{} event loops (server.io_threads)", loops_.size());
    } else {
      // (A loop that cannot be kept to its CPU says so in a warning of its own.)
      spdlog::info("{} event loops (server.io_threads), each kept to its own CPU: {} (server.pin_loops)", loops_.size(),
                   fmt::join(loop_cpus_, ", "));
    }
  }
  return true;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (status < 0) {
    self->accept_failed("accept", status);
    return;
  }
  // The loops take connections in turn. Loop 0 accepts its own; for another, the socket is
  // accepted here and its descriptor handed over (a libuv handle cannot change loops).
  const std::size_t k = self->next_loop_;
  self->next_loop_ = (self->next_loop_ + 1) % self->loops_.size();
  if (k == 0) {
    if (const int rc = self->loops_[0]->accept(listener); rc != 0) self->accept_failed("accept", rc);
    return;
  }
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(self->loop_, tcp);
  if (const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(tcp)); rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    self->accept_failed("accept", rc);
    return;
  }
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
  const int owned = ::dup(fd);  // the loop's own descriptor; this handle closes the original
  const int dup_error = errno;   // before uv_close, which may change it
  uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  if (owned < 0) {
    self->accept_failed("dup (to hand it to its loop)", uv_translate_sys_error(dup_error));
    return;
  }
  ConnectionLoop* target = self->loops_[k].get();
  if (!target->post([target, owned] { target->adopt(owned); })) ::close(owned);
}

void Server::accept_failed(const char* what, int uv_error) {
  const std::uint64_t failures = ++accept_failures_;
  const std::uint64_t now = uv_now(loop_);
  if (accept_warned_ms_ != 0 && now - accept_warned_ms_ < 10000) return;
  const std::uint64_t unsaid = failures - accept_failures_said_ - 1;
  accept_warned_ms_ = now;
  accept_failures_said_ = failures;
  const bool out_of_files = uv_error == UV_EMFILE || uv_error == UV_ENFILE;
  spdlog::warn("a connection could not be taken: {} failed: {}{}{}", what, uv_strerror(uv_error),
               out_of_files ? " (the open-file limit: raise it)" : "",
               unsaid ? fmt::format("; {} more since the last warning", unsaid) : std::string());
}

std::optional<std::pair<const char*, const char*>> Server::admit(Connection& conn) {
  if (connection_count() > std::min(static_cast<std::size_t>(config_.server.max_connections), descriptor_cap_)) {
    return std::make_pair("over_max_connections", "the server is full, try again shortly");
  }
  // A trusted proxy's connection counts under the client its first request names (identify).
  std::lock_guard<std::mutex> lock(admission_mutex_);
  const bool via_proxy = trusted_proxies_.contains(conn.tcp_ip());
  conn.set_ip_counted(!via_proxy);
  if (via_proxy) return std::nullopt;
  const int from_ip = ++per_ip_[std::string(conn.ip())];
  const int limit = config_.server.max_connections_per_ip;
  if (limit > 0 && from_ip > limit) return std::make_pair("over_max_per_ip", "too many connections from your address");
  return std::nullopt;
}

void Server::release_ip(Connection& conn) {
  if (!conn.ip_counted()) return;
  std::lock_guard<std::mutex> lock(admission_mutex_);
  if (auto it = per_ip_.find(std::string(conn.ip())); it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
}

std::optional<protocol::HttpReject> Server::refuse_websocket(const std::string& target) const {
  const auto path = protocol::normalize_path(target);
  if (!path || *path != kWebSocketPath) return protocol::HttpReject{404, "no WebSocket endpoint here: use /ws", {}};
  return app_ ? app_->refuse_websocket(target) : std::nullopt;
}

std::optional<protocol::HttpResponse> Server::identify(Connection& conn, const protocol::HttpRequest& request) {
  if (trusted_proxies_.empty() || !trusted_proxies_.contains(conn.tcp_ip())) return std::nullopt;
  // The proxy nearest us wrote the last value: "https" (any case) means the client came over TLS.
  const auto proto = protocol::joined_header(request.headers, "x-forwarded-proto");
  std::string_view last = proto ? std::string_view(*proto) : std::string_view();
  if (const std::size_t comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
  conn.set_secure(protocol::iequals(protocol::trim(last), "https"));
  // Every X-Forwarded-For line, in order: a proxy may add a line of its own rather than append.
  const auto forwarded = protocol::joined_header(request.headers, "x-forwarded-for");
  std::string client = protocol::client_address(trusted_proxies_, conn.tcp_ip(), forwarded ? &*forwarded : nullptr);
  // Through a proxy, only a connection that stays (a WebSocket, a long poll) counts against
  // its client's address: behind HTTP/2 a browser loads the page's files over as many
  // upstream connections as it has requests in flight (17 at once for the demo), each gone in
  // milliseconds. Counting those refused the page's scripts under a limit of 5.
  const bool stays = protocol::wants_websocket(request) || holds_connection(request);
  if (!stays) {
    release_ip(conn);  // a keep-alive connection that held a WebSocket's count before
    conn.set_ip_counted(false);
    conn.set_client(std::move(client));
    return std::nullopt;
  }
  if (conn.ip_counted() && protocol::limit_key(client) == conn.ip()) {
    conn.set_client(std::move(client));  // counted already (under the same key); the logs name it
    return std::nullopt;
  }
  int from_ip = 0;
  {
    std::lock_guard<std::mutex> lock(admission_mutex_);
    if (conn.ip_counted()) {
      // A proxy that reuses one connection for several clients: move it to the new one.
      if (auto it = per_ip_.find(std::string(conn.ip())); it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
    }
    from_ip = ++per_ip_[protocol::limit_key(client)];
  }
  conn.set_client(std::move(client));
  conn.set_ip_counted(true);
  const int limit = config_.server.max_connections_per_ip;
  if (limit > 0 && from_ip > limit) {
    // Counted by the connection's own loop, whose thread this is.
    loops_.at(conn.loop_port().index())->stats().rejected("over_max_per_ip");
    spdlog::debug("conn {} {}: refused: too many connections from your address", conn.id(), conn.peer());
    return protocol::make_reject_response({503, "too many connections from your address", {{"Retry-After", "5"}}});
  }
  return std::nullopt;
}

protocol::HttpResponse Server::health_response(const protocol::HttpRequest& request) const {
  const bool stopping = shutting_down_.load();
  nlohmann::json body = {
      {"status", stopping ? "stopping" : "ok"},
      {"uptime_s", static_cast<double>(monotonic_ms() - started_ms_) / 1000.0},
      {"connections", connection_count()},
      {"websockets_opened", stats().websockets_opened},
      {"loops", loops_.size()},
  };
  if (app_) app_->describe(body);
  return json_response(request, stopping ? 503 : 200, body.dump() + "\n");
}

std::size_t Server::connection_count() const {
  std::size_t n = 0;
  for (const auto& l : loops_) n += l->size();
  return n;
}

ServerStats::Snapshot Server::stats() const {
  ServerStats::Snapshot total;
  for (const auto& l : loops_) total += l->stats().snapshot();
  return total;
}

std::optional<protocol::HttpResponse> Server::respond(Connection& conn, const protocol::HttpRequest& request) {
  bool routed = false;
  auto response = route_or_file(conn, request, routed);
  // Stopping: whatever is answered now ends its connection, so no idle one is left behind. (A
  // route's answer was decided under the game's lock: see run_route.)
  if (response && !routed && shutting_down()) response->keep_alive = false;
  return response;
}

std::optional<protocol::HttpResponse> Server::route_or_file(Connection& conn, const protocol::HttpRequest& request,
                                                            bool& routed) {
  const RequestOrigin origin{conn.id(), conn.ip(), conn.secure()};
  const auto path = protocol::normalize_path(request.target);
  protocol::HttpResponse r;
  r.keep_alive = request.keep_alive;
  if (!path) {
    // The two targets that are not paths and still well formed (RFC 9112 3.2.3, 3.2.4): the
    // server as a whole asked what it takes, and a tunnel asked of a server that is no proxy.
    if (request.method == "OPTIONS" && request.target == "*") {
      r.headers.push_back({"Allow", "GET, HEAD, POST, DELETE"});
      return r;
    }
    if (request.method == "CONNECT") {
      return protocol::make_reject_response({501, "this server is no proxy: CONNECT is not supported", {}});
    }
    return protocol::make_reject_response({400, "bad request target", {}});
  }
  // A route that throws (a bug, or input nobody thought of) costs its request a 500, never
  // the process: an exception must not unwind through libuv. Routes are the application's:
  // its mutex is held.
  auto run_route = [&](const Route& route) -> std::optional<protocol::HttpResponse> {
    routed = true;
    std::unique_lock<std::recursive_mutex> lock;
    if (app_) lock = std::unique_lock<std::recursive_mutex>(app_->mutex());
    try {
      auto response = route(request, origin);
      // Under the lock under which a stop begins and tells the polling sessions: an answer
      // that ends its connection for the stop came after the notice (a poll's carries it);
      // one from before the stop keeps its connection, for the next poll to hear it.
      if (response && shutting_down()) response->keep_alive = false;
      return response;
    } catch (const std::exception& e) {
      spdlog::error("conn {} {}: {} {} failed: {}", conn.id(), conn.peer(), request.method, *path, e.what());
      auto failed = protocol::make_reject_response({500, "internal error", {}});
      failed.keep_alive = false;
      return failed;
    }
  };
  if (const auto route = routes_.find(*path); route != routes_.end()) return run_route(route->second);
  // Prefix routes ("/session/") own everything below them.
  for (auto slash = path->rfind('/'); slash != std::string::npos && slash > 0; slash = path->rfind('/', slash - 1)) {
    if (const auto route = routes_.find(path->substr(0, slash + 1)); route != routes_.end()) {
      return run_route(route->second);
    }
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto reject = protocol::make_reject_response({405, "only GET and HEAD are allowed here", {{"Allow", "GET, HEAD"}}});
    reject.keep_alive = request.keep_alive;
    return reject;
  }
  if (*path == kWebSocketPath) {
    auto reject = protocol::make_reject_response(
        {426, "this is the WebSocket endpoint: connect with a WebSocket client",
         {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"}}});
    reject.keep_alive = request.keep_alive;
    return reject;
  }
  if (*path == "/healthz" || *path == "/metrics") {
    std::unique_lock<std::recursive_mutex> lock;
    if (app_) lock = std::unique_lock<std::recursive_mutex>(app_->mutex());
    return *path == "/healthz" ? health_response(request) : metrics_response(request);
  }
  return files_.respond(*path, request);
}

protocol::HttpResponse Server::metrics_response(const protocol::HttpRequest& request) const {
  MetricsText m;
  const ServerStats::Snapshot st = stats();
  std::size_t queued_sum = 0, queued_max = 0, websockets = 0;
  for (const auto& l : loops_) {
    queued_sum += l->queued_sum();
    queued_max = std::max(queued_max, l->queued_max());
    websockets += l->websockets();
  }
  m.gauge("skirmish_connections", "TCP connections open now", static_cast<double>(connection_count()));
  m.gauge("skirmish_websockets", "WebSocket connections open now", static_cast<double>(websockets));
  m.gauge("skirmish_event_loops", "event loops serving connections (server.io_threads)", static_cast<double>(loops_.size()));
  {
    std::map<int, double> per_loop;
    for (const auto& l : loops_) per_loop[l->index()] = static_cast<double>(l->size());
    m.labelled("gauge", "skirmish_loop_connections", "TCP connections open now, by the event loop that owns them", "loop",
               per_loop);
  }
  m.counter("skirmish_connections_total", "TCP connections accepted", static_cast<double>(st.connections_total));
  m.counter("skirmish_accept_failures_total", "connections that could not be taken (out of descriptors, mostly)",
            static_cast<double>(accept_failures_.load()));
  m.labelled("counter", "skirmish_connections_rejected_total", "connections refused over the limits: at accept, or at the first request when a trusted proxy names the client", "reason",
             st.rejected_by_reason);
  m.counter("skirmish_http_requests_total", "HTTP requests answered", static_cast<double>(st.http_requests));
  m.counter("skirmish_websockets_opened_total", "WebSocket handshakes accepted", static_cast<double>(st.websockets_opened));
  m.labelled("counter", "skirmish_handshake_failures_total", "requests refused, by HTTP status", "status",
             st.handshake_failures);
  m.labelled("counter", "skirmish_websocket_closes_total", "close frames sent or echoed, by close code", "code",
             st.ws_closes);
  m.labelled("counter", "skirmish_connections_ended_total", "connections ended by the server, by reason", "reason",
             st.closes_by_reason);
  m.counter("skirmish_frames_received_total", "WebSocket frames received", static_cast<double>(st.frames_in));
  m.counter("skirmish_frames_sent_total", "WebSocket frames sent", static_cast<double>(st.frames_out));
  m.counter("skirmish_bytes_received_total", "bytes received", static_cast<double>(st.bytes_in));
  m.counter("skirmish_bytes_sent_total", "bytes handed to the kernel or queued", static_cast<double>(st.bytes_out));
  m.counter("skirmish_messages_over_rate_total", "client messages that waited for server.max_messages_per_second",
            static_cast<double>(st.messages_over_rate));
  m.counter("skirmish_pings_coalesced_total",
            "pings past the message allowance answered only by the pong of a later ping sent with them",
            static_cast<double>(st.pings_coalesced));
  m.counter("skirmish_reads_paused_total", "times a connection's reading paused for that limit",
            static_cast<double>(st.reads_paused));
  m.gauge("skirmish_queued_bytes", "bytes waiting to be sent, all connections (as of the last sweep)",
          static_cast<double>(queued_sum));
  m.gauge("skirmish_queued_bytes_max", "bytes waiting to be sent, the worst connection (as of the last sweep)",
          static_cast<double>(queued_max));
  if (app_) app_->write_metrics(m);
  {
    std::lock_guard<std::mutex> lock(metrics_sources_mutex_);
    for (const auto& source : metrics_sources_) source(m);
  }
  protocol::HttpResponse r;
  r.keep_alive = request.keep_alive;
  r.head_only = request.method == "HEAD";
  r.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}, {"Cache-Control", "no-store"}};
  r.body = m.take();
  return r;
}

void Server::opened(Connection& conn, const protocol::HttpRequest& request) {
  if (!app_) return;
  std::lock_guard<std::recursive_mutex> lock(app_->mutex());
  app_->on_open(conn, request);
}

void Server::text(Connection& conn, std::string_view text) {
  if (app_) app_->on_text(conn, text);  // the application takes its mutex once it has decoded
}

void Server::binary(Connection& conn, std::string_view data) {
  if (app_) app_->on_binary(conn, data);
}

void Server::closed(Connection& conn) {
  release_ip(conn);
  if (!app_) return;
  std::lock_guard<std::recursive_mutex> lock(app_->mutex());
  if (conn.upgraded()) app_->on_close(conn);
  if (conn.awaiting_response() && deferred_gone_) deferred_gone_(conn.id());
}

void Server::finish_deferred(ConnId id, protocol::HttpResponse response, std::function<void()> if_gone) {
  const std::size_t k = static_cast<std::size_t>(id & 0xff);
  if (k >= loops_.size()) return;
  ConnectionLoop* target = loops_[k].get();
  if (shutting_down()) response.keep_alive = false;
  // Shared: the task may run, or (its loop stopped) not, and the caller then calls it.
  auto gone = std::make_shared<std::function<void()>>(std::move(if_gone));
  auto deliver = [this, target, id, response = std::move(response), gone] {
    if (target->finish_deferred(id, response) || !*gone) return;
    std::unique_lock<std::recursive_mutex> lock;
    if (app_) lock = std::unique_lock<std::recursive_mutex>(app_->mutex());
    (*gone)();
  };
  if (target->on_thread()) {
    deliver();
  } else if (!target->post(std::move(deliver)) && *gone) {
    (*gone)();  // that loop has stopped: the connection is gone (the caller holds the mutex)
  }
}

namespace {

const char* signal_name(int signum) {
  switch (signum) {
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "SIGTERM";
  }
}

}  // namespace

void Server::on_ignored_signal(uv_signal_t*, int signum) {
  spdlog::warn("received {}: ignored (SIGTERM, SIGINT, SIGHUP or SIGQUIT stop the server, saving its players)",
               signal_name(signum));
}

void Server::on_signal(uv_signal_t* s, int signum) {
  auto* self = static_cast<Server*>(s->data);
  const char* name = signal_name(signum);
  if (!self->shutting_down()) {
    spdlog::info("received {}, shutting down", name);
    self->begin_shutdown();
    return;
  }
  // A second signal (Ctrl-C again) means "now": the players are still saved, but nobody's
  // close handshake is waited for any longer.
  spdlog::warn("received {} while stopping: dropping every connection now", name);
  for (std::size_t k = 1; k < self->loops_.size(); ++k) {
    ConnectionLoop* l = self->loops_[k].get();
    l->post([l] { l->drop_all(); });
  }
  self->loops_[0]->drop_all();
}

void Server::begin_shutdown() {
  {
    // The flag and the application's word to its clients under one hold of its lock, which
    // routes answer under: a poll on another loop is answered before both (kept alive) or
    // after both (with the notice), never with "Connection: close" and no word why.
    std::unique_lock<std::recursive_mutex> lock;
    if (app_) lock = std::unique_lock<std::recursive_mutex>(app_->mutex());
    if (shutting_down_.exchange(true)) return;
    // Requests the application holds (long polls) are answered first, with "Connection:
    // close"; on the other loops those answers are posted ahead of the loop's own shutdown below.
    if (app_) app_->on_server_stopping();
  }
  if (v4_open_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_v4_), nullptr);
  if (v6_open_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_v6_), nullptr);
  v4_open_ = v6_open_ = false;
  for (std::size_t k = 1; k < loops_.size(); ++k) {
    ConnectionLoop* l = loops_[k].get();
    if (!threads_started_) {
      l->begin_shutdown();  // never ran (listen failed): no connection, nothing else touches it
    } else if (!l->post([l] { l->begin_shutdown(); })) {
      loop_empty(static_cast<std::uint8_t>(k));
    }
  }
  loops_[0]->begin_shutdown();
}

void Server::loop_empty(std::uint8_t index) {
  if (index != 0) {
    // Told on loop 0's thread, where the count lives.
    loops_[0]->post([this] {
      if (++loops_empty_ == loops_.size()) finish_shutdown();
    });
    return;
  }
  if (++loops_empty_ == loops_.size()) finish_shutdown();
}

void Server::finish_shutdown() {
  if (stopped_) return;
  stopped_ = true;
  // The players are saved while our signal handles are still open: a signal that comes
  // meanwhile is only written to libuv's pipe (and never read: the handles close below).
  if (on_stopped_) on_stopped_();
  // Closing its last handle for a signal gives it back its default action (the end of the
  // process) at once: the rest of the stop (the loops' threads joined) is short, and its exit
  // status is the save's, so each is ignored the moment its handle goes (between the two
  // calls, under a microsecond, a signal still ends the process).
  for (auto [handle, signum] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}, std::pair{&sighup_, SIGHUP},
                                std::pair{&sigquit_, SIGQUIT}, std::pair{&sigusr1_, SIGUSR1}, std::pair{&sigusr2_, SIGUSR2}}) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
    std::signal(signum, SIG_IGN);
  }
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&listener_v4_), reinterpret_cast<uv_handle_t*>(&listener_v6_)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
  // Every loop's own handles close; each thread's uv_run then returns, and uv_run on loop 0
  // once these close callbacks have run. The destructor joins the threads.
  for (std::size_t k = 1; k < loops_.size(); ++k) {
    ConnectionLoop* l = loops_[k].get();
    if (threads_started_) {
      l->post([l] { l->close_handles(); });
    } else {
      l->close_handles();  // its loop runs once more in the destructor, for the close callbacks
    }
  }
  loops_[0]->close_handles();
}

}  // namespace skirmish::server
