// Plain HTTP/1.1 data: a parsed request, a response to serialise, and the limits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skirmish::protocol {

struct HttpHeader {
  std::string name;  // lower-cased by the parser
  std::string value;
};

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path plus optional query
  int version_major = 1;
  int version_minor = 1;
  std::vector<HttpHeader> headers;
  std::string body;
  bool keep_alive = true;

  // The first header with this (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // How many header lines have this (lower-case) name.
  std::size_t header_count(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<HttpHeader> headers;  // Content-Length is added by serialize_response
  std::string body;
  bool keep_alive = true;           // false adds "Connection: close"
  bool head_only = false;           // HEAD: headers as for GET, no body bytes
  // The request was HTTP/1.0 and asked to be kept alive: say "Connection: keep-alive", or the
  // client takes the connection for closing after this answer (RFC 9112 9.3, appendix C.2.2).
  bool announce_keep_alive = false;
  // The Date header's value, from the caller (this layer has no clock); empty: none. Not sent
  // on a 1xx.
  std::string date;
};

// What the request parser enforces. The daemon fills this from config ("http.*").
struct HttpLimits {
  // Request line plus headers. 8 KiB is what nginx and most proxies allow by default;
  // browsers' handshakes are under 1 KiB.
  std::size_t max_header_bytes = 8 * 1024;
  // Bodies are only small JSON messages (game sessions over HTTP); 64 KiB is generous.
  std::size_t max_body_bytes = 64 * 1024;
  // One request needs a handful of headers; this bounds the header vector a client can grow.
  std::size_t max_header_count = 100;
};

// A refusal that carries its wire answer: the status and a short human-readable reason,
// plus any headers the status needs (426 carries Sec-WebSocket-Version, 503 Retry-After).
struct HttpReject {
  int status = 400;
  std::string reason;
  std::vector<HttpHeader> headers;
};

// The joined value of every line of header `lower_name` in `headers` (name, value pairs),
// ", " between them; nullopt when there is none. A list-valued header (Connection,
// Sec-WebSocket-Protocol, X-Forwarded-For) may come as several lines, which mean the same as
// one line with their values joined by commas (RFC 9110 5.3).
template <class Headers>
std::optional<std::string> joined_header(const Headers& headers, std::string_view lower_name) {
  std::optional<std::string> out;
  for (const auto& h : headers) {
    if (h.name != lower_name) continue;
    if (out) {
      *out += ", ";
      *out += h.value;
    } else {
      out = h.value;
    }
  }
  return out;
}

}  // namespace skirmish::protocol
