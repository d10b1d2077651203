// One TCP connection: HTTP requests until it upgrades, then WebSocket frames.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame_decoder.h"
#include "protocol/http_request_parser.h"
#include "protocol/ws_types.h"
#include "server/connection_host.h"
#include "server/send_queue.h"
#include "server/token_bucket.h"

namespace skirmish::server {

// The life of a connection. Close is a state: the object is freed only in uv_close's
// callback, so a pointer held during a callback chain stays valid to the end of it.
//
//   Http ──upgrade──► Open ──our close frame──► Closing ──peer's close──┐
//     │                 │                                            ▼
//     └─ error/last ────┴──────── peer's close (echoed) / failure ──► Draining ──EOF/timeout──► Closed
//
// Draining means our side is shut down (FIN sent after the queued bytes) and we read and
// discard until the peer closes too, so the kernel never answers its last bytes with a RST
// that could destroy our close frame or response before the peer reads it.
class Connection {
 public:
  enum class State : std::uint8_t { Http, Open, Closing, Draining, Closed };

  Connection(ConnectionHost& host, const ConnectionContext& context, ConnId id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_tcp_t* handle() { return &handle_; }
  ConnId id() const { return id_; }
  // The loop this connection lives on: others post there to reach it.
  LoopPort& loop_port() const { return *context_.port; }
  State state() const { return state_; }
  bool is_open() const { return state_ == State::Open; }
  bool upgraded() const { return upgraded_; }
  // The WebSocket subprotocol the handshake agreed on; empty for none.
  const std::string& subprotocol() const { return subprotocol_; }
  // "ip:port" for logs; "client via proxy-ip:port" once a trusted proxy named the client.
  const std::string& peer() const { return peer_; }
  // What the client counts under for per-IP limits: the TCP peer's address, or the one a
  // trusted proxy named, as protocol::limit_key gives it (an IPv6 client: its /64).
  std::string_view ip() const { return ip_key_; }
  // The TCP peer's address, whoever it speaks for.
  std::string_view tcp_ip() const;
  // A trusted proxy named the client: `client` is its address from now on.
  void set_client(std::string client);
  // Whether the host counts this connection under ip() (its per-IP limit); a trusted proxy's
  // connection is counted only once a request names its client.
  bool ip_counted() const { return ip_counted_; }
  void set_ip_counted(bool counted) { ip_counted_ = counted; }
  // A trusted proxy said the client reached it over TLS (X-Forwarded-Proto: https).
  bool secure() const { return secure_; }
  void set_secure(bool secure) { secure_ = secure; }
  // The application's own state for this connection (not owned here: the application frees
  // it when it hears the connection closed). Set and read on the connection's loop only.
  void* app_data() const { return app_data_; }
  void set_app_data(void* data) { app_data_ = data; }
  // Bytes accepted for sending but not yet handed to the kernel.
  std::size_t queued_bytes() const { return out_.bytes(); }
  // True while more than websocket.soft_limit_bytes wait to be sent: the peer reads slower
  // than we write, so stale tick frames are skipped rather than queued.
  bool over_soft_limit() const { return out_.bytes() > flow_soft_limit_; }

  // Called once after uv_accept: records the peer, starts reading, arms the request timeout.
  // The peer's address is known once this returns.
  void start();

  // Sends `first` then `second`, in order: straight to the kernel (one vectored write) when
  // nothing is queued, the rest queued. Ignored once our side is shut down. A WebSocket whose
  // queue would pass websocket.hard_limit_bytes is closed as too slow instead (1013; the
  // bytes are not queued).
  void send(std::string_view first, std::string_view second = {});
  // Sends one WebSocket frame: its header and `payload` as two buffers, so a payload built
  // once (a tick's frame, the hello) is never copied behind a header.
  void send_frame(protocol::Opcode opcode, std::string_view payload);
  void send_text(std::string_view text) { send_frame(protocol::Opcode::Text, text); }

  // Starts the closing handshake: sends a close frame and waits, up to the close timeout,
  // for the peer's. Idempotent. The close frame is queued whatever the send limits (it is
  // small, and one per connection); with `discard_unsent`, queued frames not yet handed to
  // the kernel are dropped first, so a reader far behind gets the close frame next.
  void close_websocket(std::uint16_t code, std::string_view reason, bool discard_unsent = false);
  // True while a request waits for an answer that comes later (ConnectionHost::on_request returned nullopt).
  bool awaiting_response() const { return awaiting_response_; }
  // Part of an HTTP request (or handshake) has arrived and the rest has not.
  bool request_begun() const { return state_ == State::Http && http_ && http_->started(); }
  // Answers the request that is waiting; requests pipelined behind it are taken up later,
  // from resume_held_input().
  void finish_deferred(const protocol::HttpResponse& response);
  // Goes on with what was held back (pipelined requests, WebSocket messages over the
  // allowance), then reads again. Called by its loop (ConnectionLoop::resume_later) outside any walk over connections.
  void resume_held_input();
  // Sends a final HTTP response, then shuts our side down and waits for the peer's EOF.
  void respond_and_drain(const std::string& response);
  // Ends an HTTP connection that has nothing to answer (between requests, at a stop): our FIN,
  // then whatever the peer still sends is read and dropped until its EOF (at most
  // server.close_timeout_ms), so a request already on its way meets an orderly close, which a
  // client retries, and not a reset.
  void close_idle() { shutdown_and_drain(); }
  // Drops the TCP connection now, queued bytes and all. Idempotent.
  void abort();
  // Called by its loop's coarse sweep timer: request and close timeouts, pings for
  // silent connections, and the slow-reader limit.
  void on_sweep(std::uint64_t now_ms);

 private:
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_done(uv_write_t* req, int status);
  static void on_shutdown_done(uv_shutdown_t* req, int status);
  // The queue's front entries to the kernel in one vectored write, if none is under way.
  void start_write();
  // Drops queued entries not yet handed to the kernel (whole frames).
  void discard_unsent();
  bool has_held_events() const { return held_pos_ < held_events_.size() || held_fragments_ > 0; }
  // Bytes the peer sent that wait in the kernel, unread (FIONREAD).
  std::size_t unread_bytes() const;
  void clear_held_events();
  void end_flood_if_calm(std::uint64_t now_ms);
  // Past the message allowance: stop reading, count it, note when the flood began.
  void over_allowance(std::uint64_t now_ms);
  void enqueue(std::string_view first, std::string_view second);
  void send_close_frame(std::uint16_t code, std::string_view reason);
  std::uint64_t now_ms() const { return uv_now(context_.loop); }
  static void on_closed(uv_handle_t* h);

  void handle_http(const char* data, std::size_t len);
  // Returns false when the connection stopped taking HTTP requests.
  bool handle_request(protocol::HttpRequest& request, const char* rest, std::size_t rest_len);
  // Returns false when the connection stopped taking HTTP requests.
  bool write_response(protocol::HttpResponse response);
  // `response` as bytes, fitted to the request it answers (whoever made the answer: a route, a
  // refusal): no body for a HEAD, closing when the client asked, "Connection: keep-alive" for an
  // HTTP/1.0 client kept.
  void fit_answer(protocol::HttpResponse& response) const;
  std::string answer_bytes(protocol::HttpResponse response) const;
  void handle_frames(const std::uint8_t* data, std::size_t len);
  // Handles held WebSocket events in order while the message allowance lasts; pauses
  // reading when it runs out, leaving the rest held.
  void process_held_frames();
  void handle_event(protocol::WsEvent& event);
  void fail_protocol(const protocol::WsError& error);
  void shutdown_and_drain();
  void issue_shutdown();
  // Over server.max_messages_per_second: stop reading until the sweep sees the allowance refilled.
  void pause_reading();
  void stop_reading();   // uv_read_stop, once
  void start_reading();  // undoes uv_read_stop (after a pause, and before draining)
  void arm_deadline(std::uint64_t from_now_ms);
  void on_deadline();
  void check_liveness(std::uint64_t now_ms);
  // Closes a WebSocket that reads too slowly with 1013 ("try again later": a browser may
  // reconnect), counted under `reason` (slow_hard_limit, slow_soft_limit).
  void drop_slow(const char* reason, const char* why);
  // Closes a connection whose client is done sending once everything it asked for is answered.
  void finish_if_peer_done();

  ConnectionHost& host_;
  ConnectionContext context_;
  const config::Config& config_;
  ServerStats& stats_;
  uv_tcp_t handle_;
  ConnId id_;
  State state_ = State::Http;
  bool write_shut_ = false;       // uv_shutdown issued: nothing more may be written
  bool close_sent_ = false;       // our close frame is out (or queued)
  bool upgraded_ = false;         // became a WebSocket: the application knows this id
  bool awaiting_response_ = false;
  bool answering_head_ = false;   // the request being answered is a HEAD
  bool answering_http10_ = false;  // ... an HTTP/1.0 one
  bool answering_close_ = false;   // ... one after which the client wants the connection closed
  bool rate_paused_ = false;      // over the message rate: waiting for the allowance to refill
  bool answers_unread_ = false;   // HTTP answers over the soft limit wait unread: so do requests
  bool reading_stopped_ = false;  // uv_read_stop is in effect
  bool peer_finished_ = false;    // EOF with answers still to give: they go, then the connection closes
  bool deferred_holds_ = false;   // the deferred request is one that waits for news (a long poll)
  bool writing_ = false;          // a uv_write of out_ is under way
  bool shutdown_issued_ = false;  // uv_shutdown called (once the queue had drained)
  std::string held_input_;        // bytes pipelined behind a deferred request, or held by a pause
  // WebSocket events decoded but not yet handled because the allowance ran out, in order;
  // reading stays stopped while any are held, so this is at most one read's worth.
  // (A vector read from held_pos_, not a deque: an idle connection holds no block for it.)
  std::vector<protocol::WsEvent> held_events_;
  std::size_t held_pos_ = 0;
  std::size_t held_pings_ = 0;    // pings among them (past the allowance, all but the last share its pong)
  // Fragments (data frames that did not end a message) decoded and not yet paid for: each
  // costs the allowance a message, as a whole message does, before the held events go on.
  std::uint64_t held_fragments_ = 0;
  std::optional<protocol::WsError> held_error_;  // the decoder failed after the held events
  // What the kernel has not taken yet (the uv_write_t of its batch in flight is allocated per
  // write: most connections never queue).
  SendQueue out_;
  std::uint64_t deadline_ms_ = 0;      // request or close timeout; 0 = none
  std::uint64_t last_heard_ms_ = 0;    // when the peer last sent us anything
  std::uint64_t ping_sent_ms_ = 0;     // our unanswered liveness ping; 0 = none
  std::uint64_t over_soft_since_ms_ = 0;
  std::uint64_t wrote_ms_ = 0;         // when the send queue last moved (began, or a write ended)
  bool read_while_flooding_ = false;     // bytes read since the flood began (it went on sending)
  std::uint64_t flooding_since_ms_ = 0;  // over the message allowance without a break since; 0 = not
  std::size_t flow_soft_limit_;
  TokenBucket messages_;  // the peer's allowance (server.max_messages_per_second)
  std::string peer_;
  std::string tcp_peer_;   // "ip:port" of the TCP peer
  std::string ip_key_;  // ip(): the TCP peer's limit key, or set_client()'s
  bool ip_counted_ = false;
  bool secure_ = false;
  void* app_data_ = nullptr;
  std::string subprotocol_;
  // Exactly one of these is alive: the HTTP parser before the upgrade, the frame decoder after.
  std::unique_ptr<protocol::HttpRequestParser> http_;
  std::unique_ptr<protocol::FrameDecoder> frames_;
};

}  // namespace skirmish::server
