#include "server/local_http_client.h"

#include <cstdlib>
#include <cstring>

#include "protocol/http_response_parser.h"

namespace skirmish::server {

struct LocalHttpClient::Call {
  LocalHttpClient* owner = nullptr;  // null once the client is gone
  Call* next = nullptr;
  Call* prev = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_connect_t connect{};
  uv_write_t write{};
  std::string out;
  protocol::HttpResponseParser in{kMaxBody};
  char buf[4096];
  Done done;
  int open_handles = 2;  // tcp and timer: freed when both have closed
  bool finished = false;
};

LocalHttpClient::~LocalHttpClient() {
  for (Call* c = calls_; c != nullptr; c = c->next) {
    c->owner = nullptr;
    c->done = nullptr;
    finish(c, 0);
  }
}

void LocalHttpClient::cancel_all() {
  while (Call* c = calls_) {
    c->done = nullptr;
    finish(c, 0);  // unlinks it: calls_ moves on
  }
}

void LocalHttpClient::request(const std::string& method, const std::string& path, const std::string& json_body,
                              Done done, int timeout_ms) {
  auto* call = new Call();
  call->owner = this;
  call->done = std::move(done);
  call->out = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
              "Content-Length: " + std::to_string(json_body.size()) + "\r\nConnection: close\r\n\r\n" + json_body;
  call->next = calls_;
  if (calls_) calls_->prev = call;
  calls_ = call;
  in_flight_++;
  uv_tcp_init(loop_, &call->tcp);
  uv_timer_init(loop_, &call->timer);
  call->tcp.data = call->timer.data = call->connect.data = call->write.data = call;
  uv_timer_start(&call->timer, on_timeout, static_cast<std::uint64_t>(timeout_ms), 0);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", port_, &addr);
  if (uv_tcp_connect(&call->connect, &call->tcp, reinterpret_cast<const sockaddr*>(&addr), on_connect) != 0) {
    finish(call, 0);
  }
}

void LocalHttpClient::on_connect(uv_connect_t* req, int status) {
  auto* call = static_cast<Call*>(req->data);
  if (call->finished) return;
  if (status != 0) return finish(call, 0);
  uv_buf_t b = uv_buf_init(call->out.data(), static_cast<unsigned>(call->out.size()));
  if (uv_write(&call->write, reinterpret_cast<uv_stream_t*>(&call->tcp), &b, 1, on_write) != 0 ||
      uv_read_start(reinterpret_cast<uv_stream_t*>(&call->tcp), on_alloc, on_read) != 0) {
    finish(call, 0);
  }
}

void LocalHttpClient::on_write(uv_write_t* req, int status) {
  auto* call = static_cast<Call*>(req->data);
  if (status != 0 && !call->finished) finish(call, 0);
}

void LocalHttpClient::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* call = static_cast<Call*>(handle->data);
  *buf = uv_buf_init(call->buf, sizeof call->buf);
}

void LocalHttpClient::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* call = static_cast<Call*>(stream->data);
  if (call->finished) return;
  using Status = protocol::HttpResponseParser::Status;
  // The end of the connection ends a body sent without a length; anything else it cuts short.
  const Status s = nread < 0 ? call->in.finish() : call->in.feed(buf->base, static_cast<std::size_t>(nread));
  if (s == Status::NeedMore) return;
  const int status = call->in.status();
  finish(call, s == Status::Complete && status >= 100 && status <= 599 ? status : 0);
}

void LocalHttpClient::on_timeout(uv_timer_t* timer) {
  auto* call = static_cast<Call*>(timer->data);
  if (!call->finished) finish(call, 0);
}

void LocalHttpClient::finish(Call* call, int status) {
  call->finished = true;
  if (LocalHttpClient* owner = call->owner) {
    // Unlinked first: `done` may start another request, or destroy nothing of ours.
    if (call->prev) call->prev->next = call->next;
    else owner->calls_ = call->next;
    if (call->next) call->next->prev = call->prev;
    owner->in_flight_--;
    call->owner = nullptr;
  }
  uv_timer_stop(&call->timer);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&call->tcp))) uv_close(reinterpret_cast<uv_handle_t*>(&call->tcp), on_closed);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&call->timer))) uv_close(reinterpret_cast<uv_handle_t*>(&call->timer), on_closed);
  Done done = std::move(call->done);
  call->done = nullptr;
  if (done) done(status, status != 0 ? call->in.body() : std::string());
}

void LocalHttpClient::on_closed(uv_handle_t* handle) {
  auto* call = static_cast<Call*>(handle->data);
  if (--call->open_handles == 0) delete call;
}

}  // namespace skirmish::server
