// One-shot HTTP/1.1 requests to a port on this machine (a sidecar such as Agones' SDK server),
// on the loop, never blocking it: connect, send, read the answer, close. Each call ends
// exactly once, with the status and the body, or 0 (refused, reset, not HTTP, a body over
// 1 MiB, or no whole answer within its timeout).
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <string>

namespace skirmish::server {

class LocalHttpClient {
 public:
  using Done = std::function<void(int status, const std::string& body)>;  // 0: no answer

  LocalHttpClient(uv_loop_t* loop, int port) : loop_(loop), port_(port) {}
  LocalHttpClient(const LocalHttpClient&) = delete;
  LocalHttpClient& operator=(const LocalHttpClient&) = delete;
  // Calls still in flight end with 0 and free themselves in their close callbacks; `done` is
  // not called after this.
  ~LocalHttpClient();

  void request(const std::string& method, const std::string& path, const std::string& json_body, Done done,
               int timeout_ms = 2000);
  std::size_t in_flight() const { return in_flight_; }
  // Ends every call in flight at once, without calling their `done` (their handles close on
  // the loop's next turn, so a stopping loop need not wait out their timeouts).
  void cancel_all();

 private:
  struct Call;
  static void on_connect(uv_connect_t* req, int status);
  static void on_write(uv_write_t* req, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_timeout(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);
  static void finish(Call* call, int status);
  // A GameServer document with many labels, annotations or lists runs past 64 KiB.
  static constexpr std::size_t kMaxBody = 1024 * 1024;

  uv_loop_t* loop_;
  int port_;
  std::size_t in_flight_ = 0;
  Call* calls_ = nullptr;  // in flight, linked: the destructor detaches them
};

}  // namespace skirmish::server
