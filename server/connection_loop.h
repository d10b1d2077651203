// The connections of one event loop. Loop 0 runs on the main thread beside the listeners; each
// further loop (server.io_threads) on a thread of its own. A loop reads, parses and writes only
// its own connections, sweeps their deadlines, and closes them at shutdown; what they ask for
// (routes, the game) goes to its Owner, the server, which is the same object for every loop.
#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "server/connection.h"
#include "server/connection_host.h"
#include "server/loop_inbox.h"
#include "server/server_stats.h"

namespace skirmish::server {

class ConnectionLoop final : public LoopPort, private ConnectionHost {
 public:
  // What a loop asks of the server, from the loop's own thread.
  class Owner {
   public:
    virtual ~Owner() = default;
    // A new connection: counted (per client address, in all), or refused with this reason
    // ("over_max_connections", ...) and its text.
    virtual std::optional<std::pair<const char*, const char*>> admit(Connection& conn) = 0;
    virtual std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) = 0;
    virtual std::optional<protocol::HttpReject> refuse_websocket(const std::string& target) const = 0;
    virtual bool holds_connection(const protocol::HttpRequest& request) const = 0;
    virtual std::optional<protocol::HttpResponse> respond(Connection& conn, const protocol::HttpRequest& request) = 0;
    virtual void opened(Connection& conn, const protocol::HttpRequest& request) = 0;
    virtual void text(Connection& conn, std::string_view text) = 0;
    virtual void binary(Connection& conn, std::string_view data) = 0;
    // The connection is gone; it is freed right after.
    virtual void closed(Connection& conn) = 0;
    // Shutting down, this loop has no connection left.
    virtual void loop_empty(std::uint8_t index) = 0;
    virtual bool shutting_down() const = 0;
  };

  // `loop` has not started running yet, or this is called on its thread.
  ConnectionLoop(Owner& owner, uv_loop_t* loop, std::uint8_t index, const config::Config& config);
  ConnectionLoop(const ConnectionLoop&) = delete;
  ConnectionLoop& operator=(const ConnectionLoop&) = delete;

  std::uint8_t index() const override { return index_; }
  uv_loop_t* loop() { return loop_; }
  // The loop's thread is the caller.
  bool on_thread() const override { return std::this_thread::get_id() == thread_.load(); }
  // Called on the loop's thread before it handles anything.
  void bind_thread() { thread_.store(std::this_thread::get_id()); }
  // Any thread: `task` runs on this loop. False when the loop has stopped (dropped).
  bool post(std::function<void()> task) override { return inbox_.post(std::move(task)); }

  // On this loop's thread: take a connection from a listener of this loop, or a socket
  // accepted on another loop (it is ours to close). accept() returns uv_accept's error, 0 if
  // it took the connection.
  int accept(uv_stream_t* listener);
  void adopt(uv_os_sock_t fd);
  Connection* find(ConnId id) override;
  // Answers a request the owner deferred. False when that connection is gone.
  bool finish_deferred(ConnId id, const protocol::HttpResponse& response);

  // Gauges, read from any thread: connections and WebSockets open now (exact), and the
  // bytes queued for sending, their sum and the most on one connection (as of the last sweep,
  // a quarter of a second ago at most).
  std::size_t size() const { return count_.load(std::memory_order_relaxed); }
  std::size_t websockets() const { return websockets_.load(std::memory_order_relaxed); }
  std::size_t queued_sum() const { return queued_sum_.load(std::memory_order_relaxed); }
  std::size_t queued_max() const { return queued_max_.load(std::memory_order_relaxed); }
  ServerStats& stats() { return stats_; }
  const ServerStats& stats() const { return stats_; }

  // On this loop's thread. Closes every WebSocket with 1001, and HTTP connections between
  // requests a moment later (a request that comes meanwhile is answered, with "Connection:
  // close"); after server.shutdown_grace_ms the rest are dropped. The owner hears
  // loop_empty() once no connection is left.
  void begin_shutdown();
  // On this loop's thread, after begin_shutdown: ends the grace now (a second signal) and drops
  // every connection left.
  void drop_all();
  // On this loop's thread, after begin_shutdown's loop_empty: closes the loop's own handles.
  void close_handles();

 private:
  // ConnectionHost: what connections ask of us.
  std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) override {
    return owner_.identify(conn, request);
  }
  std::optional<protocol::HttpReject> refuse_websocket(const std::string& target) const override {
    return owner_.refuse_websocket(target);
  }
  bool holds_connection(const protocol::HttpRequest& request) const override {
    return owner_.holds_connection(request);
  }
  std::optional<protocol::HttpResponse> on_request(Connection& conn, const protocol::HttpRequest& request) override {
    return owner_.respond(conn, request);
  }
  void on_open(Connection& conn, const protocol::HttpRequest& request) override;
  void on_text(Connection& conn, std::string_view text) override { owner_.text(conn, text); }
  void on_binary(Connection& conn, std::string_view data) override { owner_.binary(conn, data); }
  void on_closed(Connection& conn) override;
  void resume_later(ConnId id) override;

  Connection* make_connection();
  void started(Connection* conn);
  void maybe_empty();
  static void on_sweep(uv_timer_t* t);
  static void on_grace_expired(uv_timer_t* t);
  static void on_last_call(uv_timer_t* t);
  static void on_resume(uv_idle_t* idle);

  Owner& owner_;
  uv_loop_t* loop_;
  std::uint8_t index_;
  const config::Config& config_;
  // The thread that runs the loop; until it starts, none (nobody is "on" it).
  std::atomic<std::thread::id> thread_;
  LoopInbox inbox_;
  ServerStats stats_;
  uv_timer_t sweep_timer_;
  std::uint64_t last_sweep_ms_ = 0;
  bool skipped_sweep_ = false;  // the last sweep came after a stall and judged nobody
  uv_timer_t grace_timer_;
  uv_timer_t last_call_timer_;  // a stop: when connections between requests are closed
  uv_idle_t resume_idle_;
  std::vector<ConnId> to_resume_;
  std::uint64_t next_seq_ = 1;
  std::unordered_map<ConnId, Connection*> connections_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::size_t> websockets_{0};
  std::atomic<std::size_t> queued_sum_{0}, queued_max_{0};
  bool shutting_down_ = false;
  bool reported_empty_ = false;
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace skirmish::server
