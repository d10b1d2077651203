#include "server/connection.h"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <variant>

#include "protocol/forwarded_for.h"
#include "protocol/frame_encoder.h"
#include "protocol/handshake.h"
#include "protocol/http_response.h"
#include "server/http_date.h"

namespace skirmish::server {

namespace {

// Entries of one vectored write: enough to batch a tick's frames, few enough that the bytes
// in flight (which a slow-reader close cannot take back) stay small.
constexpr std::size_t kMaxWriteBufs = 64;
constexpr std::size_t kMaxWriteBytes = 64 * 1024;

// RFC 6455 7.4.1 / IANA: "Try Again Later". A reader too slow for its frames is not at fault
// the way a protocol breaker is (1008), and a browser may reconnect on this code.
constexpr std::uint16_t kTryAgainLater = 1013;

// "ip:port" ("[ip]:port" for IPv6), for logs and, through Connection::ip(), per-IP limits.
std::string peer_address(uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char ip[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(a, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  uv_ip6_name(a, ip, sizeof ip);
  return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port));
}

}  // namespace

std::string_view Connection::tcp_ip() const {
  const std::string_view peer = tcp_peer_;
  if (peer.size() > 2 && peer.front() == '[') return peer.substr(1, peer.rfind(']') - 1);
  const std::size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

void Connection::set_client(std::string client) {
  ip_key_ = protocol::limit_key(client);
  peer_ = client + " via " + tcp_peer_;
}

Connection::Connection(ConnectionHost& host, const ConnectionContext& context, ConnId id)
    : host_(host),
      context_(context),
      config_(*context.config),
      stats_(*context.stats),
      id_(id),
      flow_soft_limit_(context.config->flow.soft_limit_bytes) {
  uv_tcp_init(context.loop, &handle_);
  handle_.data = this;
  http_ = std::make_unique<protocol::HttpRequestParser>(config_.http);
}

void Connection::start() {
  tcp_peer_ = peer_address(&handle_);
  peer_ = tcp_peer_;
  ip_key_ = protocol::limit_key(tcp_ip());
  last_heard_ms_ = now_ms();
  messages_ = TokenBucket(config_.server.max_messages_per_second, last_heard_ms_);
  uv_tcp_nodelay(&handle_, 1);
  if (int size = config_.flow.send_buffer_bytes; size > 0) {
    uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(&handle_), &size);
  }
  arm_deadline(static_cast<std::uint64_t>(config_.server.request_timeout_ms));
  if (const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), on_alloc, on_read); rc != 0) {
    spdlog::warn("conn {} {}: cannot read: {}", id_, peer_, uv_strerror(rc));
    abort();
  }
}

void Connection::arm_deadline(std::uint64_t from_now_ms) { deadline_ms_ = now_ms() + from_now_ms; }

void Connection::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  const ConnectionContext& c = static_cast<Connection*>(h->data)->context_;
  *buf = uv_buf_init(c.read_buffer, static_cast<unsigned>(c.read_buffer_size));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  if (nread < 0) {
    const bool answering =
        (self->state_ == State::Http && (self->awaiting_response_ ? !self->deferred_holds_
                                                                  : !self->out_.empty() || !self->held_input_.empty())) ||
        (self->state_ == State::Draining && !self->out_.empty());
    if (nread == UV_EOF && answering) {
      // The client is done sending (a half-close after its requests): what it asked for is
      // still answered, in order, then the connection closes (finish_if_peer_done, or our
      // FIN's callback when it was closing anyway). libuv has stopped reading. (A long poll's
      // connection that ends is a client gone: below. Another deferred answer, a placement
      // that asks Redis, still comes.)
      self->peer_finished_ = true;
      self->reading_stopped_ = true;
      return;
    }
    // EOF or an error: either way the peer is gone; in Draining this is the expected end.
    if (nread != UV_EOF && self->state_ != State::Draining) {
      spdlog::debug("conn {} {}: read error: {}", self->id_, self->peer_, uv_strerror(static_cast<int>(nread)));
    }
    self->abort();
    return;
  }
  self->stats_.bytes_in += static_cast<std::uint64_t>(nread);
  if (self->flooding_since_ms_ != 0) self->read_while_flooding_ = true;  // it sent more: still sending
  self->last_heard_ms_ = self->now_ms();
  self->ping_sent_ms_ = 0;
  switch (self->state_) {
    case State::Http: self->handle_http(buf->base, static_cast<std::size_t>(nread)); break;
    case State::Open:
    case State::Closing:
      self->handle_frames(reinterpret_cast<const std::uint8_t*>(buf->base), static_cast<std::size_t>(nread));
      break;
    case State::Draining:
    case State::Closed: break;  // discarded: we only wait for the peer's EOF
  }
}

void Connection::handle_http(const char* data, std::size_t len) {
  if (awaiting_response_ || !held_input_.empty()) {
    // Pipelined behind a deferred request, or behind held bytes a resume has yet to take
    // (a long poll answered just before this read): kept, in order. Past a request's worth
    // the socket waits too (TCP pushes back on the client) until the resume takes them, so
    // this holds at most that and one read.
    held_input_.append(data, len);
    if (held_input_.size() >= config_.http.max_header_bytes + config_.http.max_body_bytes) stop_reading();
    return;
  }
  while (len > 0 && state_ == State::Http) {
    std::size_t consumed = 0;
    const auto status = http_->feed(data, len, consumed);
    if (status == protocol::HttpRequestParser::Status::NeedMore) {
      // The client holds its body back until told to go on (RFC 9110 10.1.1).
      if (http_->take_continue()) send("HTTP/1.1 100 Continue\r\n\r\n");
      return;
    }
    if (status == protocol::HttpRequestParser::Status::Error) {
      const auto& err = http_->error();
      stats_.handshake_failed(err.status);
      spdlog::debug("conn {} {}: bad request: {} {}", id_, peer_, err.status, err.reason);
      respond_and_drain(protocol::serialize_response(dated(protocol::make_reject_response(err))));
      return;
    }
    data += consumed;
    len -= consumed;
    if (!handle_request(http_->request(), data, len)) return;
    http_->reset();
    arm_deadline(static_cast<std::uint64_t>(config_.server.request_timeout_ms));
    const double rate = config_.server.max_messages_per_second;
    if (rate > 0 && !messages_.take(rate, now_ms())) {
      // Over the request rate: what is pipelined behind waits, and so does the socket.
      held_input_.assign(data, len);
      pause_reading();
      return;
    }
    if (over_soft_limit()) {
      // A client that pipelines requests and does not read the answers: the next requests
      // wait, and so does the socket (TCP pushes back), until it has read what is queued
      // (on_write_done). Otherwise the answers would pile up here without bound.
      held_input_.assign(data, len);
      answers_unread_ = true;
      stop_reading();
      return;
    }
  }
}

bool Connection::handle_request(protocol::HttpRequest& request, const char* rest, std::size_t rest_len) {
  stats_.http_requests++;
  answering_head_ = request.method == "HEAD";
  answering_http10_ = request.version_major == 1 && request.version_minor == 0;
  answering_close_ = !request.keep_alive;
  // Who it is from (a trusted proxy names its client), before anything is answered.
  if (auto refusal = host_.identify(*this, request)) {
    respond_and_drain(answer_bytes(*refusal));
    return false;
  }
  // Anything meant as a handshake is judged as one, so a broken handshake gets the 4xx that
  // names what is wrong rather than a page or a generic 426; an offer to upgrade to another
  // protocol (h2c) is ignored and the request answered as it is.
  const bool handshake_attempt = protocol::wants_websocket(request);
  if (handshake_attempt) {
    if (auto refusal = host_.refuse_websocket(request.target)) {
      stats_.handshake_failed(refusal->status);
      respond_and_drain(answer_bytes(protocol::make_reject_response(*refusal)));
      return false;
    }
  }
  if (handshake_attempt) {
    auto verdict = protocol::parse_upgrade(request, config_.handshake);
    if (auto* reject = std::get_if<protocol::HttpReject>(&verdict)) {
      stats_.handshake_failed(reject->status);
      spdlog::debug("conn {} {}: handshake refused: {} {}", id_, peer_, reject->status, reject->reason);
      respond_and_drain(answer_bytes(protocol::make_reject_response(*reject)));
      return false;
    }
    const auto& accept = std::get<protocol::UpgradeAccept>(verdict);
    // Open before the 101 goes: a write that fails (the peer reset already) closes the
    // connection, and must find it open to do so, not be undone by marking it open after.
    state_ = State::Open;
    subprotocol_ = accept.subprotocol;
    deadline_ms_ = 0;
    frames_ = std::make_unique<protocol::FrameDecoder>(config_.ws);
    send(accept.response);
    if (state_ != State::Open) return false;  // closed by the write: the host never heard of it
    upgraded_ = true;  // the application knows this id from here on (and counts it as open)
    // The parser is done with; `request` lives in it, so the application sees it first.
    host_.on_open(*this, request);
    http_.reset();
    if (peer_finished_) {
      // An upgrade held behind other requests, from a client that has stopped sending: it
      // could never send a frame. (Read no further: there is nothing more to read.)
      close_websocket(1001, "the client stopped sending");
      return false;
    }
    if (state_ == State::Open && rest_len > 0) {
      // Frames that came in the same read as the handshake (h11's "trailing data").
      handle_frames(reinterpret_cast<const std::uint8_t*>(rest), rest_len);
    }
    return false;
  }
  std::optional<protocol::HttpResponse> response = host_.on_request(*this, request);
  if (!response) {
    // The answer comes later (a long poll): no request timeout meanwhile, and anything the
    // client pipelines behind it waits until finish_deferred().
    awaiting_response_ = true;
    deferred_holds_ = host_.holds_connection(request);
    deadline_ms_ = 0;
    if (rest_len > 0) held_input_.assign(rest, rest_len);
    return false;
  }
  return write_response(std::move(*response));
}

void Connection::fit_answer(protocol::HttpResponse& response) const {
  response.date = http_date_now();
  if (answering_head_) response.head_only = true;
  if (answering_close_) response.keep_alive = false;  // the client's "Connection: close", or an HTTP/1.0 default
  if (answering_http10_) response.announce_keep_alive = true;
}

std::string Connection::answer_bytes(protocol::HttpResponse response) const {
  fit_answer(response);
  return protocol::serialize_response(response);
}

bool Connection::write_response(protocol::HttpResponse response) {
  fit_answer(response);
  const bool keep_alive = response.keep_alive;
  const std::string bytes = protocol::serialize_response(response);
  if (!keep_alive) {
    respond_and_drain(bytes);
    return false;
  }
  send(bytes);
  return state_ == State::Http;
}

void Connection::finish_deferred(const protocol::HttpResponse& response) {
  if (!awaiting_response_ || state_ != State::Http) return;
  awaiting_response_ = false;
  if (!write_response(response)) return;
  http_->reset();
  arm_deadline(static_cast<std::uint64_t>(config_.server.request_timeout_ms));
  // Not now: the caller may be walking its own state (every waiting poll of a tick), and the
  // next request could change it. The server resumes us after this loop iteration.
  // (Reading may also be stopped: a request-rate pause that ended while this request waited.)
  if (!held_input_.empty() || reading_stopped_) host_.resume_later(id_);
}

void Connection::resume_held_input() {
  if (rate_paused_ || answers_unread_) return;
  if (state_ == State::Open || state_ == State::Closing) {
    process_held_frames();
    if ((state_ == State::Open || state_ == State::Closing) && !rate_paused_ && !has_held_events()) start_reading();
    return;
  }
  if (state_ != State::Http || awaiting_response_) return;
  if (!held_input_.empty()) {
    std::string held;
    held.swap(held_input_);
    handle_http(held.data(), held.size());
  }
  if (state_ == State::Open || state_ == State::Closing) {
    // The held bytes ended in a handshake: the WebSocket reads from here on.
    if (!rate_paused_ && !has_held_events()) start_reading();
    return;
  }
  // Reading stopped for the request rate waits until the held requests are answered, so
  // that bytes are taken in order.
  if (state_ == State::Http && !awaiting_response_ && !rate_paused_ && !answers_unread_ && held_input_.empty()) {
    start_reading();
    finish_if_peer_done();
  }
}

void Connection::finish_if_peer_done() {
  if (peer_finished_ && state_ == State::Http && !awaiting_response_ && held_input_.empty() && out_.empty()) {
    abort();  // every answer is with the kernel, which still delivers it after the close
  }
}

void Connection::handle_frames(const std::uint8_t* data, std::size_t len) {
  std::vector<protocol::WsEvent> events;
  if (const auto error = frames_->feed(data, len, events)) held_error_ = error;
  held_fragments_ += frames_->take_fragments();
  for (const auto& event : events) held_pings_ += std::holds_alternative<protocol::Ping>(event);
  if (held_pos_ == held_events_.size()) {
    held_events_.swap(events);  // the usual case: nothing waits, so no copy
    held_pos_ = 0;
  } else {
    for (auto& event : events) held_events_.push_back(std::move(event));
  }
  process_held_frames();
}

void Connection::process_held_frames() {
  const double rate = config_.server.max_messages_per_second;
  const std::uint64_t now = now_ms();
  // The fragments among these frames first (they came no later than the message they are
  // part of); once ours is sent they cost nothing, as everything but a close.
  if (state_ == State::Closing || rate <= 0) held_fragments_ = 0;
  while (held_fragments_ > 0 && state_ == State::Open) {
    if (!messages_.take(rate, now)) {
      over_allowance(now);
      return;
    }
    held_fragments_--;
  }
  while (has_held_events()) {
    if (state_ != State::Open && state_ != State::Closing) {
      clear_held_events();
      return;
    }
    protocol::WsEvent& event = held_events_[held_pos_];
    const bool ping = std::holds_alternative<protocol::Ping>(event);
    // Only a close matters once ours is sent; everything else is discarded, at no cost. Each
    // ping gets its own pong while the allowance pays for it; past it, a ping with a later one
    // waiting is answered by that one's pong (RFC 6455 5.5.3), so a flood of pings costs no
    // more than one.
    const bool coalesced = ping && held_pings_ > 1 && rate > 0 && !messages_.ready(rate, now);
    const bool costs_nothing =
        state_ == State::Closing || std::holds_alternative<protocol::Close>(event) || coalesced;
    if (!costs_nothing && rate > 0 && !messages_.take(rate, now)) {
      over_allowance(now);
      return;
    }
    protocol::WsEvent taken = std::move(event);
    held_pos_++;
    stats_.frames_in++;
    if (ping) {
      held_pings_--;
      if (coalesced) {
        stats_.pings_coalesced++;
        continue;
      }
    }
    handle_event(taken);
  }
  clear_held_events();  // all handled: release a flood's worth of slots
  if (held_error_ && state_ != State::Draining && state_ != State::Closed) {
    const protocol::WsError error = *held_error_;
    held_error_.reset();
    fail_protocol(error);
    return;
  }
  end_flood_if_calm(now);
  if (rate > 0 && (state_ == State::Open || state_ == State::Closing) && !messages_.ready(rate, now)) pause_reading();
}

void Connection::end_flood_if_calm(std::uint64_t now_ms) {
  // A flood ends once nothing waits and the peer has let its allowance refill to half; a
  // steady sender at the limit never does.
  const double rate = config_.server.max_messages_per_second;
  if (flooding_since_ms_ != 0 && !has_held_events() && (rate <= 0 || messages_.level(rate, now_ms) >= rate / 2)) {
    flooding_since_ms_ = 0;
    read_while_flooding_ = false;
  }
}

void Connection::over_allowance(std::uint64_t now_ms) {
  // The rest waits, in order, with the socket unread (TCP pushes back on the sender); the
  // sweep resumes us once the allowance has refilled.
  stats_.messages_over_rate++;
  if (flooding_since_ms_ == 0) flooding_since_ms_ = now_ms;
  pause_reading();
}

void Connection::clear_held_events() {
  // Released, not kept: thousands of idle connections hold no event slots.
  std::vector<protocol::WsEvent>().swap(held_events_);
  held_pos_ = 0;
  held_pings_ = 0;
  held_fragments_ = 0;
}

void Connection::handle_event(protocol::WsEvent& event) {
  if (auto* text = std::get_if<protocol::TextMessage>(&event)) {
    if (state_ == State::Open) host_.on_text(*this, text->data);
  } else if (auto* bin = std::get_if<protocol::BinaryMessage>(&event)) {
    if (state_ == State::Open) host_.on_binary(*this, bin->data);
  } else if (auto* ping = std::get_if<protocol::Ping>(&event)) {
    if (!close_sent_) send_frame(protocol::Opcode::Pong, ping->payload);
  } else if (auto* close = std::get_if<protocol::Close>(&event)) {
    if (!close_sent_) {
      // Echo the peer's code (RFC 6455 5.5.1); a close without a code is answered without one.
      const std::uint16_t code = close->code;
      stats_.closed_with(code);
      close_sent_ = true;
      send_close_frame(code, "");
    }
    shutdown_and_drain();
  }
}

void Connection::fail_protocol(const protocol::WsError& error) {
  spdlog::debug("conn {} {}: protocol error {}: {}", id_, peer_, static_cast<int>(error.code), error.reason);
  if (!close_sent_) {
    stats_.closed_with(static_cast<int>(error.code));
    close_sent_ = true;
    send_close_frame(static_cast<std::uint16_t>(error.code), error.reason);
  }
  // After a failure we cannot parse the peer's close frame: shut down and wait for its EOF.
  shutdown_and_drain();
}

void Connection::send(std::string_view first, std::string_view second) {
  if (write_shut_ || state_ == State::Closed || first.size() + second.size() == 0) return;
  bool started = false;  // the kernel took the first part of these bytes
  if (out_.empty()) {
    std::array<uv_buf_t, 2> bufs = {uv_buf_init(const_cast<char*>(first.data()), static_cast<unsigned>(first.size())),
                                    uv_buf_init(const_cast<char*>(second.data()), static_cast<unsigned>(second.size()))};
    int written = uv_try_write(reinterpret_cast<uv_stream_t*>(&handle_), bufs.data(), second.empty() ? 1 : 2);
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      spdlog::debug("conn {} {}: write failed: {}", id_, peer_, uv_strerror(written));
      abort();
      return;
    }
    stats_.bytes_out += static_cast<std::size_t>(written);
    auto taken = static_cast<std::size_t>(written);
    const std::size_t from_first = std::min(taken, first.size());
    first.remove_prefix(from_first);
    second.remove_prefix(taken - from_first);
    if (first.empty() && second.empty()) return;
    started = written > 0;
  }
  // A close frame is always queued: it is one small frame per connection, and the peer
  // must be able to read why we end the connection.
  const std::size_t size = first.size() + second.size();
  const bool too_slow = upgraded_ && !close_sent_ && out_.bytes() + size > config_.flow.hard_limit_bytes;
  // Over the limit a frame is refused, except the rest of one the kernel has begun: it must
  // follow, or the stream is garbage.
  if (!too_slow || started) {
    stats_.bytes_out += size;
    enqueue(first, second);
  }
  if (too_slow) drop_slow("slow_hard_limit", "too slow: send queue over the hard limit");
}

void Connection::enqueue(std::string_view first, std::string_view second) {
  if (out_.empty()) wrote_ms_ = now_ms();
  out_.push(first, second);
  if (over_soft_since_ms_ == 0 && over_soft_limit()) over_soft_since_ms_ = now_ms();
  start_write();
}

void Connection::start_write() {
  if (writing_ || out_.empty() || state_ == State::Closed) return;
  std::array<uv_buf_t, kMaxWriteBufs> bufs;
  const std::size_t n = out_.take_batch(kMaxWriteBufs, kMaxWriteBytes, [&bufs, k = std::size_t{0}](char* data, std::size_t size) mutable {
    bufs[k++] = uv_buf_init(data, static_cast<unsigned>(size));
  });
  auto* req = new uv_write_t;
  req->data = this;
  // libuv copies the buffer descriptors; the bytes stay in out_ until on_write_done.
  if (const int rc = uv_write(req, reinterpret_cast<uv_stream_t*>(&handle_), bufs.data(),
                              static_cast<unsigned>(n), on_write_done);
      rc != 0) {
    delete req;
    spdlog::debug("conn {} {}: write failed: {}", id_, peer_, uv_strerror(rc));
    abort();
    return;
  }
  writing_ = true;
}

void Connection::discard_unsent() {
  out_.discard_unsent();
  if (!over_soft_limit()) over_soft_since_ms_ = 0;
}

void Connection::send_frame(protocol::Opcode opcode, std::string_view payload) {
  if (write_shut_ || state_ == State::Closed) return;
  stats_.frames_out++;
  const protocol::FrameHeader header = protocol::frame_header(opcode, payload.size());
  send(header.view(), payload);
}

void Connection::on_write_done(uv_write_t* req, int status) {
  // Called exactly once per write, also with UV_ECANCELED when the handle closes first
  // (before the close callback frees the connection).
  const std::unique_ptr<uv_write_t> owned(req);
  auto* self = static_cast<Connection*>(req->data);
  self->writing_ = false;
  self->out_.written();
  if (!self->over_soft_limit()) self->over_soft_since_ms_ = 0;
  if (status < 0) {
    // UV_ECANCELED: the handle is closing, which frees the queue with the connection.
    if (status != UV_ECANCELED) self->abort();
    return;
  }
  self->wrote_ms_ = self->now_ms();
  if (!self->out_.empty()) {
    self->start_write();
    return;
  }
  // The peer has all our answers: its time for the next request, or to answer our FIN,
  // starts now (on_deadline waited while they were queued).
  const auto& limits = self->config_.server;
  if (self->state_ == State::Http && self->deadline_ms_ != 0) {
    self->arm_deadline(static_cast<std::uint64_t>(limits.request_timeout_ms));
  }
  if (self->write_shut_ && !self->shutdown_issued_ && self->state_ == State::Draining) {
    self->arm_deadline(static_cast<std::uint64_t>(limits.close_timeout_ms));
    self->issue_shutdown();
  } else if (self->answers_unread_) {
    // The client read every answer: its held requests go next, from the loop's idle callback.
    self->answers_unread_ = false;
    if (self->state_ == State::Http) self->host_.resume_later(self->id_);
  } else {
    self->finish_if_peer_done();
  }
}

void Connection::close_websocket(std::uint16_t code, std::string_view reason, bool discard_unsent_frames) {
  if (state_ != State::Open) {
    if (state_ == State::Http) abort();
    return;
  }
  // State first: the send below may find the peer too slow, and must see us closing.
  state_ = State::Closing;
  close_sent_ = true;
  arm_deadline(static_cast<std::uint64_t>(config_.server.close_timeout_ms));
  stats_.closed_with(code);
  if (discard_unsent_frames) discard_unsent();
  send_close_frame(code, reason);
}

void Connection::send_close_frame(std::uint16_t code, std::string_view reason) {
  send_frame(protocol::Opcode::Close, protocol::encode_close_payload(code, reason));
}

void Connection::respond_and_drain(const std::string& response) {
  send(response);
  shutdown_and_drain();
}

void Connection::shutdown_and_drain() {
  if (state_ == State::Draining || state_ == State::Closed) return;
  state_ = State::Draining;
  frames_.reset();
  http_.reset();
  clear_held_events();
  held_error_.reset();
  arm_deadline(static_cast<std::uint64_t>(config_.server.close_timeout_ms));
  write_shut_ = true;
  rate_paused_ = false;
  start_reading();  // draining waits for the peer's EOF, which only a read can see
  // Our FIN goes after the queue: uv_shutdown waits for libuv's writes, not for ours.
  if (out_.empty()) issue_shutdown();
}

void Connection::issue_shutdown() {
  if (shutdown_issued_ || state_ == State::Closed) return;
  shutdown_issued_ = true;
  // Allocated here rather than held by every connection: only a closing one needs it.
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&handle_), on_shutdown_done) != 0) {
    delete req;
    abort();
  }
}

void Connection::on_shutdown_done(uv_shutdown_t* req, int status) {
  // libuv calls this exactly once, also when the handle is closed first (UV_ECANCELED, before
  // the close callback frees the connection), so the request is freed here in every case.
  const std::unique_ptr<uv_shutdown_t> owned(req);
  auto* self = static_cast<Connection*>(req->handle->data);
  // Our FIN is out; a peer that sent its own already has nothing more to say.
  if ((status < 0 && status != UV_ECANCELED) || (status == 0 && self->peer_finished_)) self->abort();
}

void Connection::pause_reading() {
  if (!rate_paused_) stats_.reads_paused++;
  rate_paused_ = true;
  stop_reading();
}

std::size_t Connection::unread_bytes() const {
  uv_os_fd_t fd;
  int waiting = 0;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&handle_), &fd) != 0 || ioctl(fd, FIONREAD, &waiting) != 0) {
    return 0;
  }
  return static_cast<std::size_t>(std::max(waiting, 0));
}

void Connection::stop_reading() {
  if (reading_stopped_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
  reading_stopped_ = true;
}

void Connection::start_reading() {
  if (!reading_stopped_ || state_ == State::Closed || peer_finished_) return;
  reading_stopped_ = false;
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), on_alloc, on_read) != 0) abort();
}

void Connection::on_sweep(std::uint64_t now_ms) {
  const auto& limits = config_.server;
  end_flood_if_calm(now_ms);  // a burst that was all handled, followed by quiet
  // Still sending: it sent more after the read that began the flood (read since), or more
  // waits in the socket behind what was read. A burst read whole (one read: at most 64 KiB)
  // with nothing after it has stopped: it is handled to its end, and a close frame at its end
  // answered, however long that takes at the allowance.
  const auto still_sending = [this] { return read_while_flooding_ || unread_bytes() > 0; };
  if (flooding_since_ms_ != 0 && state_ == State::Open && limits.flood_close_ms > 0 &&
      now_ms - flooding_since_ms_ >= static_cast<std::uint64_t>(limits.flood_close_ms) && still_sending()) {
    // Slowed down for this long and still sending at the limit: abuse, not a burst.
    stats_.ended("flood");
    spdlog::debug("conn {} {}: over the message allowance for {} ms, closing", id_, peer_, limits.flood_close_ms);
    close_websocket(1008, "too many messages: over server.max_messages_per_second for too long");
  }
  if (rate_paused_ && messages_.ready(limits.max_messages_per_second, now_ms)) {
    rate_paused_ = false;
    // Held requests and messages go first, from the server's idle callback (not from inside
    // its sweep); resume_held_input() starts reading again once they are all handled.
    if ((state_ == State::Http && !held_input_.empty()) || has_held_events()) {
      host_.resume_later(id_);
    } else if (!answers_unread_) {
      start_reading();
      finish_if_peer_done();
    }
  }
  if (deadline_ms_ != 0 && deadline_ms_ <= now_ms) {
    on_deadline();
  } else if (state_ == State::Open) {
    check_liveness(now_ms);
  }
}

void Connection::check_liveness(std::uint64_t now_ms) {
  const auto& flow = config_.flow;
  if (has_held_events() || rate_paused_) {
    // Not reading: its messages wait their turn at the allowance. It was heard, and a pong
    // would not be read; the clock starts again when reading does.
    last_heard_ms_ = now_ms;
    if (ping_sent_ms_ != 0) ping_sent_ms_ = now_ms;
  }
  if (over_soft_since_ms_ != 0 && now_ms - over_soft_since_ms_ >= static_cast<std::uint64_t>(flow.slow_client_timeout_ms)) {
    drop_slow("slow_soft_limit", "too slow: send queue over the soft limit for too long");
    return;
  }
  if (ping_sent_ms_ != 0) {
    if (now_ms - ping_sent_ms_ >= static_cast<std::uint64_t>(flow.ping_timeout_ms)) {
      stats_.ended("ping_timeout");
      spdlog::debug("conn {} {}: no answer to ping, dropping", id_, peer_);
      abort();  // the peer is gone or mute: a close frame would not be read either
    }
    return;
  }
  if (now_ms - last_heard_ms_ >= static_cast<std::uint64_t>(flow.ping_interval_ms)) {
    ping_sent_ms_ = now_ms;
    send_frame(protocol::Opcode::Ping, "are you there?");
  }
}

void Connection::drop_slow(const char* reason, const char* why) {
  if (state_ != State::Open) return;
  stats_.ended(reason);
  spdlog::debug("conn {} {}: closing 1013: {}", id_, peer_, why);
  // The frames it has not read are stale: its close frame goes right after what the
  // kernel already has.
  close_websocket(kTryAgainLater, why, true);
}

void Connection::on_deadline() {
  if (!out_.empty() && !upgraded_ && (state_ == State::Http || state_ == State::Draining)) {
    // Our HTTP answers wait for the peer to read them (pipelined requests, the last with
    // "Connection: close"): neither its request timeout nor our close timeout runs out
    // meanwhile, or answers it asked for would be cut off. A peer that reads nothing for the
    // slow-client timeout is dropped. (A closing WebSocket keeps its close timeout: what is
    // queued for it then is stale frames, not answers.)
    const std::uint64_t stalled_until = wrote_ms_ + static_cast<std::uint64_t>(config_.flow.slow_client_timeout_ms);
    if (now_ms() < stalled_until) {
      deadline_ms_ = stalled_until;
      return;
    }
    spdlog::debug("conn {} {}: our answers were not read in time", id_, peer_);
    stats_.ended("slow_reader");
    abort();
    return;
  }
  switch (state_) {
    case State::Http:
      spdlog::debug("conn {} {}: request timeout", id_, peer_);
      stats_.ended("request_timeout");
      if (http_ && http_->started()) {
        respond_and_drain(protocol::serialize_response(
            dated(protocol::make_reject_response({408, "the request did not arrive in time", {}}))));
      } else {
        abort();  // an idle keep-alive connection: nothing to answer
      }
      break;
    case State::Closing:
      spdlog::debug("conn {} {}: no close frame from the peer in time", id_, peer_);
      stats_.ended("close_timeout");
      shutdown_and_drain();
      break;
    case State::Open:
      deadline_ms_ = 0;
      break;
    case State::Draining:
    case State::Closed: abort(); break;
  }
}

void Connection::abort() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  deadline_ms_ = 0;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_closed);
}

void Connection::on_closed(uv_handle_t* h) {
  auto* self = static_cast<Connection*>(h->data);
  self->host_.on_closed(*self);
  delete self;
}

}  // namespace skirmish::server
