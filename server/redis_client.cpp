#include "server/redis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace skirmish::server {

namespace {

// A server that holds our commands this long without answering any is treated as gone.
constexpr std::uint64_t kStallMs = 3000;
// stop(): how long answers to the last commands (the fleet's goodbye) may take.
constexpr std::uint64_t kStopWaitMs = 1000;
// hiredis 0.14 has no bound on an answer's size: it buffers a bulk string until it has all of
// it, and builds an array element by element. No answer of ours comes near these (the largest,
// the fleet's entries, is one string per process of at most 64 KiB read); past either, the
// connection is dropped rather than let something at the Redis address fill our memory. Bytes:
// a string still arriving, or the strings (and arrays' slots) of one answer together.
constexpr std::size_t kMaxAnswerBytes = 16u << 20;
constexpr std::size_t kMaxAnswerParts = 256u << 10;  // the replies one answer is built of
constexpr std::size_t kMaxLineBytes = 64u << 10;     // a status, error, integer or length line

RedisClient::Reply convert(const redisReply* r) {
  RedisClient::Reply out;
  if (!r) return out;
  switch (r->type) {
    case REDIS_REPLY_NIL: out.kind = RedisClient::Reply::Kind::Nil; break;
    case REDIS_REPLY_INTEGER:
      out.kind = RedisClient::Reply::Kind::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.kind = r->type == REDIS_REPLY_STRING   ? RedisClient::Reply::Kind::String
                 : r->type == REDIS_REPLY_STATUS ? RedisClient::Reply::Kind::Status
                                                 : RedisClient::Reply::Kind::Error;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = RedisClient::Reply::Kind::Array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: break;
  }
  return out;
}

// hiredis's own libuv adapter (hiredis/adapters/libuv.h, 0.14) drops a poll error on the
// floor: a refused connect is then never noticed, and the context waits forever. This one is
// the same but for that: an error is handed to hiredis as "readable and writable", and hiredis
// then finds the socket's error itself (a failed connect, a reset) and calls back with it.
struct UvEvents {
  redisAsyncContext* context;
  uv_poll_t handle;
  int events;
};

void uv_events_read(UvEvents* p) {
  redisAsyncHandleRead(p->context);  // its callbacks may free the context (cleanup clears it)
  if (p->context == nullptr || p->context->data == nullptr) return;
  // What waits unparsed in hiredis's buffer: a bulk string is kept there until it is whole, a
  // line (a status, an error, a length) until its end ("\r\n") comes, and hiredis looks for
  // that end from the line's start at every read: a line of ours is short.
  const redisReader* r = p->context->c.reader;
  const std::size_t unparsed = r->len - r->pos;
  const bool endless_line =
      unparsed > kMaxLineBytes && memmem(r->buf + r->pos, kMaxLineBytes + 1, "\r\n", 2) == nullptr;
  if (unparsed > kMaxAnswerBytes || endless_line) static_cast<RedisClient*>(p->context->data)->answer_too_large();
}

void uv_events_poll(uv_poll_t* handle, int status, int events) {
  auto* p = static_cast<UvEvents*>(handle->data);
  if (status != 0) events = UV_READABLE | UV_WRITABLE;
  if (p->context != nullptr && (events & UV_READABLE)) uv_events_read(p);
  if (p->context != nullptr && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->context);
}

void uv_events_update(UvEvents* p, int add, int remove) {
  p->events = (p->events | add) & ~remove;
  if (p->events) {
    uv_poll_start(&p->handle, p->events, uv_events_poll);
  } else {
    uv_poll_stop(&p->handle);
  }
}

void uv_events_add_read(void* d) { uv_events_update(static_cast<UvEvents*>(d), UV_READABLE, 0); }
void uv_events_del_read(void* d) { uv_events_update(static_cast<UvEvents*>(d), 0, UV_READABLE); }
void uv_events_add_write(void* d) { uv_events_update(static_cast<UvEvents*>(d), UV_WRITABLE, 0); }
void uv_events_del_write(void* d) { uv_events_update(static_cast<UvEvents*>(d), 0, UV_WRITABLE); }

void uv_events_cleanup(void* d) {
  auto* p = static_cast<UvEvents*>(d);
  p->context = nullptr;  // the context is being freed: no more calls into it
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle), [](uv_handle_t* h) { delete static_cast<UvEvents*>(h->data); });
}

}  // namespace

// hiredis builds an answer through the reply functions its reader is given: these count what
// one answer is built of (a new answer begins with a reply that has no parent) and refuse the
// part past kMaxAnswerParts or kMaxAnswerBytes, and an answer no command of ours waits for
// (hiredis 0.14 asserts, aborting the whole process, on one that is not an error). The reader
// then fails with "out of memory" and hiredis drops the connection; on_disconnect says why.
// The reader's privdata is the client.
struct RedisClient::AnswerBounds {
  static const redisReplyObjectFunctions* hiredis;  // the reader's own, which build the replies

  static bool take(const redisReadTask* task, std::size_t bytes) {
    auto* client = static_cast<RedisClient*>(task->privdata);
    if (client == nullptr) return true;
    Answer& a = client->answer_;
    if (task->parent == nullptr) {
      a = Answer{};
      // outstanding_ is exact here: on_reply counts an answer down only once it is built.
      if (client->outstanding_ == 0 && task->type != REDIS_REPLY_ERROR) {
        a.refused = Refusal::Unasked;
        return false;
      }
    }
    a.parts++;
    a.bytes += bytes;
    if (a.parts <= kMaxAnswerParts && a.bytes <= kMaxAnswerBytes) return true;
    a.refused = Refusal::TooLarge;
    return false;
  }
  static void* string(const redisReadTask* t, char* s, size_t len) {
    return take(t, len) ? hiredis->createString(t, s, len) : nullptr;
  }
  static void* array(const redisReadTask* t, int elements) {
    const std::size_t slots = static_cast<std::size_t>(std::max(elements, 0)) * sizeof(void*);
    return take(t, slots) ? hiredis->createArray(t, elements) : nullptr;
  }
  static void* integer(const redisReadTask* t, long long v) { return take(t, 0) ? hiredis->createInteger(t, v) : nullptr; }
  static void* nil(const redisReadTask* t) { return take(t, 0) ? hiredis->createNil(t) : nullptr; }
  static void free_object(void* reply) { hiredis->freeObject(reply); }

  static void install(redisAsyncContext* c, RedisClient* client) {
    static redisReplyObjectFunctions bounded{string, array, integer, nil, free_object};
    if (hiredis == nullptr) hiredis = c->c.reader->fn;  // the same static table for every context
    c->c.reader->fn = &bounded;
    c->c.reader->privdata = client;
  }
};
const redisReplyObjectFunctions* RedisClient::AnswerBounds::hiredis = nullptr;

namespace {

bool attach(redisAsyncContext* ac, uv_loop_t* loop) {
  if (ac->ev.data != nullptr) return false;
  auto* p = new UvEvents{ac, {}, 0};
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
    delete p;
    return false;
  }
  p->handle.data = p;
  ac->ev.addRead = uv_events_add_read;
  ac->ev.delRead = uv_events_del_read;
  ac->ev.addWrite = uv_events_add_write;
  ac->ev.delWrite = uv_events_del_write;
  ac->ev.cleanup = uv_events_cleanup;
  ac->ev.data = p;
  return true;
}

}  // namespace

// What a command's answer goes to; owned by hiredis until its callback runs (with the answer,
// or with none when the connection goes).
struct RedisClient::Pending {
  RedisClient* client;
  Callback done;
};

RedisClient::RedisClient(uv_loop_t* loop, std::string host, int port, int retry_ms)
    : loop_(loop), host_(std::move(host)), port_(port), retry_ms_(std::max(100, retry_ms)) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

RedisClient::~RedisClient() {
  // stop() and a loop run came first; this is for a client that never started.
  if (ctx_) {
    ctx_->data = nullptr;
    redisAsyncFree(ctx_);
  }
}

void RedisClient::start() {
  started_ = true;
  resolve();
  // One timer does everything periodic: the next attempt while down, the stall watchdog while
  // up, the deadline while stopping. It ticks at least twice a second, whatever the retry
  // period, so a stalled server is noticed within about kStallMs.
  const auto tick = static_cast<std::uint64_t>(std::min(retry_ms_, 500));
  uv_timer_start(&timer_, on_timer, tick, tick);
}

void RedisClient::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (ctx_ && up_) {
    // Sends what was queued, waits for the answers, then closes (on_disconnect, which may run
    // within this call and close the timer: so the deadline's timer is started first).
    stop_deadline_ms_ = uv_now(loop_) + kStopWaitMs;
    uv_timer_start(&timer_, on_timer, 50, 50);
    redisAsyncDisconnect(ctx_);
    return;
  }
  if (ctx_) {
    redisAsyncContext* c = ctx_;
    ctx_ = nullptr;
    c->data = nullptr;
    redisAsyncFree(c);
  }
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void RedisClient::on_timer(uv_timer_t* t) {
  auto* self = static_cast<RedisClient*>(t->data);
  const std::uint64_t now = uv_now(self->loop_);
  if (self->stopping_) {
    if (self->ctx_ && now < self->stop_deadline_ms_) return;
    if (self->ctx_) {
      spdlog::warn("Redis did not answer within {} ms of the stop: what was sent last (the players' records, the process "
                   "leaving the directory) may not have been written",
                   kStopWaitMs);
      redisAsyncContext* c = self->ctx_;
      self->ctx_ = nullptr;
      c->data = nullptr;
      redisAsyncFree(c);  // the answers did not come: their callbacks get none
    }
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->timer_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&self->timer_), nullptr);
    }
    return;
  }
  if (self->ctx_ && !self->up_ && now - self->last_answer_ms_ > kStallMs) {
    self->lost("no answer to the connection attempt in " + std::to_string(kStallMs / 1000) + " s", true);
    return;
  }
  if (self->ctx_ && self->up_ && self->outstanding_ > 0 && now - self->last_answer_ms_ > kStallMs) {
    self->lost("no answer in " + std::to_string(kStallMs / 1000) + " s", true);
    return;
  }
  if (!self->ctx_ && !self->resolving_ && now >= self->next_attempt_ms_) self->resolve();
}

void RedisClient::resolve() {
  resolving_ = std::make_unique<uv_getaddrinfo_t>();
  resolving_->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const int rc = uv_getaddrinfo(loop_, resolving_.get(), on_resolved, host_.c_str(), nullptr, &hints);
  if (rc != 0) {
    resolving_.reset();
    note_trouble(std::string("cannot look up ") + host_ + ": " + uv_strerror(rc));
  }
}

void RedisClient::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<RedisClient*>(req->data);
  std::unique_ptr<uv_getaddrinfo_t> done = std::move(self->resolving_);
  if (self->stopping_) {
    uv_freeaddrinfo(res);
    return;
  }
  if (status != 0 || !res) {
    uv_freeaddrinfo(res);
    self->note_trouble("cannot look up " + self->host_ + ": " + uv_strerror(status));
    return;
  }
  char address[INET6_ADDRSTRLEN] = {};
  if (res->ai_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(res->ai_addr), address, sizeof address);
  } else {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(res->ai_addr), address, sizeof address);
  }
  uv_freeaddrinfo(res);
  self->connect_to(address);
}

void RedisClient::connect_to(const std::string& address) {
  // A numeric address: hiredis does no lookup of its own, and the connect does not block.
  redisAsyncContext* c = redisAsyncConnect(address.c_str(), port_);
  if (!c) {
    note_trouble("out of memory");
    return;
  }
  if (c->err) {
    const std::string why = c->errstr;
    redisAsyncFree(c);
    note_trouble(why);
    return;
  }
  c->data = this;
  answer_ = Answer{};
  AnswerBounds::install(c, this);
  if (!attach(c, loop_)) {
    redisAsyncFree(c);
    note_trouble("cannot attach to the event loop");
    return;
  }
  redisAsyncSetConnectCallback(c, on_connect);
  redisAsyncSetDisconnectCallback(c, on_disconnect);
  ctx_ = c;
  last_answer_ms_ = uv_now(loop_);
}

void RedisClient::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  if (!self || ctx != self->ctx_) return;
  if (status != REDIS_OK) {
    // hiredis frees the context once this returns.
    const std::string why = ctx->errstr;
    self->ctx_ = nullptr;
    self->note_trouble(why);
    return;
  }
  // Connected is not up: a stopped server's kernel still completes the handshake, another
  // service on the port takes the connection too, and a server with a password refuses every
  // command. Up is when it answers PING.
  self->outstanding_ = 0;
  self->last_answer_ms_ = uv_now(self->loop_);
  if (!self->password_.empty()) {
    // Pipelined before the PING: a refusal closes the connection, and the PING's answer
    // then comes as Failed.
    std::vector<std::string> auth{"AUTH"};
    if (!self->username_.empty()) auth.push_back(self->username_);
    auth.push_back(self->password_);
    self->send(auth, [self](const Reply& r) {
      if (r.kind != Reply::Kind::Error || self->up_ || self->stopping_) return;
      // A Redis with no password takes our commands anyway: say so once, and go on.
      if (r.text.find("without any password configured") != std::string::npos ||
          r.text.find("no password is set") != std::string::npos) {
        if (!self->told_no_password_) spdlog::warn("Redis at {}:{} wants no password: {}", self->host_, self->port_, r.text);
        self->told_no_password_ = true;
        return;
      }
      self->lost("it refused our credentials: " + r.text, true);
    });
  }
  self->send({"PING"}, [self](const Reply& r) {
    if (r.kind == Reply::Kind::Failed || self->up_ || self->stopping_) return;  // gone: on_disconnect says why
    if (r.kind != Reply::Kind::Status || r.text != "PONG") {
      const bool wants_password = r.text.rfind("NOAUTH", 0) == 0;
      self->lost("it answered PING with \"" + (r.text.empty() ? std::string("?") : r.text) + "\"" +
                     (wants_password ? " (a password goes in the URL: redis://:PASSWORD@HOST:PORT)" : ""),
                 true);
      return;
    }
    self->up_ = true;
    spdlog::info("connected to Redis at {}:{}", self->host_, self->port_);
    self->troubled_ = false;
    if (self->on_change_) self->on_change_(true);
  });
}

void RedisClient::on_disconnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  if (!self || ctx != self->ctx_) return;
  // hiredis frees the context once this returns.
  self->ctx_ = nullptr;
  if (self->stopping_) {
    self->up_ = false;
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->timer_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&self->timer_), nullptr);
    }
    return;
  }
  self->lost(self->answer_.refused == Refusal::TooLarge ? too_large_why()
             : self->answer_.refused == Refusal::Unasked
                 ? "it answered a command we did not send (not one of ours: is it Redis?)"
             : status == REDIS_OK ? "the connection closed"
                                  : ctx->errstr,
             false);
}

void RedisClient::lost(const std::string& why, bool free_it) {
  next_attempt_ms_ = uv_now(loop_) + static_cast<std::uint64_t>(retry_ms_);
  redisAsyncContext* c = ctx_;
  ctx_ = nullptr;
  outstanding_ = 0;
  const bool was_up = up_;
  up_ = false;
  if (c && free_it) {
    c->data = nullptr;
    redisAsyncFree(c);  // waiting commands' callbacks run now, with no answer
  }
  if (was_up) {
    losses_++;
    spdlog::warn("lost Redis at {}:{}: {}; serving this process's own worlds and trying again every {} ms", host_,
                 port_, why, retry_ms_);
    troubled_ = true;
    if (on_change_) on_change_(false);
  } else {
    note_trouble(why);
  }
}

std::string RedisClient::too_large_why() {
  return "an answer over " + std::to_string(kMaxAnswerBytes >> 20) + " MiB, of over " + std::to_string(kMaxAnswerParts) +
         " parts or with a line over " + std::to_string(kMaxLineBytes >> 10) + " KiB (not one of ours: is it Redis?)";
}

void RedisClient::answer_too_large() {
  if (!ctx_) return;
  if (stopping_) {  // no reconnect, no "lost" to tell: the stop's timer closes what is left
    redisAsyncContext* c = ctx_;
    ctx_ = nullptr;
    c->data = nullptr;
    redisAsyncFree(c);
    return;
  }
  lost(too_large_why(), true);
}

void RedisClient::note_trouble(const std::string& why) {
  next_attempt_ms_ = uv_now(loop_) + static_cast<std::uint64_t>(retry_ms_);
  if (troubled_) return;  // once per spell of trouble
  troubled_ = true;
  spdlog::warn("cannot reach Redis at {}:{}: {}; serving this process's own worlds and trying again every {} ms",
               host_, port_, why, retry_ms_);
}

void RedisClient::command(const std::vector<std::string>& args, Callback done) {
  if (!ctx_ || !up_ || stopping_) {
    if (done) done(Reply{});
    return;
  }
  send(args, std::move(done));
}

void RedisClient::send(const std::vector<std::string>& args, Callback done) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* pending = new Pending{this, std::move(done)};
  if (redisAsyncCommandArgv(ctx_, on_reply, pending, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    Callback cb = std::move(pending->done);
    delete pending;
    if (cb) cb(Reply{});
    return;
  }
  if (outstanding_++ == 0) last_answer_ms_ = uv_now(loop_);
}

void RedisClient::on_reply(redisAsyncContext* ctx, void* reply, void* privdata) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  RedisClient* self = static_cast<RedisClient*>(ctx->data);
  if (self && reply) {
    if (self->outstanding_ > 0) self->outstanding_--;
    self->last_answer_ms_ = uv_now(self->loop_);
  }
  if (pending->done) pending->done(convert(static_cast<const redisReply*>(reply)));
}

}  // namespace skirmish::server
