// The daemon's front: the listeners, the event loops that own the connections (loop 0 on the
// main thread, server.io_threads - 1 more on threads of their own), routes, /healthz,
// /metrics, signals and the graceful stop. This (with the rest of server/) is the only code
// that touches libuv.
//
// Threads: each loop handles its own connections' bytes; what they ask of the application
// (the game: WebSocket messages, routes, /healthz and /metrics numbers) runs on the
// connection's loop with the application's mutex held, so the game state is only ever
// touched by one thread at a time. A tick's frames are built and written on every loop at
// once (FanOutRunner), with no lock held.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "protocol/forwarded_for.h"
#include "protocol/handshake.h"
#include "protocol/http_types.h"
#include "server/app_host.h"
#include "server/connection.h"
#include "server/connection_loop.h"
#include "server/fan_out.h"
#include "server/loop_fan_out.h"
#include "server/server_stats.h"
#include "server/static_files.h"
#include "server/ws_application.h"

namespace skirmish::server {

class MetricsText;

class Server final : public AppHost, private ConnectionLoop::Owner {
 public:
  Server(uv_loop_t* loop, const config::Config& config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds and listens, and starts the other loops' threads; returns false (after logging why)
  // when the address is unusable.
  bool listen();
  // AppHost: what the application sees of the server (app_host.h says what each does).
  void add_route(std::string path, Route handler) override { routes_[std::move(path)] = std::move(handler); }
  void set_deferred_gone_handler(std::function<void(ConnId)> on_gone) override { deferred_gone_ = std::move(on_gone); }
  void finish_deferred(ConnId id, protocol::HttpResponse response, std::function<void()> if_gone) override;
  std::uint64_t now_ms() const override { return uv_hrtime() / 1000000; }
  bool shutting_down() const override { return shutting_down_.load(); }
  int port() const override { return port_; }
  std::size_t connection_count() const override;
  FanOutRunner& loops() override { return *fan_out_; }

  std::size_t event_loops() const { return loops_.size(); }
  // Stops accepting, closes every WebSocket with 1001 and lets the loops end once they are
  // gone or the shutdown grace has passed. Idempotent. Loop 0's thread.
  void begin_shutdown();

  void set_application(WsApplication* app) { app_ = app; }
  // Called once the stop is complete (every connection gone), on loop 0, before the loops'
  // handles close.
  void set_on_stopped(std::function<void()> cb) { on_stopped_ = std::move(cb); }
  // Connections held at most, when the open-file limit allows fewer than
  // server.max_connections: the rest of the descriptors stay for the daemon's own (a save of
  // its players, a health report to Agones, Redis). Before listen().
  void set_descriptor_cap(std::size_t connections) { descriptor_cap_ = connections; }
  // More numbers for /metrics (e.g. the Agones sidecar's), after the application's. Any time,
  // from any thread: the loops may be serving /metrics already.
  void add_metrics_source(std::function<void(MetricsText&)> source) {
    std::lock_guard<std::mutex> lock(metrics_sources_mutex_);
    metrics_sources_.push_back(std::move(source));
  }

  uv_loop_t* loop() { return loop_; }
  // After loop 0's uv_run has returned: waits for the other loops' threads to end (they run
  // what was posted to them first). Call it before destroying what their tasks may touch
  // (the application). Idempotent.
  void join_loops();
  const config::Config& config() const { return config_; }
  // Every loop's counters added up.
  ServerStats::Snapshot stats() const;

 private:
  // A further loop: its own libuv loop and connections, run by a thread of its own.
  struct IoThread {
    uv_loop_t loop;
    std::thread thread;
    bool ran = false;  // never started, but run once to close its handles
  };

  // ConnectionLoop::Owner: what every loop asks of the server, on its own thread.
  std::optional<std::pair<const char*, const char*>> admit(Connection& conn) override;
  std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) override;
  std::optional<protocol::HttpReject> refuse_websocket(const std::string& target) const override;
  bool holds_connection(const protocol::HttpRequest& request) const override {
    return app_ && app_->holds_connection(request);
  }
  std::optional<protocol::HttpResponse> respond(Connection& conn, const protocol::HttpRequest& request) override;
  // `routed`: the answer is a route's (its keep-alive decided under the game's lock).
  std::optional<protocol::HttpResponse> route_or_file(Connection& conn, const protocol::HttpRequest& request,
                                                      bool& routed);
  void opened(Connection& conn, const protocol::HttpRequest& request) override;
  void text(Connection& conn, std::string_view text) override;
  void binary(Connection& conn, std::string_view data) override;
  void closed(Connection& conn) override;
  void loop_empty(std::uint8_t index) override;

  // Keeps the calling thread (loop k's) on `cpu`; says so in the log when it cannot.
  static void pin_loop(std::size_t k, int cpu);
  static void on_connection(uv_stream_t* listener, int status);
  void accept_failed(const char* what, int uv_error);
  static void on_signal(uv_signal_t* s, int signum);
  static void on_ignored_signal(uv_signal_t* s, int signum);

  bool listen_on(uv_tcp_t& tcp, const std::string& host, int port, bool ipv6_only);
  void start_io_threads();
  void finish_shutdown();
  void release_ip(Connection& conn);
  protocol::HttpResponse health_response(const protocol::HttpRequest& request) const;
  protocol::HttpResponse metrics_response(const protocol::HttpRequest& request) const;

  uv_loop_t* loop_;
  config::Config config_;
  StaticFiles files_;
  WsApplication* app_ = nullptr;
  std::function<void()> on_stopped_;
  mutable std::mutex metrics_sources_mutex_;
  std::vector<std::function<void(MetricsText&)>> metrics_sources_;

  // Listeners: the configured address and, when that is the IPv4 wildcard, the IPv6 one too.
  uv_tcp_t listener_v4_;
  uv_tcp_t listener_v6_;
  bool v4_open_ = false;
  bool v6_open_ = false;
  int port_ = 0;
  std::size_t next_loop_ = 0;  // accepted connections go to the loops in turn
  std::size_t descriptor_cap_ = SIZE_MAX;
  // Connections that could not be taken (out of descriptors, mostly), on loop 0; logged
  // at most every 10 s with the count since, so a full descriptor table does not flood the log.
  std::atomic<std::uint64_t> accept_failures_{0};
  std::uint64_t accept_failures_said_ = 0;
  std::uint64_t accept_warned_ms_ = 0;

  // loops_[0] runs on loop_; loops_[k] (k >= 1) on io_threads_[k - 1].
  std::vector<std::unique_ptr<ConnectionLoop>> loops_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;
  std::vector<int> loop_cpus_;  // the CPU each loop keeps to (server.pin_loops), or empty
  std::size_t loops_empty_ = 0;  // loop 0's thread: loops that have closed all their connections
  std::atomic<bool> threads_started_{false};  // read by the loops' threads (LoopFanOut::on_loop)

  // SIGINT, SIGTERM and SIGHUP (a closed terminal) all stop the daemon gracefully.
  uv_signal_t sigint_;
  uv_signal_t sigterm_;
  uv_signal_t sighup_;
  uv_signal_t sigquit_;
  // Signals whose default would end the process without saving (an operator's logrotate hook
  // sending nginx's USR1): logged and ignored.
  uv_signal_t sigusr1_;
  uv_signal_t sigusr2_;
  std::atomic<bool> shutting_down_{false};
  bool stopped_ = false;
  std::uint64_t started_ms_ = 0;

  std::unordered_map<std::string, Route> routes_;  // fixed once listening: read by every loop
  std::function<void(ConnId)> deferred_gone_;

  // Admission, shared by every loop.
  std::mutex admission_mutex_;
  std::unordered_map<std::string, int> per_ip_;  // open connections by client address (Connection::ip(): its limit key)
  protocol::AddressSet trusted_proxies_;         // server.trusted_proxies

  std::unique_ptr<LoopFanOut> fan_out_;  // over loops_
};

}  // namespace skirmish::server
