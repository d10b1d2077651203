// An HTTP/1.1 response, bytes in (llhttp in response mode): its status and its body, whether
// sent with Content-Length, chunked, or up to the connection's end. For the daemon's own
// requests to a sidecar on localhost (Agones' SDK server). Sans-I/O.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>

namespace skirmish::protocol {

class HttpResponseParser {
 public:
  enum class Status { NeedMore, Complete, Error };
  // A body over `max_body` bytes is an Error.
  explicit HttpResponseParser(std::size_t max_body);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  Status feed(const char* data, std::size_t len);
  // The connection ended: a response whose body runs to the end is complete now.
  Status finish();

  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t len);
  static int on_message_complete(llhttp_t* p);
  Status state() const;

  llhttp_settings_t settings_;
  llhttp_t parser_;
  std::size_t max_body_;
  int status_ = 0;
  std::string body_;
  bool complete_ = false;
  bool failed_ = false;
};

}  // namespace skirmish::protocol
