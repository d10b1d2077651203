#include "loadtest/worker.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <fcntl.h>
#include <sys/socket.h>
#include <optional>
#include <unistd.h>

#include "loadtest/frame_scanner.h"
#include "loadtest/kernel_timestamp.h"
#include "loadtest/tick_tracker.h"
#include "loadtest/view_state.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "protocol/tick_v2.h"

namespace skirmish::loadtest {

namespace {

constexpr std::size_t kReadBufferBytes = 256 * 1024;
constexpr int kReadsPerPoll = 32;  // as libuv's own read loop: then other sockets get a turn
constexpr std::uint64_t kInputTimerMs = 10;
// After a stall, at most this much of a client's input schedule (and at least one input) is
// sent at once; older inputs owed are dropped (inputs_due).
constexpr std::uint64_t kMaxInputLagNs = 100 * 1000000ull;
constexpr std::uint64_t kSweepTimerMs = 50;
constexpr std::uint16_t kNormalClose = 1000;
constexpr std::uint16_t kAbnormalClose = 1006;  // no close frame: the connection just ended

std::uint64_t wall_clock_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

std::string uv_error_kind(const char* what, int status) { return std::string(what) + ": " + uv_err_name(status); }

// A close frame's payload: the code, most significant byte first, and no reason.
// Codes that must not appear on the wire (1005, 1006, 1015) give an empty payload.
std::string close_payload(std::uint16_t code) {
  if (code == 1005 || code == 1006 || code == 1015) return {};
  return {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

struct WriteRequest {
  uv_write_t req{};
  std::string bytes;
};

}  // namespace

// One simulated player. Its uv_tcp_t lives here, so a Client is never moved or freed
// while the loop runs (the worker owns them through unique_ptr until it is destroyed).
struct Worker::Client {
  enum class State : std::uint8_t { Pending, Connecting, Handshaking, Open, Closing, Closed };

  Worker* worker = nullptr;
  std::uint32_t index = 0;
  State state = State::Pending;
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  // --kernel-timestamps: reads go through this poll on a dup of tcp's fd (its own fd number,
  // so libuv's per-fd watchers do not clash); tcp keeps the writes. polling: poll is
  // initialised and must be closed; its close callback closes dup_fd.
  uv_poll_t poll{};
  int dup_fd = -1;
  bool polling = false;
  std::uint64_t started_ns = 0;  // when the connect began; later, when our close began
  std::uint64_t opened_us = 0;   // when the upgrade completed (uv_hrtime), for ConnectedTime
  std::optional<UpgradeResponseReader> upgrade;
  protocol::FrameDecoder decoder{protocol::WsLimits{}, protocol::Role::Client};
  TickTracker ticks;
  TickWindow window;       // its frames in the measured window (updated while it is open)
  bool in_window = false;  // open when the window started
  ViewState view;
  std::unique_ptr<protocol::v2::TickDecoder> v2;  // binary ticks (--protocol v2), made at the first
  std::uint32_t self_id = 0;
  bool tracks_view = true;
  bool joined = false;
  bool we_closed = false;  // we sent the first close frame (the end of the run)
  bool peer_closed = false;
  int close_code = 0;
  std::uint32_t seq = 0;
  std::uint64_t next_input_ns = 0;
  Intent intent;
};

Worker::Worker(WorkerConfig config, std::vector<std::uint32_t> client_indices)
    : config_(std::move(config)), rng_(config_.seed), read_buffer_(kReadBufferBytes) {
  clients_.reserve(client_indices.size());
  for (const std::uint32_t i : client_indices) {
    auto c = std::make_unique<Client>();
    c->worker = this;
    c->index = i;
    // Spread evenly: client i tracks when floor((i + 1) * f) passes an integer.
    c->tracks_view = std::floor((i + 1) * config_.view_fraction) > std::floor(i * config_.view_fraction);
    clients_.push_back(std::move(c));
  }
}

Worker::~Worker() { join(); }

void Worker::start() {
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &ramp_timer_);
  uv_timer_init(&loop_, &input_timer_);
  uv_timer_init(&loop_, &sweep_timer_);
  uv_async_init(&loop_, &stop_async_, on_stop_async);
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&ramp_timer_), reinterpret_cast<uv_handle_t*>(&input_timer_),
                         reinterpret_cast<uv_handle_t*>(&sweep_timer_), reinterpret_cast<uv_handle_t*>(&stop_async_)}) {
    h->data = this;
  }
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() { uv_async_send(&stop_async_); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::take_interval(IntervalStats& into, WindowEdge edge, std::vector<ClientWindow>* window) {
  std::lock_guard lock(mu_);
  interval_.c.connected_us += connected_time_.take(uv_hrtime() / 1000);
  into.merge(interval_);
  interval_.reset();
  if (edge == WindowEdge::Start) {
    start_window();
  } else if (edge == WindowEdge::End) {
    end_window(window);
  }
}

// Both under mu_, at the instant this worker's interval is cut.
void Worker::start_window() {
  window_open_ = true;
  window_start_ns_ = uv_hrtime();
  window_seconds_ = 0;
  for (const auto& c : clients_) {
    c->window.reset();
    c->in_window = c->state == Client::State::Open;
  }
}

void Worker::end_window(std::vector<ClientWindow>* out) {
  if (!window_open_) return;
  window_open_ = false;
  window_seconds_ = static_cast<double>(uv_hrtime() - window_start_ns_) / 1e9;
  for (const auto& c : clients_) {
    // in_window says "open at the start" until here; a client that got a frame also counts.
    const bool open_at_start = c->in_window;
    if (c->window.frames() > 0) c->in_window = true;
    if (c->in_window && out) {
      ClientWindow w = window_of(*c);
      w.open_at_start = open_at_start;
      w.open_at_end = c->state == Client::State::Open;
      out->push_back(w);
    }
  }
}

ClientWindow Worker::window_of(const Client& c) const {
  // Up to the window's end for a client still open then: silent since long before, it advanced
  // no ticks there. (One closed in the window is measured up to its last frame, as before: its
  // close is counted apart, by code.)
  const std::uint64_t end_us =
      c.state == Client::State::Open ? (window_start_ns_ + static_cast<std::uint64_t>(window_seconds_ * 1e9)) / 1000 : 0;
  return {c.index, window_seconds_, c.window.frames(), c.window.has_game_rate(), c.window.game_rate(end_us),
          c.window.max_gap(), false, false};
}

void Worker::run() {
  started_ns_ = uv_hrtime();
  uv_timer_start(&ramp_timer_, on_ramp_timer, 0, 5);
  if (config_.behavior != Behavior::Idle && config_.behavior != Behavior::Watch) uv_timer_start(&input_timer_, on_input_timer, kInputTimerMs, kInputTimerMs);
  last_sweep_ns_ = started_ns_;
  uv_timer_start(&sweep_timer_, on_sweep_timer, kSweepTimerMs, kSweepTimerMs);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  std::lock_guard lock(mu_);
  summaries_.reserve(clients_.size());
  for (const auto& c : clients_) {
    ClientSummary& s = summaries_.emplace_back();
    s.index = c->index;
    s.joined = c->joined;
    s.frames = c->ticks.received();
    s.missing = c->ticks.missing();
    s.stale = c->ticks.stale();
    s.first_tick = c->ticks.first();
    s.last_tick = c->ticks.last();
    s.span = c->ticks.span();
    s.close_code = c->close_code;
    // A window still open here (the reporter never ended it) has no length: leave it out.
    if (c->in_window && !window_open_) {
      s.in_window = true;
      s.window = window_of(*c);
    }
  }
}

// ---- connecting

void Worker::on_ramp_timer(uv_timer_t* t) {
  auto* self = static_cast<Worker*>(t->data);
  const double elapsed = static_cast<double>(uv_hrtime() - self->started_ns_) / 1e9;
  const auto due = std::min(self->clients_.size(), static_cast<std::size_t>(elapsed * self->config_.ramp_per_s) + 1);
  std::lock_guard lock(self->mu_);
  while (self->launched_ < due) self->launch(*self->clients_[self->launched_++]);
  if (self->launched_ == self->clients_.size()) uv_timer_stop(t);
}

void Worker::launch(Client& c) {
  c.started_ns = uv_hrtime();
  uv_tcp_init(&loop_, &c.tcp);
  c.tcp.data = &c;
  open_handles_++;
  c.state = Client::State::Connecting;
  const int rc = uv_tcp_connect(&c.connect_req, &c.tcp, reinterpret_cast<const sockaddr*>(&config_.address), on_connect);
  if (rc < 0) {
    error(uv_error_kind("connect", rc));
    interval_.c.connect_failures++;
    attempts_done_++;
    close_client(c);
  }
}

void Worker::on_connect(uv_connect_t* req, int status) {
  auto& c = *static_cast<Client*>(req->handle->data);
  Worker& w = *c.worker;
  if (status == UV_ECANCELED || c.state != Client::State::Connecting) return;
  std::lock_guard lock(w.mu_);
  if (status < 0) {
    w.error(uv_error_kind("connect", status));
    w.interval_.c.connect_failures++;
    w.attempts_done_++;
    w.close_client(c);
    return;
  }
  uv_tcp_nodelay(&c.tcp, 1);
  if (w.config_.kernel_timestamps && !w.start_timestamped_reads(c)) return;
  c.state = Client::State::Handshaking;
  std::array<std::uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < nonce.size(); i += 8) {
    const std::uint64_t r = w.rng_.next();
    for (std::size_t j = 0; j < 8; ++j) nonce[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
  const std::string key = make_websocket_key(nonce);
  c.upgrade.emplace(key, w.config_.subprotocol);
  if (!w.config_.kernel_timestamps) uv_read_start(reinterpret_cast<uv_stream_t*>(&c.tcp), on_alloc, on_read);
  w.write(c, build_upgrade_request(w.config_.url, key, w.config_.subprotocol));
}

// SO_TIMESTAMPNS on the socket, and a poll on a dup of its fd to read it with recvmsg. On
// failure the client counts as a failed connect and closes.
bool Worker::start_timestamped_reads(Client& c) {
  uv_os_fd_t fd = -1;
  int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(&c.tcp), &fd);
  if (rc == 0) rc = enable_kernel_timestamps(fd);  // -errno: libuv's error codes on Unix
  if (rc == 0) {
    c.dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c.dup_fd < 0) rc = -errno;
  }
  if (rc == 0) {
    rc = uv_poll_init(&loop_, &c.poll, c.dup_fd);
    if (rc < 0) {
      ::close(c.dup_fd);
      c.dup_fd = -1;
    } else {
      c.poll.data = &c;
      c.polling = true;
      open_handles_++;
      rc = uv_poll_start(&c.poll, UV_READABLE, on_poll);
    }
  }
  if (rc < 0) {
    error(uv_error_kind("kernel timestamps", rc));
    interval_.c.connect_failures++;
    attempts_done_++;
    close_client(c);
    return false;
  }
  return true;
}

// ---- reading

void Worker::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  // Every read is consumed before the next one starts, so one buffer serves the thread.
  Worker& w = *static_cast<Client*>(h->data)->worker;
  *buf = uv_buf_init(w.read_buffer_.data(), static_cast<unsigned>(w.read_buffer_.size()));
}

void Worker::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto& c = *static_cast<Client*>(s->data);
  Worker& w = *c.worker;
  if (nread == 0) return;
  std::lock_guard lock(w.mu_);
  if (nread < 0) {
    w.on_read_end(c, static_cast<int>(nread));
    return;
  }
  w.on_received(c, buf->base, static_cast<std::size_t>(nread), 0);
}

void Worker::on_poll(uv_poll_t* p, int status, int) {
  auto& c = *static_cast<Client*>(p->data);
  Worker& w = *c.worker;
  std::lock_guard lock(w.mu_);
  w.read_with_timestamps(c, status);
}

// A socket's pending error (SO_ERROR) as -errno, or 0.
static int pending_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? -err : 0;
}

// As libuv's read loop does: at most kReadsPerPoll reads, and a short read means the socket
// was drained (the poll is level-triggered, so it comes back for what is left). After a poll
// error (POLLERR: libuv stopped the poll and says UV_EBADF) read on to what the socket says
// (its bytes, then EOF or its error, as read() would give libuv), else close with the poll's.
void Worker::read_with_timestamps(Client& c, int status) {
  const int reads = status < 0 ? 1024 : kReadsPerPoll;
  for (int i = 0; i < reads && c.state != Client::State::Closed; ++i) {
    std::uint64_t kernel_rx_ns = 0;
    const ssize_t n = recv_with_timestamp(c.dup_fd, read_buffer_.data(), read_buffer_.size(), &kernel_rx_ns);
    if (n == -EAGAIN) break;
    if (n <= 0) {
      on_read_end(c, n == 0 ? UV_EOF : static_cast<int>(n));  // -errno: libuv's codes on Unix
      return;
    }
    on_received(c, read_buffer_.data(), static_cast<std::size_t>(n), kernel_rx_ns);
    if (status >= 0 && static_cast<std::size_t>(n) < read_buffer_.size()) return;
  }
  if (status < 0) {
    // The socket read clean to EAGAIN: name what it still says, else the poll (libuv reports
    // POLLERR as UV_EBADF, which is no read's error).
    const int err = pending_socket_error(c.dup_fd);
    on_read_end(c, err != 0 ? err : status, err != 0 ? "read" : "poll");
  }
}

void Worker::on_received(Client& c, const char* data, std::size_t len, std::uint64_t kernel_rx_ns) {
  // The monotonic clock only while the window is open: one clock read per read, not per frame.
  on_bytes(c, data, len, {wall_clock_us(), window_open_ ? uv_hrtime() / 1000 : 0, kernel_rx_ns / 1000});
}

void Worker::on_read_end(Client& c, int status, const char* what) {
  if (c.state == Client::State::Closed) return;
  if (c.state == Client::State::Handshaking) {
    error(uv_error_kind("handshake", status));
    interval_.c.connect_failures++;
    attempts_done_++;
  } else if (!c.we_closed && !c.peer_closed) {
    c.close_code = kAbnormalClose;
    interval_.c.disconnects[kAbnormalClose]++;
    if (status != UV_EOF) error(uv_error_kind(what, status));
  }
  close_client(c);
}

void Worker::on_bytes(Client& c, const char* data, std::size_t len, const Arrival& at) {
  if (c.state == Client::State::Handshaking) {
    const auto status = c.upgrade->feed(data, len);
    if (status == UpgradeResponseReader::Status::NeedMore) return;
    if (status == UpgradeResponseReader::Status::Failed) {
      error("handshake: " + c.upgrade->error());
      interval_.c.connect_failures++;
      attempts_done_++;
      close_client(c);
      return;
    }
    const std::string rest(c.upgrade->trailing());
    c.upgrade.reset();
    on_open(c);
    if (!rest.empty()) on_bytes(c, rest.data(), rest.size(), at);
    return;
  }
  if (c.state != Client::State::Open && c.state != Client::State::Closing) return;
  interval_.c.bytes_in += len;
  static thread_local std::vector<protocol::WsEvent> events;
  events.clear();
  const auto err = c.decoder.feed(reinterpret_cast<const std::uint8_t*>(data), len, events);
  // A read's kernel time is when its last segment arrived: the arrival of the message that
  // ends the read, and of it only. Messages before it in the same read waited in the socket
  // for us (a backlog): their own arrival is unknown, and the read's later time would count
  // our lag as the server's delay. They get no kernel time.
  // (A read that ends with a ping or a close, or inside a frame, stamps no message.)
  std::size_t stamped = events.size();
  if (at.kernel_rx_us != 0 && c.decoder.at_frame_boundary() && !events.empty() &&
      (std::holds_alternative<protocol::TextMessage>(events.back()) ||
       std::holds_alternative<protocol::BinaryMessage>(events.back()))) {
    stamped = events.size() - 1;
  }
  Arrival unstamped = at;
  unstamped.kernel_rx_us = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto& event = events[i];
    const Arrival& when = i == stamped ? at : unstamped;
    if (auto* text = std::get_if<protocol::TextMessage>(&event)) {
      on_text(c, text->data, when);
    } else if (auto* ping = std::get_if<protocol::Ping>(&event)) {
      send_frame(c, static_cast<int>(protocol::Opcode::Pong), ping->payload);
    } else if (auto* close = std::get_if<protocol::Close>(&event)) {
      c.peer_closed = true;
      if (!c.we_closed) {
        // The daemon hung up on us: count it by code and answer as RFC 6455 5.5.1 asks.
        c.close_code = close->code;
        interval_.c.disconnects[close->code]++;
        send_frame(c, static_cast<int>(protocol::Opcode::Close), close_payload(close->code));
      }
      close_client(c);
      return;
    } else if (auto* binary = std::get_if<protocol::BinaryMessage>(&event)) {
      on_binary(c, binary->data, when);
      if (c.state != Client::State::Open && c.state != Client::State::Closing) return;
    }
  }
  if (err) {
    error(std::string("protocol: ") + err->reason);
    close_client(c);
  }
}

void Worker::on_open(Client& c) {
  c.state = Client::State::Open;
  c.opened_us = uv_hrtime() / 1000;
  connected_time_.opened(c.opened_us);
  interval_.c.connects_ok++;
  interval_.connect_us.record((uv_hrtime() - c.started_ns) / 1000);
  connected_++;
  attempts_done_++;
  if (config_.behavior == Behavior::Watch) return;  // a spectator: frames only
  send_frame(c, static_cast<int>(protocol::Opcode::Text), encode_join(config_.name_prefix + std::to_string(c.index)));
  // Spread the clients' inputs over the period, so they do not all arrive in one burst.
  const double period_ns = 1e9 / std::max(config_.input_rate_hz, 0.001);
  c.next_input_ns = uv_hrtime() + static_cast<std::uint64_t>(rng_.uniform() * period_ns);
}

void Worker::on_tick(Client& c, std::uint64_t tick, std::int64_t ts_ms, const Arrival& at) {
  interval_.c.frames++;
  const std::uint64_t stale_before = c.ticks.stale();
  interval_.c.missing += c.ticks.on_tick(tick);
  interval_.c.stale += c.ticks.stale() - stale_before;
  if (window_open_) c.window.on_tick(tick, at.mono_us);
  const std::uint64_t ts_us = static_cast<std::uint64_t>(ts_ms) * 1000u;
  interval_.delay_us.record(at.now_us > ts_us ? at.now_us - ts_us : 0);
  // The frame that ended its read has that read's kernel time (on_bytes): when it arrived.
  if (at.kernel_rx_us != 0) interval_.server_delay_us.record(at.kernel_rx_us > ts_us ? at.kernel_rx_us - ts_us : 0);
}

void Worker::apply_view(Client& c, const TickBody& body) {
  interval_.c.view_inconsistent += c.view.apply(body);
  interval_.c.view_entities_sum += c.view.size();
  interval_.c.view_frames++;
  for (const EntityRecord& r : body.entities) interval_.c.view_moved_sum += (r.has_x && !r.has_kind) ? 1 : 0;
}

void Worker::on_binary(Client& c, std::string_view data, const Arrival& at) {
  if (config_.subprotocol.empty()) {
    error("binary message");
    return;
  }
  // Clients that keep no view read only the header: a tester core cannot decode every frame
  // of every client (the same split as for JSON).
  if (!c.v2) c.v2 = std::make_unique<protocol::v2::TickDecoder>(monster_kinds_);
  static thread_local protocol::v2::TickMessage msg;
  const auto err = c.tracks_view ? c.v2->decode(data, msg) : c.v2->decode_header(data, msg);
  if (err) {
    // Out of step with the daemon: nothing after this frame can be read.
    interval_.c.unparsed++;
    error("v2 frame: " + *err);
    close_client(c);
    return;
  }
  on_tick(c, msg.tick, msg.ts_ms, at);
  if (!c.tracks_view) return;
  static thread_local TickBody body;
  body.clear();
  body.players = static_cast<std::uint32_t>(msg.players);
  body.full = msg.full;  // FULL: the decoder dropped its held list, and so does the view
  for (const auto& r : msg.entities) {
    const bool moved = (r.fields & protocol::kFieldPosition) != 0;
    body.entities.push_back({r.id, r.entering, r.kind == "player", moved, moved, static_cast<float>(r.x10) / 10.0f,
                             static_cast<float>(r.y10) / 10.0f});
  }
  body.removed = msg.removed;
  apply_view(c, body);
}

void Worker::on_text(Client& c, std::string_view text, const Arrival& at) {
  if (const auto header = scan_tick_header(text)) {
    on_tick(c, header->tick, header->ts_ms, at);
    if (!c.tracks_view) return;
    static thread_local TickBody body;
    body.clear();
    if (!scan_tick_body(text, header->end, body)) {
      interval_.c.unparsed++;
      return;
    }
    apply_view(c, body);
    return;
  }
  interval_.c.other_messages++;
  // Not a tick: hello, welcome, pong or error, a few per client. Their fields come in any
  // order (the daemon encodes them with nlohmann, which sorts keys), so parse them fully.
  const auto msg = nlohmann::json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
    error("bad message from server");
    return;
  }
  const std::string type = msg["type"].get<std::string>();
  if (type == "pong") return;
  if (type == "hello" || type == "welcome") {
    if (msg.contains("tick_rate") && msg["tick_rate"].is_number_integer()) tick_rate_ = msg["tick_rate"].get<int>();
  }
  if (type == "hello") {
    // A later hello (a move to another world) replaces everything: the view starts over, and
    // a v2 client starts a new held list, as the next frame lists everything as entering.
    c.view.clear();
    if (c.v2) c.v2->reset();
  }
  if (type == "hello" && monster_kinds_.empty() && msg.contains("monster_kinds") && msg["monster_kinds"].is_array()) {
    for (const auto& k : msg["monster_kinds"]) {
      monster_kinds_.push_back(k.is_object() ? k.value("name", std::string("?")) : std::string("?"));
    }
  }
  if (type == "welcome") {
    c.self_id = msg.value("id", 0u);
    if (!c.joined) joined_++;
    c.joined = true;
  } else if (type == "error") {
    error("server error: " + msg.value("code", std::string("?")));
  } else if (type != "hello") {
    error("unexpected message: " + type.substr(0, 32));
  }
}

// ---- writing

void Worker::send_frame(Client& c, int opcode, std::string_view payload) {
  const auto mask = static_cast<std::uint32_t>(rng_.next());
  std::string frame = protocol::encode_client_frame(static_cast<protocol::Opcode>(opcode), payload, mask);
  interval_.c.bytes_out += frame.size();
  write(c, std::move(frame));
}

void Worker::write(Client& c, std::string bytes) {
  if (c.state == Client::State::Closed || c.state == Client::State::Pending) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c.tcp);
  // Only try the fast path with nothing queued, or bytes would overtake queued ones.
  int written = 0;
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t buf = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    written = uv_try_write(stream, &buf, 1);
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      error(uv_error_kind("write", written));
      close_client(c);
      return;
    }
    if (static_cast<std::size_t>(written) == bytes.size()) return;
  }
  auto* req = new WriteRequest;
  req->bytes = bytes.substr(static_cast<std::size_t>(written));
  req->req.data = &c;
  uv_buf_t rest = uv_buf_init(req->bytes.data(), static_cast<unsigned>(req->bytes.size()));
  const int rc = uv_write(&req->req, stream, &rest, 1, on_write);
  if (rc < 0) {
    delete req;
    error(uv_error_kind("write", rc));
    close_client(c);
  }
}

void Worker::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(req);
  auto& c = *static_cast<Client*>(req->data);
  delete w;
  if (status < 0 && status != UV_ECANCELED) {
    Worker& worker = *c.worker;
    std::lock_guard lock(worker.mu_);
    worker.error(uv_error_kind("write", status));
    worker.close_client(c);
  }
}

// ---- inputs

void Worker::on_input_timer(uv_timer_t* t) {
  auto* self = static_cast<Worker*>(t->data);
  const std::uint64_t now = uv_hrtime();
  const auto period = static_cast<std::uint64_t>(1e9 / std::max(self->config_.input_rate_hz, 0.001));
  std::lock_guard lock(self->mu_);
  for (std::size_t i = 0; i < self->launched_; ++i) {
    Client& c = *self->clients_[i];
    if (c.state != Client::State::Open || !c.joined) continue;
    // Every input due since the last firing (above 100/s, several a firing), bounded after a stall.
    for (std::uint64_t n = inputs_due(c.next_input_ns, now, period, kMaxInputLagNs); n > 0; --n) {
      self->send_input(c);
      if (c.state != Client::State::Open) break;  // the write failed and closed it
    }
  }
}

void Worker::send_input(Client& c) {
  if (config_.behavior == Behavior::Fight) {
    std::optional<KnownEntity> me;
    if (const KnownEntity* e = c.view.find(c.self_id)) me = *e;
    c.intent = fight_step(c.intent, me, c.view, rng_);
  } else {
    c.intent = wander_step(c.intent, rng_);
  }
  send_frame(c, static_cast<int>(protocol::Opcode::Text), encode_input(++c.seq, c.intent));
  interval_.c.inputs_sent++;
}

// ---- closing

void Worker::close_client(Client& c) {
  if (c.state == Client::State::Closed || c.state == Client::State::Pending) return;
  if (c.state == Client::State::Open || c.state == Client::State::Closing) {
    connected_--;
    connected_time_.closed(c.opened_us, uv_hrtime() / 1000);
  }
  if (c.joined) joined_--;
  c.state = Client::State::Closed;
  if (c.polling) {
    c.polling = false;
    uv_poll_stop(&c.poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&c.poll), on_poll_closed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), on_closed);
}

void Worker::on_closed(uv_handle_t* h) {
  Worker& w = *static_cast<Client*>(h->data)->worker;
  w.open_handles_--;
  w.maybe_finish();
}

// The poll is off the loop now: the socket's last fd can go (tcp's was closed by uv_close).
void Worker::on_poll_closed(uv_handle_t* h) {
  auto& c = *static_cast<Client*>(h->data);
  ::close(c.dup_fd);
  c.dup_fd = -1;
  Worker& w = *c.worker;
  w.open_handles_--;
  w.maybe_finish();
}

void Worker::on_sweep_timer(uv_timer_t* t) {
  auto* self = static_cast<Worker*>(t->data);
  const std::uint64_t now = uv_hrtime();
  const auto handshake_ns = static_cast<std::uint64_t>(self->config_.handshake_timeout_s * 1e9);
  const auto close_ns = static_cast<std::uint64_t>(self->config_.close_timeout_s * 1e9);
  std::lock_guard lock(self->mu_);
  // The loop's lateness: the time since the last sweep beyond the timer's period (libuv counts
  // the next period from the loop's time at this callback, so lateness does not pile up).
  const std::uint64_t since = now - self->last_sweep_ns_;
  const std::uint64_t period_ns = kSweepTimerMs * 1'000'000;
  self->interval_.loop_lag_us.record(since > period_ns ? (since - period_ns) / 1000 : 0);
  self->last_sweep_ns_ = now;
  for (std::size_t i = 0; i < self->launched_; ++i) {
    Client& c = *self->clients_[i];
    const bool connecting = c.state == Client::State::Connecting || c.state == Client::State::Handshaking;
    if (connecting && now - c.started_ns > handshake_ns) {
      self->error("handshake: timeout");
      self->interval_.c.connect_failures++;
      self->attempts_done_++;
      self->close_client(c);
    } else if (c.state == Client::State::Closing && now - c.started_ns > close_ns) {
      self->close_client(c);  // the daemon never answered our close frame
    }
  }
}

void Worker::on_stop_async(uv_async_t* a) {
  auto* self = static_cast<Worker*>(a->data);
  std::lock_guard lock(self->mu_);
  self->begin_stop();
}

void Worker::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  uv_timer_stop(&ramp_timer_);
  uv_timer_stop(&input_timer_);
  const std::uint64_t now = uv_hrtime();
  for (std::size_t i = 0; i < launched_; ++i) {
    Client& c = *clients_[i];
    if (c.state == Client::State::Open) {
      // The end of the run: a normal close, and wait (bounded) for the daemon's answer.
      c.we_closed = true;
      c.state = Client::State::Closing;
      c.started_ns = now;
      send_frame(c, static_cast<int>(protocol::Opcode::Close), close_payload(kNormalClose));
    } else if (c.state == Client::State::Connecting || c.state == Client::State::Handshaking) {
      close_client(c);
    }
  }
  maybe_finish();
}

void Worker::maybe_finish() {
  if (!stopping_ || finished_ || open_handles_ != 0) return;
  finished_ = true;
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&ramp_timer_), reinterpret_cast<uv_handle_t*>(&input_timer_),
                         reinterpret_cast<uv_handle_t*>(&sweep_timer_), reinterpret_cast<uv_handle_t*>(&stop_async_)}) {
    uv_close(h, nullptr);
  }
}

}  // namespace skirmish::loadtest
