// Responses to bytes: the exact status line, headers, Content-Length and Connection rules,
// bodiless statuses, HEAD, and the plain-text rejection responses.
#include "protocol/http_response.h"

#include <catch2/catch.hpp>

#include <string>

using namespace skirmish::protocol;

namespace {
HttpResponse response(int status, std::string body = "", bool keep_alive = true) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.keep_alive = keep_alive;
  return r;
}
}  // namespace

// ---- serialize_response ------------------------------------------------------------------

TEST_CASE("a 200 with a body has its headers, a Content-Length and the body", "[protocol][response]") {
  HttpResponse r = response(200, "hello");
  r.headers = {{"Content-Type", "text/plain"}, {"X-Custom", "1"}};
  CHECK(serialize_response(r) ==
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/plain\r\n"
        "X-Custom: 1\r\n"
        "Content-Length: 5\r\n"
        "\r\n"
        "hello");
}

TEST_CASE("a date given is the Date header, first; none on a 101", "[protocol][response]") {
  HttpResponse r = response(404, "");
  r.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  CHECK(serialize_response(r).rfind("HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 0) == 0);
  HttpResponse up = response(101, "");
  up.date = r.date;
  CHECK(serialize_response(up).find("Date:") == std::string::npos);
}

TEST_CASE("a 200 with an empty body says Content-Length: 0", "[protocol][response]") {
  CHECK(serialize_response(response(200)) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("a body with NUL bytes is sent whole and counted", "[protocol][response]") {
  const std::string body("a\0b", 3);
  CHECK(serialize_response(response(200, body)) == std::string("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b", 41));
}

TEST_CASE("a HEAD response has the body's Content-Length but no body bytes", "[protocol][response]") {
  HttpResponse r = response(200, "0123456789");
  r.head_only = true;
  CHECK(serialize_response(r) == "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
}

TEST_CASE("an answer kept alive for an HTTP/1.0 client says so; one closing says close", "[protocol][response]") {
  HttpResponse r = response(200, "ok");
  r.announce_keep_alive = true;
  CHECK(serialize_response(r) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
  r.keep_alive = false;
  CHECK(serialize_response(r) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

TEST_CASE("a HEAD response keeps a Content-Length the caller set", "[protocol][response]") {
  HttpResponse r = response(200);
  r.head_only = true;
  r.headers = {{"Content-Length", "4096"}};
  CHECK(serialize_response(r) == "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n");
}

TEST_CASE("a caller-set Content-Length is not duplicated, whatever its case", "[protocol][response]") {
  for (const char* name : {"Content-Length", "content-length", "CONTENT-LENGTH"}) {
    INFO(name);
    HttpResponse r = response(200, "abc");
    r.headers = {{name, "3"}};
    CHECK(serialize_response(r) == std::string("HTTP/1.1 200 OK\r\n") + name + ": 3\r\n\r\nabc");
  }
}

TEST_CASE("a header that only starts like Content-Length does not replace it", "[protocol][response]") {
  HttpResponse r = response(200, "abc");
  r.headers = {{"Content-Length-X", "9"}, {"Content-Lengt", "9"}};
  CHECK(serialize_response(r) ==
        "HTTP/1.1 200 OK\r\nContent-Length-X: 9\r\nContent-Lengt: 9\r\nContent-Length: 3\r\n\r\nabc");
}

TEST_CASE("304 has neither Content-Length nor body", "[protocol][response]") {
  HttpResponse r = response(304, "ignored");
  r.headers = {{"ETag", "\"abc\""}};
  CHECK(serialize_response(r) == "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\n\r\n");
}

TEST_CASE("204 has neither Content-Length nor body", "[protocol][response]") {
  CHECK(serialize_response(response(204, "ignored")) == "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST_CASE("101 has neither Content-Length nor body nor Connection: close", "[protocol][response]") {
  HttpResponse r = response(101, "ignored", false);
  r.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
  CHECK(serialize_response(r) ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
}

TEST_CASE("a response that ends the connection says Connection: close", "[protocol][response]") {
  CHECK(serialize_response(response(200, "x", false)) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
}

TEST_CASE("a bodiless response that ends the connection still says Connection: close", "[protocol][response]") {
  CHECK(serialize_response(response(304, "", false)) == "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
  CHECK(serialize_response(response(204, "", false)) == "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST_CASE("a keep-alive response has no Connection header", "[protocol][response]") {
  CHECK(serialize_response(response(404, "nope")).find("Connection") == std::string::npos);
}

TEST_CASE("an unknown status is sent with the reason 'Unknown'", "[protocol][response]") {
  CHECK(serialize_response(response(299)) == "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n");
}

// ---- status_text ---------------------------------------------------------------------------

TEST_CASE("status_text names every status the server sends", "[protocol][response]") {
  CHECK(std::string(status_text(101)) == "Switching Protocols");
  CHECK(std::string(status_text(200)) == "OK");
  CHECK(std::string(status_text(201)) == "Created");
  CHECK(std::string(status_text(204)) == "No Content");
  CHECK(std::string(status_text(304)) == "Not Modified");
  CHECK(std::string(status_text(400)) == "Bad Request");
  CHECK(std::string(status_text(403)) == "Forbidden");
  CHECK(std::string(status_text(404)) == "Not Found");
  CHECK(std::string(status_text(405)) == "Method Not Allowed");
  CHECK(std::string(status_text(408)) == "Request Timeout");
  CHECK(std::string(status_text(409)) == "Conflict");
  CHECK(std::string(status_text(413)) == "Content Too Large");
  CHECK(std::string(status_text(414)) == "URI Too Long");
  CHECK(std::string(status_text(426)) == "Upgrade Required");
  CHECK(std::string(status_text(429)) == "Too Many Requests");
  CHECK(std::string(status_text(431)) == "Request Header Fields Too Large");
  CHECK(std::string(status_text(500)) == "Internal Server Error");
  CHECK(std::string(status_text(501)) == "Not Implemented");
  CHECK(std::string(status_text(503)) == "Service Unavailable");
  CHECK(std::string(status_text(505)) == "HTTP Version Not Supported");
}

TEST_CASE("status_text says 'Unknown' for codes we never send", "[protocol][response]") {
  for (int status : {0, 100, 202, 302, 418, 502, 999, -1}) {
    INFO(status);
    CHECK(std::string(status_text(status)) == "Unknown");
  }
}

// ---- make_reject_response --------------------------------------------------------------------

TEST_CASE("a rejection becomes a closing plain-text response naming status and reason", "[protocol][response]") {
  const HttpResponse r = make_reject_response(HttpReject{400, "missing Host header", {}});
  CHECK(r.status == 400);
  CHECK(r.body == "400 Bad Request: missing Host header\n");
  CHECK_FALSE(r.keep_alive);
  CHECK_FALSE(r.head_only);
  CHECK(serialize_response(r) ==
        "HTTP/1.1 400 Bad Request\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n"
        "Content-Length: 37\r\n"
        "Connection: close\r\n"
        "\r\n"
        "400 Bad Request: missing Host header\n");
}

TEST_CASE("a rejection without a reason has just the status in its body", "[protocol][response]") {
  const HttpResponse r = make_reject_response(HttpReject{404, "", {}});
  CHECK(r.body == "404 Not Found\n");
}

TEST_CASE("a rejection keeps the headers its status needs, before its own", "[protocol][response]") {
  const HttpResponse r =
      make_reject_response(HttpReject{426, "only WebSocket version 13 is supported", {{"Sec-WebSocket-Version", "13"}}});
  REQUIRE(r.headers.size() == 3);
  CHECK(r.headers[0].name == "Sec-WebSocket-Version");
  CHECK(r.headers[0].value == "13");
  CHECK(r.headers[1].name == "Content-Type");
  CHECK(r.headers[1].value == "text/plain; charset=utf-8");
  CHECK(r.headers[2].name == "Cache-Control");
  CHECK(r.headers[2].value == "no-store");
  CHECK(r.body == "426 Upgrade Required: only WebSocket version 13 is supported\n");
  const std::string wire = serialize_response(r);
  CHECK(wire.rfind("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n", 0) == 0);
}

TEST_CASE("a 503 rejection carries Retry-After", "[protocol][response]") {
  const HttpResponse r = make_reject_response(HttpReject{503, "server full", {{"Retry-After", "5"}}});
  const std::string wire = serialize_response(r);
  CHECK(wire.find("\r\nRetry-After: 5\r\n") != std::string::npos);
  CHECK(wire.find("503 Service Unavailable: server full\n") != std::string::npos);
}
