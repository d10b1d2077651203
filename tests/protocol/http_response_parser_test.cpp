// The sidecar's answers: a status and a body however they are framed, and nothing past a limit.
#include "protocol/http_response_parser.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using skirmish::protocol::HttpResponseParser;
using Status = HttpResponseParser::Status;

namespace {

// Feeds `bytes` in pieces of `step` bytes; the last status.
Status feed_in_pieces(HttpResponseParser& p, const std::string& bytes, std::size_t step) {
  Status s = Status::NeedMore;
  for (std::size_t i = 0; i < bytes.size(); i += step) s = p.feed(bytes.data() + i, std::min(step, bytes.size() - i));
  return s;
}

}  // namespace

TEST_CASE("a response with Content-Length, whole or a byte at a time") {
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n";
  for (std::size_t step : {r.size(), std::size_t{1}, std::size_t{7}}) {
    HttpResponseParser p(1024);
    REQUIRE(feed_in_pieces(p, r, step) == Status::Complete);
    CHECK(p.status() == 200);
    CHECK(p.body() == "{\"a\":\"bc\"}\n");
  }
}

TEST_CASE("a chunked response is put back together") {
  const std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"x\"\r\n3\r\n:1}\r\n0\r\n\r\n";
  HttpResponseParser p(1024);
  REQUIRE(feed_in_pieces(p, r, 5) == Status::Complete);
  CHECK(p.body() == "{\"x\":1}");
}

TEST_CASE("a body that runs to the connection's end is complete when it ends, not before") {
  HttpResponseParser p(1024);
  const std::string r = "HTTP/1.0 404 Not Found\r\n\r\nno such thing";
  CHECK(p.feed(r.data(), r.size()) == Status::NeedMore);
  REQUIRE(p.finish() == Status::Complete);
  CHECK(p.status() == 404);
  CHECK(p.body() == "no such thing");
}

TEST_CASE("cut short, too big, or not HTTP: an error") {
  {
    HttpResponseParser p(1024);
    const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    CHECK(p.feed(r.data(), r.size()) == Status::NeedMore);
    CHECK(p.finish() == Status::Error);
  }
  {
    HttpResponseParser p(4);
    const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    CHECK(p.feed(r.data(), r.size()) == Status::Error);
  }
  {
    HttpResponseParser p(1024);
    const std::string r = "SSH-2.0-OpenSSH_9.2\r\n";
    CHECK(p.feed(r.data(), r.size()) == Status::Error);
  }
}
