// Incremental HTTP/1.1 request parser on top of llhttp.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "protocol/http_types.h"

namespace skirmish::protocol {

// Bytes in, one request out. feed() stops at the end of the first complete request and
// says how many bytes it used; the rest of the buffer belongs to the next request (keep-
// alive pipelining) or, after an upgrade, to the WebSocket frame decoder.
//
// Errors are sticky and carry their answer: 400 for malformed syntax (and an HTTP/1.1
// request without Host), 414 for a target and 431 for headers over the limit, 413 for a body
// (or chunk extensions) over the limit, 501 for a transfer coding other than chunked, 505 for
// an HTTP major version other than 1.
class HttpRequestParser {
 public:
  enum class Status { NeedMore, Complete, Error };

  explicit HttpRequestParser(HttpLimits limits);
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // On Complete, `consumed` is the number of bytes of this call that made up the request.
  // On NeedMore every byte was consumed.
  Status feed(const char* data, std::size_t len, std::size_t& consumed);

  // Valid after Complete; may be moved from.
  HttpRequest& request() { return request_; }
  // Whether the completed request asked for a protocol upgrade (llhttp's judgement).
  bool upgrade() const { return upgrade_; }
  const HttpReject& error() const { return error_; }
  // True once any byte of a request has arrived (for telling idle from slow).
  bool started() const { return started_; }
  // True once, after feed() returned NeedMore, when the request's headers said
  // "Expect: 100-continue" and its body has not come: the client waits for an interim
  // "100 Continue" before sending it (RFC 9110 10.1.1). A request refused from its headers
  // alone (413, 431) gets its final answer instead.
  bool take_continue() { return std::exchange(continue_wanted_, false); }

  // Forgets the request and gets ready for the next one on the same connection.
  void reset();

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, std::size_t len);
  static int on_method_complete(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, std::size_t len);
  static int on_version(llhttp_t* p, const char* at, std::size_t len);
  static int on_version_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t len);
  static int on_chunk_extension(llhttp_t* p, const char* at, std::size_t len);
  static int on_chunk_extension_complete(llhttp_t* p);
  static int on_message_complete(llhttp_t* p);

  int fail(int status, const char* reason);
  // After llhttp refused the method: 501 if the request starts with a method token (one it
  // does not know: RFC 9110 9.1 says 501, not 400), 400 if with anything else, or nothing yet
  // while the bytes so far are the start of a token. Reads method_head_.
  void judge_method();
  // Rewrites an absolute-form target to the origin-form; false when it is malformed.
  bool to_origin_form();
  int count_header_bytes(std::size_t len);
  // Our checks of the request line and the header section as they are on the wire: their
  // size, the whitespace llhttp skips included (empty lines before the request, spaces before
  // a value), up to the blank line that ends the section; and the request line's protocol.
  // Scans ahead of llhttp, byte by byte, and stops after a byte that fails a check (its
  // verdict in section_error_): returns the bytes scanned, which llhttp then gets, so that
  // its verdicts and ours come in the same order however the bytes arrive.
  std::size_t scan_section(const char* data, std::size_t len);
  int count_extension_bytes(std::size_t len);

  HttpLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  HttpRequest request_;
  HttpReject error_;
  std::size_t header_bytes_ = 0;
  std::size_t extension_bytes_ = 0;  // chunk extensions (";name=value" after a chunk size)
  std::size_t section_bytes_ = 0;  // scan_section's count
  std::optional<HttpReject> section_error_;
  std::uint32_t section_tail_ = 0;  // its last four bytes (CR LF CR LF ends the section)
  bool section_begun_ = false;      // past the empty lines before the request line
  bool section_done_ = false;
  bool line_done_ = false;          // the request line has ended
  std::string line_tail_;           // its last bytes until then: " HTTP/1.1" names the protocol
  bool headers_done_ = false;  // what comes as header fields now is a chunked body's trailer
  bool in_value_ = false;
  bool started_ = false;
  bool complete_ = false;
  bool failed_ = false;
  bool upgrade_ = false;
  bool continue_wanted_ = false;
  // The first bytes of the request, kept until the method has been judged: llhttp may refuse
  // a method at its first byte, before the token and its space have come.
  std::string method_head_;
  bool judging_method_ = false;
};

}  // namespace skirmish::protocol
