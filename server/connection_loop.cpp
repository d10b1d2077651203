#include "server/connection_loop.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>

#include "protocol/http_response.h"
#include "server/http_date.h"

namespace skirmish::server {

namespace {
// Deadlines are checked by one coarse timer over all connections (Valkey's clientsCron),
// not one timer per connection: timeouts of seconds do not need millisecond precision.
constexpr std::uint64_t kSweepIntervalMs = 250;
// A sweep this much later than its interval means the loop did not run meanwhile.
constexpr std::uint64_t kStallMs = 1000;
// How long into a stop connections between requests are kept (at most half the grace): a
// polling client's next request, usually milliseconds behind its last answer, is answered
// (with the notice `closing` and "Connection: close") rather than met with our FIN, so that
// it hears the server is stopping, as a WebSocket does from its 1001.
constexpr std::uint64_t kLastCallMs = 1000;
}  // namespace

ConnectionLoop::ConnectionLoop(Owner& owner, uv_loop_t* loop, std::uint8_t index, const config::Config& config)
    : owner_(owner), loop_(loop), index_(index), config_(config), inbox_(loop) {
  // Loop 0 is the constructing (main) thread's; the others are bound when their thread starts.
  if (index == 0) bind_thread();
  // The send scheduler reads how long each loop waits for I/O (a loop that never does cannot
  // keep up, whatever the CPU numbers say); libuv counts it only when asked, before it runs.
  uv_loop_configure(loop_, UV_METRICS_IDLE_TIME);
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &grace_timer_);
  uv_timer_init(loop_, &last_call_timer_);
  sweep_timer_.data = grace_timer_.data = last_call_timer_.data = this;
  uv_idle_init(loop_, &resume_idle_);
  resume_idle_.data = this;
  uv_timer_start(&sweep_timer_, on_sweep, kSweepIntervalMs, kSweepIntervalMs);
}

Connection* ConnectionLoop::make_connection() {
  const ConnectionContext context{this, loop_, &config_, &stats_, read_buffer_.data(), read_buffer_.size()};
  // The loop's index in the low byte: anyone can tell from an id which loop owns it.
  const ConnId id = (next_seq_++ << 8) | index_;
  return new Connection(*this, context, id);
}

int ConnectionLoop::accept(uv_stream_t* listener) {
  auto* conn = make_connection();
  if (const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(conn->handle())); rc != 0) {
    conn->abort();  // frees itself in its close callback
    return rc;
  }
  started(conn);
  return 0;
}

void ConnectionLoop::adopt(uv_os_sock_t fd) {
  auto* conn = make_connection();
  if (uv_tcp_open(conn->handle(), fd) != 0) {
    ::close(fd);
    conn->abort();
    return;
  }
  started(conn);
}

void ConnectionLoop::started(Connection* conn) {
  stats_.connections_total++;
  connections_[conn->id()] = conn;
  count_.store(connections_.size(), std::memory_order_relaxed);
  conn->start();
  std::optional<std::pair<const char*, const char*>> refused;
  if (shutting_down_) {
    refused = std::make_pair("shutting_down", "the server is shutting down");
  } else {
    refused = owner_.admit(*conn);
  }
  if (refused) {
    // Answered as HTTP whatever the client meant to ask: 503 with Retry-After is what a
    // browser's WebSocket, a load balancer and a person with curl all understand.
    stats_.rejected(refused->first);
    spdlog::debug("conn {} {}: refused: {}", conn->id(), conn->peer(), refused->second);
    conn->respond_and_drain(
        protocol::serialize_response(dated(protocol::make_reject_response({503, refused->second, {{"Retry-After", "5"}}}))));
    return;
  }
  spdlog::debug("conn {} {}: accepted", conn->id(), conn->peer());
}

Connection* ConnectionLoop::find(ConnId id) {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

bool ConnectionLoop::finish_deferred(ConnId id, const protocol::HttpResponse& response) {
  Connection* conn = find(id);
  if (!conn || !conn->awaiting_response()) return false;
  conn->finish_deferred(response);
  return true;
}

void ConnectionLoop::on_open(Connection& conn, const protocol::HttpRequest& request) {
  stats_.websockets_opened++;
  websockets_.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("conn {} {}: websocket open", conn.id(), conn.peer());
  if (shutting_down_ || owner_.shutting_down()) {
    conn.close_websocket(1001, "server shutting down");
    return;
  }
  owner_.opened(conn, request);
}

void ConnectionLoop::on_closed(Connection& conn) {
  spdlog::debug("conn {} {}: closed", conn.id(), conn.peer());
  connections_.erase(conn.id());
  count_.store(connections_.size(), std::memory_order_relaxed);
  if (conn.upgraded()) websockets_.fetch_sub(1, std::memory_order_relaxed);
  owner_.closed(conn);
  maybe_empty();
}

void ConnectionLoop::resume_later(ConnId id) {
  to_resume_.push_back(id);
  uv_idle_start(&resume_idle_, on_resume);
}

void ConnectionLoop::on_resume(uv_idle_t* idle) {
  auto* self = static_cast<ConnectionLoop*>(idle->data);
  std::vector<ConnId> ids;
  ids.swap(self->to_resume_);
  uv_idle_stop(idle);
  for (const ConnId id : ids) {
    if (Connection* c = self->find(id)) c->resume_held_input();
  }
}

void ConnectionLoop::on_sweep(uv_timer_t* t) {
  auto* self = static_cast<ConnectionLoop*>(t->data);
  const std::uint64_t now = uv_now(self->loop_);
  // After the loop itself stood still (the process stopped, a long stall), libuv runs the
  // timers before it reads: a pong or the rest of a request that came meanwhile is waiting
  // unread, so peers must not be judged silent on this turn. The next sweep judges them,
  // after the reads (and one turn is all that is skipped, however late the loop keeps being).
  const bool stood_still = self->last_sweep_ms_ != 0 && now - self->last_sweep_ms_ > kSweepIntervalMs + kStallMs;
  self->last_sweep_ms_ = now;
  if (stood_still && !self->skipped_sweep_) {
    self->skipped_sweep_ = true;
    return;
  }
  self->skipped_sweep_ = false;
  // Walking the map while connections close is safe: they leave it only in their close
  // callback, which libuv runs later, and nothing here accepts new ones.
  std::size_t sum = 0, most = 0;
  for (auto& [id, conn] : self->connections_) {
    conn->on_sweep(now);
    sum += conn->queued_bytes();
    most = std::max(most, conn->queued_bytes());
  }
  self->queued_sum_.store(sum, std::memory_order_relaxed);
  self->queued_max_.store(most, std::memory_order_relaxed);
}

void ConnectionLoop::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& [id, c] : connections_) {  // safe to walk: see on_sweep
    if (c->state() == Connection::State::Open) {
      // A client far behind gets its close frame next, not after its stale tick frames.
      c->close_websocket(1001, "server shutting down", c->over_soft_limit());
    }
  }
  // Requests that come meanwhile are answered with "Connection: close" (server.cpp).
  const auto grace = static_cast<std::uint64_t>(config_.server.shutdown_grace_ms);
  uv_timer_start(&grace_timer_, on_grace_expired, grace, 0);
  uv_timer_start(&last_call_timer_, on_last_call, std::min(kLastCallMs, grace / 2), 0);
  maybe_empty();  // nobody connected: done now
}

void ConnectionLoop::on_last_call(uv_timer_t* t) {
  auto* self = static_cast<ConnectionLoop*>(t->data);
  for (auto& [id, c] : self->connections_) {  // safe to walk: see on_sweep
    if (c->state() == Connection::State::Http && !c->awaiting_response() && !c->request_begun()) {
      // Between requests: nothing to answer. Its next request may be on its way: closed in
      // order (FIN, its bytes read and dropped), not reset, so the client sees the
      // connection end and asks again elsewhere. One whose request is half here gets the
      // rest of the grace to finish it, and its answer (with "Connection: close"; a
      // handshake: 1001).
      c->close_idle();
    }
  }
  self->maybe_empty();
}

void ConnectionLoop::on_grace_expired(uv_timer_t* t) {
  auto* self = static_cast<ConnectionLoop*>(t->data);
  if (!self->connections_.empty()) {
    spdlog::info("shutdown grace over: loop {} drops {} connection(s)", static_cast<int>(self->index()), self->connections_.size());
  }
  self->drop_all();
}

void ConnectionLoop::drop_all() {
  if (!shutting_down_) return;
  uv_timer_stop(&grace_timer_);
  uv_timer_stop(&last_call_timer_);
  for (auto& [id, conn] : connections_) conn->abort();  // safe to walk: see on_sweep
  maybe_empty();
}

void ConnectionLoop::maybe_empty() {
  if (!shutting_down_ || reported_empty_ || !connections_.empty()) return;
  reported_empty_ = true;
  owner_.loop_empty(index_);
}

void ConnectionLoop::close_handles() {
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&sweep_timer_), reinterpret_cast<uv_handle_t*>(&grace_timer_),
                         reinterpret_cast<uv_handle_t*>(&last_call_timer_), reinterpret_cast<uv_handle_t*>(&resume_idle_)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
  inbox_.close();
}

}  // namespace skirmish::server
