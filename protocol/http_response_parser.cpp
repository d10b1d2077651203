#include "protocol/http_response_parser.h"

namespace skirmish::protocol {

HttpResponseParser::HttpResponseParser(std::size_t max_body) : max_body_(max_body) {
  llhttp_settings_init(&settings_);
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

int HttpResponseParser::on_headers_complete(llhttp_t* p) {
  static_cast<HttpResponseParser*>(p->data)->status_ = static_cast<int>(p->status_code);
  return 0;
}

int HttpResponseParser::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  if (self->body_.size() + len > self->max_body_) {
    self->failed_ = true;
    return HPE_USER;
  }
  self->body_.append(at, len);
  return 0;
}

int HttpResponseParser::on_message_complete(llhttp_t* p) {
  auto* self = static_cast<HttpResponseParser*>(p->data);
  self->complete_ = true;
  return HPE_PAUSED;  // one response: whatever follows is not ours
}

HttpResponseParser::Status HttpResponseParser::state() const {
  if (complete_) return Status::Complete;
  return failed_ ? Status::Error : Status::NeedMore;
}

HttpResponseParser::Status HttpResponseParser::feed(const char* data, std::size_t len) {
  if (complete_ || failed_) return state();
  const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err != HPE_OK && err != HPE_PAUSED) failed_ = true;
  return state();
}

HttpResponseParser::Status HttpResponseParser::finish() {
  if (complete_ || failed_) return state();
  // A body that runs to the end of the connection is complete now; anything else is cut short.
  // (llhttp_finish reports the pause our on_message_complete asks for as an error: it is none.)
  llhttp_finish(&parser_);
  if (!complete_) failed_ = true;
  return state();
}

}  // namespace skirmish::protocol
