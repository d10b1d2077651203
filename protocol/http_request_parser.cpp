#include "protocol/http_request_parser.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "protocol/header_text.h"

namespace skirmish::protocol {

namespace {
HttpRequestParser* self(llhttp_t* p) { return static_cast<HttpRequestParser*>(p->data); }
// Host = uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): a name or an address, made of
// unreserved characters, %-escapes, sub-delims, ':' and the brackets of an IPv6 literal.
// Empty is allowed (a request whose target has no authority).
bool valid_host(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || std::string_view("-._~%!$&'()*+,;=:[]").find(ch) != std::string_view::npos;
  });
}
// Per header line, ": " and CRLF are not in the spans llhttp reports; count them anyway so
// the limit means "bytes on the wire" closely enough.
constexpr std::size_t kHeaderLineOverhead = 4;
// The bytes of a request kept to judge a method llhttp refused: longer than any method's name.
constexpr std::size_t kMethodHead = 64;
// The end of a request line that names its protocol: " HTTP/1.1".
constexpr std::size_t kVersionTail = 9;
}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

std::size_t HttpRequest::header_count(std::string_view lower_name) const {
  std::size_t n = 0;
  for (const auto& h : headers) n += h.name == lower_name;
  return n;
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = on_message_begin;
  settings_.on_method = on_method;
  settings_.on_method_complete = on_method_complete;
  settings_.on_url = on_url;
  settings_.on_version = on_version;
  settings_.on_version_complete = on_version_complete;
  settings_.on_header_field = on_header_field;
  settings_.on_header_field_complete = on_header_field_complete;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_chunk_extension_name = on_chunk_extension;
  settings_.on_chunk_extension_value = on_chunk_extension;
  settings_.on_chunk_extension_name_complete = on_chunk_extension_complete;
  settings_.on_chunk_extension_value_complete = on_chunk_extension_complete;
  settings_.on_message_complete = on_message_complete;
  reset();
}

void HttpRequestParser::reset() {
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
  request_ = HttpRequest{};
  error_ = HttpReject{};
  header_bytes_ = 0;
  extension_bytes_ = 0;
  section_bytes_ = 0;
  section_tail_ = 0;
  section_begun_ = false;
  section_done_ = false;
  section_error_.reset();
  line_done_ = false;
  line_tail_.clear();
  headers_done_ = false;
  in_value_ = false;
  started_ = false;
  complete_ = false;
  failed_ = false;
  upgrade_ = false;
  continue_wanted_ = false;
  method_head_.clear();
  judging_method_ = false;
}

int HttpRequestParser::fail(int status, const char* reason) {
  failed_ = true;
  error_.status = status;
  error_.reason = reason;
  return -1;
}

int HttpRequestParser::count_header_bytes(std::size_t len) {
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) return fail(431, "request line and headers are too large");
  return 0;
}

HttpRequestParser::Status HttpRequestParser::feed(const char* data, std::size_t len, std::size_t& consumed) {
  consumed = 0;
  if (failed_) return Status::Error;
  if (complete_) return Status::Complete;
  if (len == 0) return Status::NeedMore;
  started_ = true;
  // The request's first bytes past any empty lines before it (llhttp skips those, however many).
  for (std::size_t i = 0; i < len && method_head_.size() < kMethodHead; ++i) {
    if (method_head_.empty() && (data[i] == '\r' || data[i] == '\n')) continue;
    method_head_ += data[i];
  }
  if (judging_method_) {
    judge_method();
    if (failed_) return Status::Error;
    consumed = len;
    return Status::NeedMore;
  }
  const std::size_t checked = scan_section(data, len);
  const llhttp_errno_t err = llhttp_execute(&parser_, data, checked);
  if (err == HPE_OK) {
    if (section_error_ && !failed_) fail(section_error_->status, section_error_->reason.c_str());
    if (failed_) return Status::Error;
    consumed = len;
    return Status::NeedMore;
  }
  if (complete_ && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)) {
    const char* pos = llhttp_get_error_pos(&parser_);
    consumed = pos ? static_cast<std::size_t>(pos - data) : len;
    return Status::Complete;
  }
  if (!failed_ && err == HPE_PAUSED_H2_UPGRADE) {
    // "PRI * HTTP/2.0": HTTP/2 with prior knowledge (RFC 9113 3.3).
    fail(505, "HTTP/2 is not supported here: use HTTP/1.1");
    return Status::Error;
  }
  if (!failed_ && err == HPE_INVALID_CONSTANT) {
    // A method llhttp knows from another protocol (RTSP's DESCRIBE, SETUP, PLAY), refused
    // once the version turns out to be HTTP's: one we do not implement either.
    const char* why = llhttp_get_error_reason(&parser_);
    if (why && std::string_view(why).starts_with("Invalid method for HTTP")) {
      fail(501, "method not implemented");
      return Status::Error;
    }
  }
  if (!failed_ && err == HPE_INVALID_METHOD) {
    judging_method_ = true;
    judge_method();
    if (failed_) return Status::Error;
    consumed = len;
    return Status::NeedMore;
  }
  if (!failed_) {
    // llhttp's own verdict; its reason strings are terse but accurate ("Invalid method").
    failed_ = true;
    error_.status = 400;
    const char* why = llhttp_get_error_reason(&parser_);
    error_.reason = why && *why ? why : llhttp_errno_name(err);
  }
  return Status::Error;
}

std::size_t HttpRequestParser::scan_section(const char* data, std::size_t len) {
  if (section_error_) return len;  // llhttp takes it from here (the caller fails anyway)
  std::size_t i = 0;
  while (i < len && !section_done_) {
    const auto c = static_cast<unsigned char>(data[i++]);
    if (++section_bytes_ > limits_.max_header_bytes) {
      section_error_ = HttpReject{431, "request line and headers are too large", {}};
      return i;
    }
    if (!section_begun_) {
      if (c == '\r' || c == '\n') continue;
      section_begun_ = true;
    }
    section_tail_ = (section_tail_ << 8) | c;
    // An empty line ends the section: CR LF CR LF, or with a bare LF where llhttp takes one
    // (strict mode still ends the headers at "\r\n\n").
    section_done_ = (section_tail_ & 0xffff) == 0x0a0a || (section_tail_ & 0xffffff) == 0x0a0d0a;
    if (line_done_) continue;
    if (c == '\r' || c == '\n') {
      // llhttp takes RTSP/1.0 and ICE/1.0 for versions too (RFC 9112 2.3: "HTTP/" only).
      line_done_ = true;
      if (!(line_tail_.size() == kVersionTail && line_tail_.starts_with(" HTTP/"))) {
        section_error_ = HttpReject{400, "not an HTTP/1.x request line", {}};
        return i;
      }
    } else {
      if (line_tail_.size() == kVersionTail) line_tail_.erase(0, 1);
      line_tail_ += static_cast<char>(c);
    }
  }
  return len;
}

void HttpRequestParser::judge_method() {
  // tchar (RFC 9110 5.6.2): what a method token is made of.
  auto tchar = [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  };
  if (method_head_.empty()) return;
  std::size_t i = 0;
  const std::size_t start = i;
  while (i < method_head_.size() && tchar(static_cast<unsigned char>(method_head_[i]))) ++i;
  if (i < method_head_.size()) {
    if (method_head_[i] == ' ' && i > start) {
      fail(501, "method not implemented");
    } else {
      fail(400, "Invalid method");
    }
  } else if (method_head_.size() >= kMethodHead) {
    fail(501, "method not implemented");  // a token longer than any method we know
  }
}

int HttpRequestParser::on_message_begin(llhttp_t* p) {
  self(p)->started_ = true;
  return 0;
}

// Span callbacks run once per piece of input a span was split across, so fixed overheads
// are counted in the *_complete callbacks: the limit must not depend on how bytes arrive.
int HttpRequestParser::on_method(llhttp_t* p, const char* at, std::size_t len) {
  auto* s = self(p);
  s->request_.method.append(at, len);
  return s->count_header_bytes(len);
}

int HttpRequestParser::on_method_complete(llhttp_t* p) { return self(p)->count_header_bytes(1); }

int HttpRequestParser::on_url(llhttp_t* p, const char* at, std::size_t len) {
  auto* s = self(p);
  s->request_.target.append(at, len);
  // Over the limit before any header: the target is what is too long (RFC 9112 3: 414).
  s->header_bytes_ += len;
  if (s->header_bytes_ > s->limits_.max_header_bytes) return s->fail(414, "request target is too long");
  return 0;
}

int HttpRequestParser::on_version(llhttp_t* p, const char*, std::size_t len) {
  return self(p)->count_header_bytes(len);
}

int HttpRequestParser::on_version_complete(llhttp_t* p) { return self(p)->count_header_bytes(kHeaderLineOverhead); }

int HttpRequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t len) {
  auto* s = self(p);
  // A trailer field is counted, and dropped: it must not pass for a header (RFC 9110 6.5.1:
  // an X-Forwarded-For there would name whatever client it liked).
  if (s->headers_done_) return s->count_header_bytes(len);
  if (s->request_.headers.empty() || s->in_value_) {
    if (s->request_.headers.size() >= s->limits_.max_header_count) return s->fail(431, "too many header fields");
    s->request_.headers.push_back({});
    s->in_value_ = false;
    if (int rc = s->count_header_bytes(kHeaderLineOverhead)) return rc;
  }
  for (std::size_t i = 0; i < len; ++i) {
    s->request_.headers.back().name += static_cast<char>(std::tolower(static_cast<unsigned char>(at[i])));
  }
  return s->count_header_bytes(len);
}

// llhttp (loose mode) lets a space into a field name and accepts an empty one; RFC 9112
// section 5.1 says a server MUST answer 400 to whitespace before the colon.
int HttpRequestParser::on_header_field_complete(llhttp_t* p) {
  auto* s = self(p);
  if (s->headers_done_) return 0;
  // No on_header_field since the last value: this field's name is empty.
  if (s->request_.headers.empty() || s->in_value_) return s->fail(400, "invalid header name");
  const std::string& name = s->request_.headers.back().name;
  if (name.empty() || name.find_first_of(" \t") != std::string::npos) return s->fail(400, "invalid header name");
  return 0;
}

int HttpRequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (s->headers_done_) return s->count_header_bytes(len);
  s->in_value_ = true;
  s->request_.headers.back().value.append(at, len);
  return s->count_header_bytes(len);
}

int HttpRequestParser::on_headers_complete(llhttp_t* p) {
  auto* s = self(p);
  if (p->http_major != 1) return s->fail(505, "only HTTP/1.x is supported");
  s->headers_done_ = true;
  // A value ends before its trailing spaces and tabs (RFC 9110 5.5); llhttp drops only the
  // leading ones.
  for (auto& h : s->request_.headers) {
    while (!h.value.empty() && (h.value.back() == ' ' || h.value.back() == '\t')) h.value.pop_back();
  }
  s->request_.version_major = p->http_major;
  s->request_.version_minor = p->http_minor;
  s->request_.keep_alive = llhttp_should_keep_alive(p) != 0;
  // An HTTP/1.0 message with Transfer-Encoding has faulty framing: the connection closes
  // after it (RFC 9112 6.1), whatever it asked for.
  if (p->http_minor == 0 && s->request_.header("transfer-encoding")) s->request_.keep_alive = false;
  s->upgrade_ = p->upgrade != 0;
  // RFC 9112 3.2: a request with more than one Host line gets a 400, whatever it asks for,
  // and so does an HTTP/1.1 request with none.
  const std::size_t hosts = s->request_.header_count("host");
  if (hosts > 1) return s->fail(400, "more than one Host header");
  if (hosts == 0 && p->http_minor >= 1) return s->fail(400, "an HTTP/1.1 request needs a Host header");
  if (hosts == 1 && !valid_host(*s->request_.header("host"))) return s->fail(400, "the Host header is not a host");
  if (!s->to_origin_form()) return s->fail(400, "bad request target");
  // llhttp reads a body whose last coding is chunked and ignores the codings before it: a
  // body we would read as plain bytes when it is, say, gzip. RFC 9112 6.1: 501.
  // (Empty list elements count for nothing.)
  const auto codings = joined_header(s->request_.headers, "transfer-encoding");
  if (codings && any_list_item(*codings, [](std::string_view c) { return !c.empty() && !iequals(c, "chunked"); })) {
    return s->fail(501, "only the chunked transfer coding is supported");
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s->limits_.max_body_bytes) {
    return s->fail(413, "request body is too large");
  }
  // An HTTP/1.0 client's expectation is ignored (RFC 9110 10.1.1); only a body to come counts.
  const std::string* expect = s->request_.header("expect");
  const bool body_follows = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
  s->continue_wanted_ = expect && p->http_minor >= 1 && body_follows && iequals(trim(*expect), "100-continue");
  return 0;
}

bool HttpRequestParser::to_origin_form() {
  // RFC 9112 3.2.2: a server MUST accept the absolute-form ("http://host:port/path?q", what
  // clients send to proxies), and its authority replaces the Host header. What follows sees
  // the origin-form only.
  std::string& target = request_.target;
  std::size_t scheme = 0;
  for (const std::string_view prefix : {"http://", "https://"}) {
    if (istarts_with(target, prefix)) scheme = prefix.size();
  }
  if (scheme == 0) return true;
  const std::size_t path = target.find_first_of("/?#", scheme);
  std::string authority = target.substr(scheme, path == std::string::npos ? std::string::npos : path - scheme);
  if (authority.empty() || authority.find('@') != std::string::npos) return false;  // no host, or userinfo
  std::string rest = path == std::string::npos ? std::string("/") : target.substr(path);
  if (rest.front() != '/') rest.insert(rest.begin(), '/');
  target = std::move(rest);
  for (auto& h : request_.headers) {
    if (h.name == "host") h.value = authority;
  }
  if (request_.header_count("host") == 0) request_.headers.push_back({"host", std::move(authority)});
  return true;
}

int HttpRequestParser::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (s->request_.body.size() + len > s->limits_.max_body_bytes) return s->fail(413, "request body is too large");
  s->request_.body.append(at, len);
  return 0;
}

// Chunk extensions are read and dropped, but llhttp (before 9.1.3) sets them no bound: a
// client could stream gigabytes of one for the whole request timeout (CVE-2024-22019). They
// get as many bytes as the headers: their names' and values' bytes, and one for each name and
// value however empty (";;;;" is all separators), counted once whatever the reads' split.
int HttpRequestParser::count_extension_bytes(std::size_t len) {
  extension_bytes_ += len;
  if (extension_bytes_ > limits_.max_header_bytes) return fail(413, "chunk extensions are too large");
  return 0;
}

int HttpRequestParser::on_chunk_extension(llhttp_t* p, const char*, std::size_t len) {
  return self(p)->count_extension_bytes(len);
}

int HttpRequestParser::on_chunk_extension_complete(llhttp_t* p) { return self(p)->count_extension_bytes(1); }

int HttpRequestParser::on_message_complete(llhttp_t* p) {
  auto* s = self(p);
  s->complete_ = true;
  s->continue_wanted_ = false;  // the body came with the headers: no need to ask for it
  // Stop right after this request so the caller gets the remaining bytes back.
  return HPE_PAUSED;
}

}  // namespace skirmish::protocol
