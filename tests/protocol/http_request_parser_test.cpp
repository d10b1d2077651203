// HttpRequestParser behaviour. Requests are fed whole, one byte at a time and split at
// every offset (feed_every_way): every way must give the same request, the same
// `consumed` and the same error.
#include "protocol/http_request_parser.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/split_feeder.h"

using namespace skirmish::protocol;
using skirmish::testing::feed_every_way;
using Status = HttpRequestParser::Status;

namespace {

// Everything one parse produced, in a value that compares and prints.
struct Outcome {
  Status status = Status::NeedMore;
  std::string method;
  std::string target;
  int version_major = 0;
  int version_minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;
  bool upgrade = false;
  std::size_t consumed = 0;  // bytes of the whole input that made up the request
  int error_status = 0;
  std::string error_reason;
  bool every_needmore_consumed_all = true;

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

const char* status_name(Status s) {
  switch (s) {
    case Status::NeedMore: return "NeedMore";
    case Status::Complete: return "Complete";
    case Status::Error: return "Error";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{" << status_name(o.status) << " " << o.method << " " << o.target << " HTTP/" << o.version_major << "."
     << o.version_minor << " headers=" << o.headers.size() << " body=" << o.body.size()
     << " keep_alive=" << o.keep_alive << " upgrade=" << o.upgrade << " consumed=" << o.consumed
     << " error=" << o.error_status << " '" << o.error_reason << "'"
     << " needmore_all=" << o.every_needmore_consumed_all << "}";
  return os;
}

// Feeds the pieces in order until the parser completes or fails.
Outcome parse_pieces(const std::vector<std::string_view>& pieces, HttpLimits limits = {}) {
  HttpRequestParser parser(limits);
  Outcome o;
  std::size_t offset = 0;
  for (const std::string_view piece : pieces) {
    std::size_t consumed = 12345;
    o.status = parser.feed(piece.data(), piece.size(), consumed);
    if (o.status == Status::Complete) {
      o.consumed = offset + consumed;
      break;
    }
    if (o.status == Status::Error) {
      o.error_status = parser.error().status;
      o.error_reason = parser.error().reason;
      return o;
    }
    if (consumed != piece.size()) o.every_needmore_consumed_all = false;
    offset += consumed;
  }
  if (o.status != Status::Complete) return o;
  const HttpRequest& r = parser.request();
  o.method = r.method;
  o.target = r.target;
  o.version_major = r.version_major;
  o.version_minor = r.version_minor;
  for (const auto& h : r.headers) o.headers.emplace_back(h.name, h.value);
  o.body = r.body;
  o.keep_alive = r.keep_alive;
  o.upgrade = parser.upgrade();
  return o;
}

Outcome parse_every_way(std::string_view bytes, HttpLimits limits = {}) {
  return feed_every_way(bytes, [&](const std::vector<std::string_view>& pieces) { return parse_pieces(pieces, limits); });
}

Outcome parse_whole(std::string_view bytes, HttpLimits limits = {}) {
  return parse_pieces(std::vector<std::string_view>{bytes}, limits);
}

HttpLimits limits(std::size_t header_bytes, std::size_t body_bytes = 64 * 1024, std::size_t header_count = 100) {
  HttpLimits l;
  l.max_header_bytes = header_bytes;
  l.max_body_bytes = body_bytes;
  l.max_header_count = header_count;
  return l;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kHandshake =
    "GET /ws?x=10&y=20 HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

}  // namespace

// ---- complete requests ------------------------------------------------------------------

TEST_CASE("a complete GET is parsed into method, target, version and headers", "[protocol][http]") {
  const std::string wire =
      "GET /index.html?v=2 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "User-Agent: test/1.0\r\n"
      "Accept: */*\r\n"
      "\r\n";
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.method == "GET");
  CHECK(o.target == "/index.html?v=2");
  CHECK(o.version_major == 1);
  CHECK(o.version_minor == 1);
  CHECK(o.headers == Headers{{"host", "example.com"}, {"user-agent", "test/1.0"}, {"accept", "*/*"}});
  CHECK(o.body.empty());
  CHECK(o.consumed == wire.size());
}

TEST_CASE("header names are lower-cased and values keep their case", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHOST: Example.COM\r\nX-MiXeD-CaSe: VaLuE\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.headers == Headers{{"host", "Example.COM"}, {"x-mixed-case", "VaLuE"}});
}

TEST_CASE("header values lose the whitespace in front of them", "[protocol][http]") {
  // llhttp keeps trailing whitespace in the value; consumers (handshake, ETag) trim it.
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost:    spaced.example\r\nX-Tab:\tv\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.headers == Headers{{"host", "spaced.example"}, {"x-tab", "v"}});
}

TEST_CASE("an empty header value does not merge the next header's name into this one", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Next: 1\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.headers == Headers{{"host", "h"}, {"x-empty", ""}, {"x-next", "1"}});
}

TEST_CASE("HttpRequest::header returns the first header of that name, or nullptr", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Dup: first\r\nX-Dup: second\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(wire.data(), wire.size(), consumed) == Status::Complete);
  const HttpRequest& r = parser.request();
  REQUIRE(r.header("x-dup") != nullptr);
  CHECK(*r.header("x-dup") == "first");
  REQUIRE(r.header("host") != nullptr);
  CHECK(*r.header("host") == "h");
  CHECK(r.header("x-missing") == nullptr);
  CHECK(r.header("X-Dup") == nullptr);  // the lookup name must already be lower-case
}

TEST_CASE("HTTP/1.1 is keep-alive by default", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.keep_alive);
}

TEST_CASE("HTTP/1.1 with Connection: close is not keep-alive", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK_FALSE(o.keep_alive);
}

TEST_CASE("HTTP/1.0 is not keep-alive by default and reports version 1.0", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.version_major == 1);
  CHECK(o.version_minor == 0);
  CHECK_FALSE(o.keep_alive);
}

TEST_CASE("HTTP/1.0 with Connection: keep-alive is keep-alive", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.keep_alive);
}

TEST_CASE("a plain request is not an upgrade", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK_FALSE(o.upgrade);
}

TEST_CASE("a WebSocket handshake is complete and flagged as an upgrade", "[protocol][http]") {
  const Outcome o = parse_every_way(kHandshake);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.upgrade);
  CHECK(o.method == "GET");
  CHECK(o.target == "/ws?x=10&y=20");
  CHECK(o.consumed == kHandshake.size());
  CHECK(o.headers.size() == 5);
}

TEST_CASE("a request without its final blank line needs more bytes and consumes them all", "[protocol][http]") {
  const std::string partial = "GET / HTTP/1.1\r\nHost: h\r\n";
  const Outcome o = parse_every_way(partial);
  CHECK(o.status == Status::NeedMore);
  CHECK(o.every_needmore_consumed_all);
}

TEST_CASE("feeding zero bytes needs more and consumes nothing", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  std::size_t consumed = 99;
  CHECK(parser.feed("", 0, consumed) == Status::NeedMore);
  CHECK(consumed == 0);
}

// ---- consumed: what is left belongs to someone else ----------------------------------------

TEST_CASE("two pipelined requests in one buffer are parsed one after the other", "[protocol][http]") {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  const std::string wire = first + second;

  // The first request stops exactly at its end, however the bytes arrived.
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.target == "/a");
  CHECK(o.consumed == first.size());

  HttpRequestParser parser(HttpLimits{});
  std::size_t consumed = 0;
  REQUIRE(parser.feed(wire.data(), wire.size(), consumed) == Status::Complete);
  REQUIRE(consumed == first.size());
  CHECK(parser.request().target == "/a");
  parser.reset();
  std::size_t consumed2 = 0;
  REQUIRE(parser.feed(wire.data() + consumed, wire.size() - consumed, consumed2) == Status::Complete);
  CHECK(consumed2 == second.size());
  CHECK(parser.request().method == "POST");
  CHECK(parser.request().target == "/b");
  CHECK(parser.request().body == "hello");
}

TEST_CASE("after an upgrade request the remaining bytes are exactly the WebSocket bytes", "[protocol][http]") {
  // A masked text frame "Hello" (RFC 6455 section 5.7) sent right behind the handshake.
  const std::string frame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  const std::string wire = kHandshake + frame;

  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.upgrade);
  CHECK(o.consumed == kHandshake.size());
  CHECK(wire.substr(o.consumed) == frame);
}

TEST_CASE("after an upgrade request with a Content-Length body the rest is the WebSocket bytes",
          "[protocol][http]") {
  const std::string request =
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 3\r\n\r\nabc";
  const std::string frame = "\x88\x80\x01\x02\x03\x04";
  const std::string wire = request + frame;
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.upgrade);
  CHECK(o.body == "abc");
  CHECK(wire.substr(o.consumed) == frame);
}

TEST_CASE("an Upgrade header without Connection: upgrade is not an upgrade", "[protocol][http]") {
  // Then the bytes behind it are the next request, not WebSocket frames.
  const std::string request = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
  const std::string wire = request + "GET /next HTTP/1.1\r\n";
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK_FALSE(o.upgrade);
  CHECK(o.consumed == request.size());
}

TEST_CASE("feeding again after Complete without reset returns Complete and consumes nothing", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(wire.data(), wire.size(), consumed) == Status::Complete);
  std::size_t again = 77;
  CHECK(parser.feed(wire.data(), wire.size(), again) == Status::Complete);
  CHECK(again == 0);
  CHECK(parser.request().target == "/");
}

// ---- reset ---------------------------------------------------------------------------------

TEST_CASE("reset forgets the previous request so the next one starts clean", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  const std::string first = "POST /first HTTP/1.0\r\nX-Only-First: 1\r\nContent-Length: 2\r\n\r\nab";
  const std::string second = "GET /second HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(first.data(), first.size(), consumed) == Status::Complete);
  REQUIRE(parser.request().body == "ab");
  parser.reset();
  CHECK_FALSE(parser.started());
  REQUIRE(parser.feed(second.data(), second.size(), consumed) == Status::Complete);
  const HttpRequest& r = parser.request();
  CHECK(r.method == "GET");
  CHECK(r.target == "/second");
  CHECK(r.version_minor == 1);
  CHECK(r.body.empty());
  CHECK(r.header("x-only-first") == nullptr);
  CHECK(r.headers.size() == 1);
  CHECK(r.keep_alive);
  CHECK_FALSE(parser.upgrade());
}

TEST_CASE("reset clears the upgrade flag", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  std::size_t consumed = 0;
  REQUIRE(parser.feed(kHandshake.data(), kHandshake.size(), consumed) == Status::Complete);
  REQUIRE(parser.upgrade());
  parser.reset();
  CHECK_FALSE(parser.upgrade());
}

TEST_CASE("reset after an error accepts a new request", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  const std::string bad = "G@T / HTTP/1.1\r\n\r\n";
  const std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(bad.data(), bad.size(), consumed) == Status::Error);
  parser.reset();
  CHECK(parser.error().status == 400);
  CHECK(parser.error().reason.empty());
  CHECK(parser.feed(good.data(), good.size(), consumed) == Status::Complete);
  CHECK(consumed == good.size());
}

TEST_CASE("the header byte count starts again after reset", "[protocol][http]") {
  // Each request alone fits the limit; both together would not.
  const std::string one = "GET /" + std::string(150, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  HttpRequestParser parser(limits(256));
  std::size_t consumed = 0;
  REQUIRE(parser.feed(one.data(), one.size(), consumed) == Status::Complete);
  parser.reset();
  CHECK(parser.feed(one.data(), one.size(), consumed) == Status::Complete);
}

// ---- started -------------------------------------------------------------------------------

TEST_CASE("started is false until the first byte arrives and true after it", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  CHECK_FALSE(parser.started());
  std::size_t consumed = 0;
  parser.feed("", 0, consumed);
  CHECK_FALSE(parser.started());
  parser.feed("G", 1, consumed);
  CHECK(parser.started());
  parser.reset();
  CHECK_FALSE(parser.started());
}

// ---- bodies --------------------------------------------------------------------------------

TEST_CASE("a Content-Length body is read in full", "[protocol][http]") {
  const std::string wire = "POST /api HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n\r\n{\"type\":\"x\"}\n";
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.method == "POST");
  CHECK(o.body == "{\"type\":\"x\"}\n");
  CHECK(o.consumed == wire.size());
}

TEST_CASE("a body shorter than its Content-Length needs more", "[protocol][http]") {
  const Outcome o = parse_every_way("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345");
  CHECK(o.status == Status::NeedMore);
  CHECK(o.every_needmore_consumed_all);
}

TEST_CASE("a chunked body is reassembled without the chunk framing", "[protocol][http]") {
  const std::string wire =
      "POST /api HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "7\r\n, world\r\n"
      "0\r\n\r\n";
  const Outcome o = parse_every_way(wire);
  REQUIRE(o.status == Status::Complete);
  CHECK(o.body == "hello, world");
  CHECK(o.consumed == wire.size());
}

TEST_CASE("a body exactly at the limit is accepted", "[protocol][http]") {
  const std::string body(64, 'b');
  const std::string cl = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 64\r\n\r\n" + body;
  const Outcome by_length = parse_every_way(cl, limits(8192, 64));
  REQUIRE(by_length.status == Status::Complete);
  CHECK(by_length.body == body);

  const std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "20\r\n" + body.substr(0, 32) + "\r\n20\r\n" + body.substr(32) + "\r\n0\r\n\r\n";
  const Outcome by_chunks = parse_every_way(chunked, limits(8192, 64));
  REQUIRE(by_chunks.status == Status::Complete);
  CHECK(by_chunks.body == body);
}

// ---- errors --------------------------------------------------------------------------------

TEST_CASE("a malformed request line is refused with 400 and a reason", "[protocol][http]") {
  for (const std::string wire : {"G@T / HTTP/1.1\r\n\r\n", "GET / HTTX/1.1\r\n\r\n", "GET / HTTP/1.1 junk\r\n\r\n",
                                 "\x01\x02\x03\r\n\r\n"}) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
    CHECK_FALSE(o.error_reason.empty());
  }
}

TEST_CASE("a method llhttp does not know is refused with 501, whichever way the bytes come", "[protocol][http]") {
  // RFC 9110 9.1: an unrecognized method gets 501 (Not Implemented). Methods are
  // case-sensitive, so "get" is one; a token as long as the bytes kept is one too.
  const std::vector<std::string> wires = {"FOO / HTTP/1.1\r\nHost: h\r\n\r\n", "get / HTTP/1.1\r\nHost: h\r\n\r\n",
                                          "GETX / HTTP/1.1\r\n\r\n", "\r\nBREW /pot HTTP/1.1\r\n\r\n",
                                          "X-Y_Z.1 * HTTP/1.1\r\n\r\n", std::string(70, 'Q') + " / HTTP/1.1\r\n\r\n",
                                          "DESCRIBE / HTTP/1.1\r\nHost: h\r\n\r\n", "TEARDOWN / HTTP/1.0\r\n\r\n",
                                          std::string(200, '\n') + "FOO / HTTP/1.1\r\n\r\n"};
  for (const std::string& wire : wires) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 501);
    CHECK_FALSE(o.error_reason.empty());
  }
}

TEST_CASE("bytes that are no method token are refused with 400, not 501", "[protocol][http]") {
  // A TLS ClientHello on the plain port, a space first, a method with a bad character.
  const std::vector<std::string> wires = {std::string("\x16\x03\x01\x02\x00\x01\x00\x01", 8), " GET / HTTP/1.1\r\n\r\n",
                                          "FO(O / HTTP/1.1\r\n\r\n", "FOO\r\n\r\n",
                                          std::string(100, '\n') + "\x16\x03\x01"};
  for (const std::string& wire : wires) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
  }
}

TEST_CASE("an unknown method's first bytes wait for the rest of the token", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  std::size_t consumed = 0;
  CHECK(parser.feed("FO", 2, consumed) == Status::NeedMore);
  CHECK(consumed == 2);
  CHECK(parser.feed("O", 1, consumed) == Status::NeedMore);
  CHECK(parser.feed(" / HTTP/1.1\r\n", 14, consumed) == Status::Error);
  CHECK(parser.error().status == 501);
  parser.reset();
  const std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(parser.feed(good.data(), good.size(), consumed) == Status::Complete);
  CHECK(parser.request().method == "GET");
}

TEST_CASE("a malformed header line is refused with 400", "[protocol][http]") {
  for (const std::string wire : {"GET / HTTP/1.1\r\nA(B): 1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
                                 "GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello"}) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
    CHECK_FALSE(o.error_reason.empty());
  }
}

TEST_CASE("a header name with whitespace in it is refused with 400", "[protocol][http]") {
  // RFC 9112 section 5.1: a server MUST reject whitespace between field name and colon.
  for (const std::string wire : {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "GET / HTTP/1.1\r\nX-Name : x\r\n\r\n",
                                 "GET / HTTP/1.1\r\nHost: h\r\nA B: 1\r\n\r\n"}) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
    // Ours, or llhttp's (its strict mode refuses the space itself).
    CHECK((o.error_reason == "invalid header name" || o.error_reason == "Invalid header token"));
  }
}

TEST_CASE("an empty header name is refused with 400", "[protocol][http]") {
  for (const std::string wire : {"GET / HTTP/1.1\r\n: novalue\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",
                                 "GET / HTTP/1.1\r\nHost: h\r\n:\r\nX: 1\r\n\r\n"}) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
    CHECK(o.error_reason == "invalid header name");
  }
}

TEST_CASE("a non-numeric Content-Length is refused with 400", "[protocol][http]") {
  const Outcome o = parse_every_way("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ten\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 400);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("a malformed chunk size is refused with 400", "[protocol][http]") {
  const Outcome o = parse_every_way("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 400);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("headers over max_header_bytes are refused with 431", "[protocol][http]") {
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(600, 'v') + "\r\n\r\n";
  const Outcome o = parse_every_way(wire, limits(512));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 431);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("a request target over max_header_bytes is refused with 414", "[protocol][http]") {
  // RFC 9112 3: the request line (its target) is too long before any header: 414 URI Too Long, not 431.
  const std::string wire = "GET /" + std::string(600, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome o = parse_every_way(wire, limits(512));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 414);
}

TEST_CASE("an HTTP/1.1 request without Host is refused with 400; HTTP/1.0 may leave it out", "[protocol][http]") {
  const Outcome o = parse_every_way("GET /healthz HTTP/1.1\r\nAccept: */*\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 400);
  CHECK(o.error_reason.find("Host") != std::string::npos);
  CHECK(parse_every_way("GET /healthz HTTP/1.0\r\n\r\n").status == Status::Complete);
}

TEST_CASE("an absolute-form target becomes the origin-form and its authority the Host", "[protocol][http]") {
  // RFC 9112 3.2.2: accepted, and the target's authority replaces the Host header.
  const Outcome o = parse_every_way("GET HTTP://example.com:8080/worlds?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.target == "/worlds?x=1");
  CHECK(o.headers == Headers{{"host", "example.com:8080"}});
  const Outcome bare = parse_every_way("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  REQUIRE(bare.status == Status::Complete);
  CHECK(bare.target == "/");
  const Outcome query = parse_every_way("GET http://example.com?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  REQUIRE(query.status == Status::Complete);
  CHECK(query.target == "/?q=1");
  for (const std::string wire : {"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
                                 "GET http://user@h/x HTTP/1.1\r\nHost: h\r\n\r\n"}) {
    const Outcome bad = parse_every_way(wire);
    CHECK(bad.status == Status::Error);
    CHECK(bad.error_status == 400);
  }
}

TEST_CASE("headers over the limit are refused with 431 before the header section ends", "[protocol][http]") {
  // A slowloris client that never sends the blank line: the limit must still trigger.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 40; ++i) wire += "X-Filler-" + std::to_string(i) + ": " + std::string(20, 'f') + "\r\n";
  const Outcome o = parse_every_way(wire, limits(512));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 431);
}

TEST_CASE("headers trickled one byte at a time are refused with 431 once over the limit", "[protocol][http]") {
  HttpRequestParser parser(limits(256));
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(1000, 'x');
  std::size_t fed = 0;
  Status st = Status::NeedMore;
  for (; fed < wire.size() && st == Status::NeedMore; ++fed) {
    std::size_t consumed = 0;
    st = parser.feed(wire.data() + fed, 1, consumed);
  }
  REQUIRE(st == Status::Error);
  CHECK(parser.error().status == 431);
  // Refused near the limit, not after swallowing the whole kilobyte.
  CHECK(fed <= 256 + 16);
}

TEST_CASE("the header byte limit does not depend on how the bytes are split", "[protocol][http]") {
  const std::string wire = "GET /some/path HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nX-B: 22\r\n\r\n";
  // The smallest limit that accepts the request fed whole...
  std::size_t limit = 1;
  while (parse_whole(wire, limits(limit)).status != Status::Complete) {
    ++limit;
    REQUIRE(limit < 4096);
  }
  INFO("smallest accepted max_header_bytes: " << limit);
  CHECK(parse_whole(wire, limits(limit - 1)).error_status == 431);
  // ...must accept it however it is split, and one byte less must refuse it every way.
  const Outcome at_limit = parse_every_way(wire, limits(limit));
  CHECK(at_limit.status == Status::Complete);
  const Outcome below = parse_every_way(wire, limits(limit - 1));
  CHECK(below.error_status == 431);
}

TEST_CASE("the header byte limit roughly counts the bytes on the wire", "[protocol][http]") {
  const std::string wire = "GET /some/path HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nX-B: 22\r\n\r\n";
  std::size_t limit = 1;
  while (parse_whole(wire, limits(limit)).status != Status::Complete) ++limit;
  // Not exact (the final CRLF and "HTTP/" need not be counted), but within a few bytes.
  CHECK(limit <= wire.size());
  CHECK(limit + 10 >= wire.size());
}

TEST_CASE("more than max_header_count headers are refused with 431", "[protocol][http]") {
  std::string wire = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) wire += "X-H" + std::to_string(i) + ": v\r\n";
  wire += "\r\n";
  const Outcome o = parse_every_way(wire, limits(8192, 1024, 10));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 431);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("exactly max_header_count headers are accepted", "[protocol][http]") {
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 9; ++i) wire += "X-H" + std::to_string(i) + ": v\r\n";
  wire += "\r\n";
  const Outcome o = parse_every_way(wire, limits(8192, 1024, 10));
  REQUIRE(o.status == Status::Complete);
  CHECK(o.headers.size() == 10);
}

TEST_CASE("a Content-Length over max_body_bytes is refused with 413 before the body arrives", "[protocol][http]") {
  // No body bytes are sent at all: the declared length alone decides.
  const Outcome o = parse_every_way("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n", limits(8192, 64));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 413);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("a chunked body growing over max_body_bytes is refused with 413", "[protocol][http]") {
  // Each chunk is under the limit; together they are over it.
  const std::string chunk = "20\r\n" + std::string(32, 'c') + "\r\n";
  const std::string wire =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk + "0\r\n\r\n";
  const Outcome o = parse_every_way(wire, limits(8192, 64));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 413);
}

TEST_CASE("a chunked body is refused with 413 even if the terminating chunk never comes", "[protocol][http]") {
  const std::string wire =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + std::string(100, 'c');
  const Outcome o = parse_every_way(wire, limits(8192, 64));
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 413);
}

TEST_CASE("HTTP/2.0 in the request line is refused with 505", "[protocol][http]") {
  // llhttp accepts the 2.0 version token; our header check answers 505.
  const Outcome o = parse_every_way("GET / HTTP/2.0\r\nHost: h\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 505);
  CHECK_FALSE(o.error_reason.empty());
}

TEST_CASE("a version llhttp does not know (HTTP/3.0, HTTP/1.2) is refused with 400", "[protocol][http]") {
  for (const std::string wire : {"GET / HTTP/3.0\r\nHost: h\r\n\r\n", "GET / HTTP/1.2\r\nHost: h\r\n\r\n"}) {
    INFO(wire);
    const Outcome o = parse_every_way(wire);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
    CHECK_FALSE(o.error_reason.empty());
  }
}

TEST_CASE("an error is sticky: later bytes get the same error and consume nothing", "[protocol][http]") {
  HttpRequestParser parser(HttpLimits{});
  const std::string bad = "G@T / HTTP/1.1\r\n\r\n";
  const std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(bad.data(), bad.size(), consumed) == Status::Error);
  const HttpReject first = parser.error();
  std::size_t again = 99;
  CHECK(parser.feed(good.data(), good.size(), again) == Status::Error);
  CHECK(again == 0);
  CHECK(parser.error().status == first.status);
  CHECK(parser.error().reason == first.reason);
  std::size_t empty = 99;
  CHECK(parser.feed("", 0, empty) == Status::Error);
  CHECK(empty == 0);
}

TEST_CASE("a limit error is sticky too", "[protocol][http]") {
  HttpRequestParser parser(limits(8192, 8));
  const std::string wire = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n";
  std::size_t consumed = 0;
  REQUIRE(parser.feed(wire.data(), wire.size(), consumed) == Status::Error);
  REQUIRE(parser.error().status == 413);
  CHECK(parser.feed("123456789", 9, consumed) == Status::Error);
  CHECK(parser.error().status == 413);
}

// ---- robustness ----------------------------------------------------------------------------

TEST_CASE("mutated requests end the same whole and byte by byte, never past their input", "[protocol][http]") {
  // Seeded, so a failure reproduces. ASan/UBSan runs of this test look for memory errors.
  std::uint32_t state = 0x5eed1234u;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  const std::string base = kHandshake + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  for (int round = 0; round < 400; ++round) {
    std::string wire = base;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % wire.size();
      switch (next() % 3) {
        case 0: wire[at] = static_cast<char>(next() & 0xFF); break;
        case 1: wire.erase(at, 1 + next() % 8); break;
        default: wire.insert(at, std::string(1 + next() % 8, static_cast<char>(next() & 0xFF))); break;
      }
      if (wire.empty()) wire = "G";
    }
    INFO("round " << round);
    const Outcome whole = parse_whole(wire, limits(512, 64, 8));
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < wire.size(); ++i) bytes.push_back(std::string_view(wire).substr(i, 1));
    const Outcome trickled = parse_pieces(bytes, limits(512, 64, 8));
    CHECK(trickled == whole);
    CHECK(whole.consumed <= wire.size());
    CHECK(whole.every_needmore_consumed_all);
    if (whole.status == Status::Error) {
      CHECK((whole.error_status == 400 || whole.error_status == 413 || whole.error_status == 431 ||
             whole.error_status == 501 || whole.error_status == 505));
      CHECK_FALSE(whole.error_reason.empty());
    }
  }
}

TEST_CASE("Expect: 100-continue asks for an interim answer once, only while the body is to come",
          "[protocol][http]") {
  const std::string head =
      "POST /session HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-Continue\r\n\r\n";
  HttpRequestParser parser(HttpLimits{});
  std::size_t consumed = 0;
  REQUIRE(parser.feed(head.data(), head.size(), consumed) == Status::NeedMore);
  CHECK(parser.take_continue());
  CHECK_FALSE(parser.take_continue());
  REQUIRE(parser.feed("{}", 2, consumed) == Status::Complete);
  CHECK(parser.request().body == "{}");

  // The body in the same bytes as the headers: nothing to ask for.
  HttpRequestParser whole(HttpLimits{});
  const std::string all = head + "{}";
  REQUIRE(whole.feed(all.data(), all.size(), consumed) == Status::Complete);
  CHECK_FALSE(whole.take_continue());

  // No body, or HTTP/1.0 (whose expectation is ignored): nothing either.
  for (const std::string wire : {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
                                 "POST /session HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"}) {
    HttpRequestParser p(HttpLimits{});
    p.feed(wire.data(), wire.size(), consumed);
    CHECK_FALSE(p.take_continue());
  }
}

TEST_CASE("chunk extensions are read up to the header limit, then refused with 413", "[protocol][http]") {
  const std::string head = "POST /session HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const Outcome small = parse_every_way(head + "2;name=value\r\n{}\r\n0\r\n\r\n", limits(512));
  REQUIRE(small.status == Status::Complete);
  CHECK(small.body == "{}");
  const Outcome big = parse_every_way(head + "2;x=" + std::string(600, 'e') + "\r\n{}\r\n0\r\n\r\n", limits(512));
  CHECK(big.status == Status::Error);
  CHECK(big.error_status == 413);
  // Empty names cost nothing in bytes llhttp reports, and are counted anyway.
  std::string empties = "2";
  for (int i = 0; i < 600; ++i) empties += ";";
  const Outcome separators = parse_every_way(head + empties + "\r\n{}\r\n0\r\n\r\n", limits(512));
  CHECK(separators.status == Status::Error);
  CHECK(separators.error_status == 413);
}

TEST_CASE("empty elements of Transfer-Encoding count for nothing (RFC 9110 5.6.1)", "[protocol][http]") {
  const Outcome o = parse_every_way(
      "POST /session HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.body == "{}");
}

TEST_CASE("a transfer coding other than chunked is refused with 501", "[protocol][http]") {
  const Outcome o = parse_every_way(
      "POST /session HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 501);
}

TEST_CASE("a chunk's data must end in CRLF: other bytes there are refused (no smuggled request)", "[protocol][http]") {
  // Two stray bytes where the CRLF goes once let "0\r\n\r\n" end the body early, and what a
  // front end took for the rest of the body was read as a second request (RFC 9112 7.1).
  const std::string head = "POST /session HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string body : {"2\r\n{}XX0\r\n\r\n", "2\r\n{}\n50\r\n\r\n"}) {
    INFO(body);
    const Outcome o = parse_every_way(head + body);
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
  }
  REQUIRE(parse_every_way(head + "2\r\n{}\r\n0\r\n\r\n").status == Status::Complete);
}

TEST_CASE("trailer fields are not headers, and count against the header limit", "[protocol][http]") {
  const std::string head = "POST /session HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.7\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n";
  const Outcome o = parse_every_way(head + "X-Forwarded-For: 203.0.113.9\r\nIf-None-Match: \"x\"\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.body == "{}");
  const auto named = [&](const std::string& name) {
    return std::count_if(o.headers.begin(), o.headers.end(), [&](const auto& h) { return h.first == name; });
  };
  CHECK(named("x-forwarded-for") == 1);
  CHECK(named("if-none-match") == 0);
  for (const auto& [name, value] : o.headers) CHECK(value != "203.0.113.9");
  const Outcome big = parse_every_way(head + "X-T: " + std::string(600, 't') + "\r\n\r\n", limits(512));
  CHECK(big.error_status == 431);
}

TEST_CASE("an HTTP/1.0 request with Transfer-Encoding closes its connection", "[protocol][http]") {
  // RFC 9112 6.1: faulty framing; the connection closes after it, keep-alive asked or not.
  const Outcome o = parse_every_way(
      "POST /session HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK_FALSE(o.keep_alive);
  CHECK(parse_every_way("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

TEST_CASE("whitespace llhttp skips counts against the header limit", "[protocol][http]") {
  // Spaces before a value, and empty lines before the request line, are bytes on the wire.
  const Outcome spaces = parse_every_way("GET / HTTP/1.1\r\nHost: h\r\nX-Pad:" + std::string(600, ' ') + "y\r\n\r\n",
                                         limits(512));
  CHECK(spaces.error_status == 431);
  const Outcome empty_value =
      parse_every_way("GET / HTTP/1.1\r\nHost: h\r\nX-Pad:" + std::string(600, ' ') + "\r\n\r\n", limits(512));
  CHECK(empty_value.error_status == 431);
  std::string blank_lines;
  for (int i = 0; i < 300; ++i) blank_lines += "\r\n";
  const Outcome before = parse_every_way(blank_lines + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", limits(512));
  CHECK(before.error_status == 431);
  // The body is not the header section: a body over the header limit is fine.
  const Outcome body = parse_every_way("POST /session HTTP/1.1\r\nHost: h\r\nContent-Length: 600\r\n\r\n" +
                                       std::string(600, 'b'), limits(512));
  CHECK(body.status == Status::Complete);
}

TEST_CASE("a header value ends before its trailing spaces and tabs", "[protocol][http]") {
  const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: game.example:8080 \t\r\nX-A: a b\t \r\n\r\n");
  REQUIRE(o.status == Status::Complete);
  CHECK(o.headers == std::vector<std::pair<std::string, std::string>>{{"host", "game.example:8080"}, {"x-a", "a b"}});
}

TEST_CASE("a Host that is not a host is refused with 400", "[protocol][http]") {
  for (const std::string host : {"a b/c@d", "h/x", "user@h", "h\"x"}) {
    INFO(host);
    const Outcome o = parse_every_way("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
  }
  for (const std::string host : {"game.example", "game.example:8080", "[::1]:8080", "127.0.0.1", "xn--bcher-kva.example"}) {
    INFO(host);
    CHECK(parse_every_way("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").status == Status::Complete);
  }
}

TEST_CASE("HTTP/2 with prior knowledge is answered 505", "[protocol][http]") {
  const Outcome o = parse_whole("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  CHECK(o.status == Status::Error);
  CHECK(o.error_status == 505);
}

TEST_CASE("a request line whose protocol is not HTTP is refused with 400", "[protocol][http]") {
  // llhttp reads RTSP/1.0 and ICE/1.0 as versions; RFC 9112 2.3: the version is "HTTP/" DIGIT "." DIGIT.
  for (const std::string line : {"GET /healthz RTSP/1.0", "POST /session RTSP/1.1", "GET / ICE/1.0"}) {
    INFO(line);
    const Outcome o = parse_every_way(line + "\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    CHECK(o.status == Status::Error);
    CHECK(o.error_status == 400);
  }
  CHECK(parse_every_way("GET /healthz HTTP/1.0\r\n\r\n").status == Status::Complete);
}

TEST_CASE("the header section ends where llhttp ends it, a bare LF's empty line too", "[protocol][http]") {
  // A body over the header limit after "\r\n\n" is a body, not more header bytes.
  const Outcome o = parse_every_way("POST /session HTTP/1.1\r\nHost: h\r\nContent-Length: 600\r\n\n" +
                                    std::string(600, 'b'), limits(512));
  REQUIRE(o.status == Status::Complete);
  CHECK(o.body.size() == 600);
}
