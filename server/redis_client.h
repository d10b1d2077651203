// One asynchronous Redis connection on one libuv loop (hiredis, on an adapter of our own). It
// connects, and after a loss connects again every `retry_ms`, without ever blocking the loop:
// the host name is resolved with uv_getaddrinfo, the connect is non-blocking, the connection
// is up once the server answers PING (not when TCP connects: a stopped server, another
// service on the port, or one that wants a password does not), and a server that takes
// commands but stops answering is dropped after a few seconds. A command sent while it is not
// up fails at once. Trouble is logged once per spell, until it is up again. Loop thread only.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct redisAsyncContext;

namespace skirmish::server {

class RedisClient {
 public:
  struct Reply {
    // Failed: no connection, or it was lost before the answer came.
    enum class Kind { Failed, Nil, Integer, String, Status, Error, Array };
    Kind kind = Kind::Failed;
    long long integer = 0;
    std::string text;  // String, Status, Error
    std::vector<Reply> elements;
    bool failed() const { return kind == Kind::Failed || kind == Kind::Error; }
  };
  using Callback = std::function<void(const Reply&)>;

  RedisClient(uv_loop_t* loop, std::string host, int port, int retry_ms);
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  // Destroy it only after stop() and a run of the loop (its handles close there).
  ~RedisClient();

  // Told each time the connection comes up (true: PING answered) or goes away (false).
  void set_on_change(std::function<void(bool up)> cb) { on_change_ = std::move(cb); }
  // Sent with AUTH on every connection before anything else, when `password` is not empty
  // (`username` too, when not empty: a Redis 6 ACL user). Before start().
  void set_credentials(std::string username, std::string password) {
    username_ = std::move(username);
    password_ = std::move(password);
  }
  void start();
  // No more reconnects: commands already sent get their answers (for at most a second),
  // then the connection and the timer close.
  void stop();
  bool up() const { return up_; }
  // Connections lost since start (not counting failed attempts to connect).
  std::uint64_t losses() const { return losses_.load(); }
  // Sends a command; `done` (if any) gets its answer, or Failed. Arguments are binary-safe.
  void command(const std::vector<std::string>& args, Callback done = {});
  // The adapter's (loop thread, outside hiredis's calls): an answer is over the bounds of one
  // (see AnswerBounds). The connection is dropped as lost, and tried again later.
  void answer_too_large();

 private:
  struct Pending;
  struct AnswerBounds;
  // What the answer hiredis is reading is built of so far (AnswerBounds counts it), and why it
  // was refused.
  enum class Refusal { None, TooLarge, Unasked };
  struct Answer {
    std::size_t parts = 0, bytes = 0;
    Refusal refused = Refusal::None;
  };
  static std::string too_large_why();
  static void on_timer(uv_timer_t* t);
  static void on_resolved(uv_getaddrinfo_t* req, int status, struct addrinfo* res);
  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);
  void resolve();
  void connect_to(const std::string& address);
  // The connection is unusable: forget it (freeing it when `free_it`), and try again later.
  void lost(const std::string& why, bool free_it);
  void note_trouble(const std::string& why);
  // Sends a command on the connection, up or not (command() checks).
  void send(const std::vector<std::string>& args, Callback done);

  uv_loop_t* loop_;
  std::string host_;
  int port_;
  int retry_ms_;
  uv_timer_t timer_;
  std::unique_ptr<uv_getaddrinfo_t> resolving_;  // while a lookup runs
  std::string username_, password_;
  bool told_no_password_ = false;
  redisAsyncContext* ctx_ = nullptr;             // connecting or connected
  bool up_ = false;
  bool started_ = false;
  bool stopping_ = false;
  bool troubled_ = false;  // the trouble was logged; the next success is logged too
  std::atomic<std::uint64_t> losses_{0};  // read by /metrics on any loop
  std::size_t outstanding_ = 0;         // commands sent without an answer yet
  std::uint64_t last_answer_ms_ = 0;    // loop time of the last answer (or of the first send)
  std::uint64_t stop_deadline_ms_ = 0;  // stopping: when to give up on answers
  std::uint64_t next_attempt_ms_ = 0;   // down: when to try again
  std::function<void(bool)> on_change_;
  Answer answer_;  // of the current connection
};

}  // namespace skirmish::server
