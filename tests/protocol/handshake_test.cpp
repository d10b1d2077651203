// The server side of the WebSocket opening handshake (RFC 6455 section 4.2): the accept
// key, every refusal with its status, origin and subprotocol policy, the 101 bytes.
#include "protocol/handshake.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

using namespace skirmish::protocol;

namespace {

constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// A valid handshake as a browser sends it (header names lower-cased, as the parser does).
HttpRequest browser_request() {
  HttpRequest r;
  r.method = "GET";
  r.target = "/ws";
  r.version_major = 1;
  r.version_minor = 1;
  r.headers = {{"host", "localhost:8080"},
               {"upgrade", "websocket"},
               {"connection", "Upgrade"},
               {"sec-websocket-key", kRfcKey},
               {"sec-websocket-version", "13"},
               {"origin", "http://localhost:8080"}};
  return r;
}

void set_header(HttpRequest& r, const std::string& name, const std::string& value) {
  for (auto& h : r.headers) {
    if (h.name == name) {
      h.value = value;
      return;
    }
  }
  r.headers.push_back({name, value});
}

void remove_header(HttpRequest& r, const std::string& name) {
  std::erase_if(r.headers, [&](const HttpHeader& h) { return h.name == name; });
}

HttpReject refusal(const HttpRequest& r, const HandshakePolicy& policy = {}) {
  auto result = parse_upgrade(r, policy);
  REQUIRE(std::holds_alternative<HttpReject>(result));
  return std::get<HttpReject>(result);
}

UpgradeAccept acceptance(const HttpRequest& r, const HandshakePolicy& policy = {}) {
  auto result = parse_upgrade(r, policy);
  if (const auto* rej = std::get_if<HttpReject>(&result)) FAIL("refused " << rej->status << ": " << rej->reason);
  return std::get<UpgradeAccept>(result);
}

HandshakePolicy origins(std::vector<std::string> allowed) {
  HandshakePolicy p;
  p.allowed_origins = std::move(allowed);
  return p;
}

HandshakePolicy subprotocols(std::vector<std::string> ours) {
  HandshakePolicy p;
  p.subprotocols = std::move(ours);
  return p;
}

// A 426 says what to upgrade to (RFC 9110 15.5.22) and which WebSocket version (RFC 6455 4.4).
bool names_websocket_13(const HttpReject& rej) {
  auto has = [&](std::string_view name, std::string_view value) {
    return std::any_of(rej.headers.begin(), rej.headers.end(),
                       [&](const auto& h) { return h.name == name && h.value == value; });
  };
  return rej.headers.size() == 3 && has("Upgrade", "websocket") && has("Connection", "Upgrade") &&
         has("Sec-WebSocket-Version", "13");
}

}  // namespace

// ---- accept key --------------------------------------------------------------------------

TEST_CASE("compute_accept_key gives the RFC 6455 section 1.3 example answer", "[protocol][handshake]") {
  CHECK(compute_accept_key(kRfcKey) == kRfcAccept);
}

TEST_CASE("compute_accept_key differs for a different key", "[protocol][handshake]") {
  const std::string other = compute_accept_key("AQIDBAUGBwgJCgsMDQ4PEA==");
  CHECK(other != kRfcAccept);
  CHECK(other.size() == 28);  // base64 of a 20-byte SHA-1
  CHECK(other.back() == '=');
}

// ---- acceptance --------------------------------------------------------------------------

TEST_CASE("a browser's handshake is accepted with the RFC accept key", "[protocol][handshake]") {
  const UpgradeAccept a = acceptance(browser_request());
  CHECK(a.accept_key == kRfcAccept);
  CHECK(a.subprotocol.empty());
}

TEST_CASE("the 101 response is exactly the status line, three headers and a blank line", "[protocol][handshake]") {
  const UpgradeAccept a = acceptance(browser_request());
  CHECK(a.response ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "\r\n");
}

TEST_CASE("the 101 response names the agreed subprotocol", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-protocol", "skirmish.v1");
  const UpgradeAccept a = acceptance(r, subprotocols({"skirmish.v1"}));
  CHECK(a.subprotocol == "skirmish.v1");
  CHECK(a.response ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Protocol: skirmish.v1\r\n"
        "\r\n");
}

TEST_CASE("header values are matched case-insensitively and as token lists", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "upgrade", "WebSocket");
  set_header(r, "connection", "keep-alive, UPGRADE");  // what Firefox sends
  CHECK(acceptance(r).accept_key == kRfcAccept);
}

TEST_CASE("whitespace around the key and version is ignored", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-key", std::string(" ") + kRfcKey + "\t");
  set_header(r, "sec-websocket-version", " 13 ");
  CHECK(acceptance(r).accept_key == kRfcAccept);
}

TEST_CASE("a request without an Origin header is accepted when no allow-list is set", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "origin");
  CHECK(acceptance(r).accept_key == kRfcAccept);
}

// ---- refusals ----------------------------------------------------------------------------

TEST_CASE("a handshake with a method other than GET is refused with 400", "[protocol][handshake]") {
  for (const char* method : {"POST", "HEAD", "PUT", "get"}) {
    INFO(method);
    HttpRequest r = browser_request();
    r.method = method;
    const HttpReject rej = refusal(r);
    CHECK(rej.status == 400);
    CHECK_FALSE(rej.reason.empty());
    CHECK(rej.headers.empty());
  }
}

TEST_CASE("an HTTP/1.0 handshake is refused with 400", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  r.version_minor = 0;
  const HttpReject rej = refusal(r);
  CHECK(rej.status == 400);
  CHECK_FALSE(rej.reason.empty());
}

TEST_CASE("a handshake with an HTTP major version other than 1 is refused with 400", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  r.version_major = 2;
  r.version_minor = 0;
  CHECK(refusal(r).status == 400);
}

TEST_CASE("a handshake without Host is refused with 400", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "host");
  const HttpReject rej = refusal(r);
  CHECK(rej.status == 400);
  CHECK(rej.reason == "missing Host header");
}

TEST_CASE("a handshake without Upgrade is refused with 400", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "upgrade");
  const HttpReject rej = refusal(r);
  CHECK(rej.status == 400);
  CHECK(rej.reason.find("Upgrade") != std::string::npos);
}

TEST_CASE("a handshake upgrading to another protocol is refused with 400", "[protocol][handshake]") {
  for (const char* other : {"h2c", "websockets", "", "TLS/1.0"}) {
    INFO(other);
    HttpRequest r = browser_request();
    set_header(r, "upgrade", other);
    CHECK(refusal(r).status == 400);
  }
}

TEST_CASE("a handshake without the upgrade token in Connection is refused with 400", "[protocol][handshake]") {
  for (const char* connection : {"keep-alive", "close", "upgraded", "", "keep-alive upgrade"}) {
    INFO(connection);
    HttpRequest r = browser_request();
    set_header(r, "connection", connection);
    const HttpReject rej = refusal(r);
    CHECK(rej.status == 400);
    CHECK(rej.reason.find("Connection") != std::string::npos);
  }
  HttpRequest r = browser_request();
  remove_header(r, "connection");
  CHECK(refusal(r).status == 400);
}

TEST_CASE("a handshake without Sec-WebSocket-Key is refused with 400", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "sec-websocket-key");
  const HttpReject rej = refusal(r);
  CHECK(rej.status == 400);
  CHECK(rej.reason == "missing Sec-WebSocket-Key header");
}

TEST_CASE("a key that is not the base64 of 16 bytes is refused with 400", "[protocol][handshake]") {
  const char* const bad_keys[] = {
      "",                          // empty
      "AQIDBAUGBwgJCgsMDQ4P",      // 15 bytes: 20 symbols, no padding
      "AQIDBAUGBwgJCgsMDQ4PEBE=",  // 17 bytes
      "AQIDBAUGBwgJCgsMDQ4PEA",    // 16 bytes but the padding is missing
      "AQIDBAUGBwgJCgsMDQ4PEA=",   // 16 bytes, one '=' short
      "AQIDBAUGBwgJCgsMDQ4PEAA=",  // 24 symbols, wrong padding (17 bytes)
      "AQIDBAUGBwgJCgsMDQ4P!A==",  // '!' is not base64
      "AQIDBAUGBwgJCgsMDQ4P EA==",  // space inside
      "AQIDBAUGBwgJCgsMDQ4PEA===",  // extra '='
      "AQIDBAUGBwgJ=gsMDQ4PEA==",  // '=' in the middle (EVP_DecodeBlock takes it as a zero)
      "AQIDBAUGBwgJ gsMDQ4PEA==",  // space in the middle
      "AQIDBAUGBwgJ-gsMDQ4P_A==",  // the URL-safe alphabet is not the one RFC 6455 uses
      "AQIDBAUGBwgJCgsMDQ4PEB==",  // non-canonical: the 4 padding bits are not zero
      "========================",  // all padding
  };
  for (const char* key : bad_keys) {
    INFO("key '" << key << "'");
    HttpRequest r = browser_request();
    set_header(r, "sec-websocket-key", key);
    const HttpReject rej = refusal(r);
    CHECK(rej.status == 400);
    CHECK(rej.reason.find("Sec-WebSocket-Key") != std::string::npos);
  }
}

TEST_CASE("any canonical 16-byte base64 key is accepted", "[protocol][handshake]") {
  for (const char* key : {"AQIDBAUGBwgJCgsMDQ4PEA==", "AAAAAAAAAAAAAAAAAAAAAA==", "/////////////////////w=="}) {
    INFO(key);
    HttpRequest r = browser_request();
    set_header(r, "sec-websocket-key", key);
    CHECK(acceptance(r).accept_key == compute_accept_key(key));
  }
}

TEST_CASE("a missing Sec-WebSocket-Version is refused with 426 naming version 13", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "sec-websocket-version");
  const HttpReject rej = refusal(r);
  CHECK(rej.status == 426);
  CHECK(names_websocket_13(rej));
}

TEST_CASE("another Sec-WebSocket-Version is refused with 426 naming version 13", "[protocol][handshake]") {
  for (const char* version : {"8", "12", "14", "013", "13, 8", ""}) {
    INFO("version '" << version << "'");
    HttpRequest r = browser_request();
    set_header(r, "sec-websocket-version", version);
    const HttpReject rej = refusal(r);
    CHECK(rej.status == 426);
    CHECK(names_websocket_13(rej));
  }
}

TEST_CASE("an origin not on the allow-list is refused with 403", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "origin", "http://evil.example");
  const HttpReject rej = refusal(r, origins({"http://localhost:8080", "https://game.example"}));
  CHECK(rej.status == 403);
  CHECK_FALSE(rej.reason.empty());
}

TEST_CASE("a missing origin is refused with 403 when an allow-list is set", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "origin");
  CHECK(refusal(r, origins({"http://localhost:8080"})).status == 403);
}

TEST_CASE("an origin that only shares a prefix with an allowed one is refused", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "origin", "http://localhost:80800");
  CHECK(refusal(r, origins({"http://localhost:8080"})).status == 403);
  set_header(r, "origin", "http://localhost");
  CHECK(refusal(r, origins({"http://localhost:8080"})).status == 403);
}

TEST_CASE("an origin on the allow-list is accepted, case-insensitively", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "origin", "https://game.example");
  CHECK(acceptance(r, origins({"http://localhost:8080", "https://game.example"})).accept_key == kRfcAccept);
  set_header(r, "origin", "HTTPS://Game.Example");
  CHECK(acceptance(r, origins({"http://localhost:8080", "https://game.example"})).accept_key == kRfcAccept);
  set_header(r, "origin", " https://game.example ");
  CHECK(acceptance(r, origins({"https://game.example"})).accept_key == kRfcAccept);
}

TEST_CASE("any origin is accepted when the allow-list is empty", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "origin", "http://anything.example");
  CHECK(acceptance(r, origins({})).accept_key == kRfcAccept);
}

TEST_CASE("rules are checked in RFC order: the first broken rule decides the answer", "[protocol][handshake]") {
  // Everything is wrong; the method is checked first.
  HttpRequest r;
  r.method = "POST";
  r.version_minor = 0;
  CHECK(refusal(r).reason == "a WebSocket handshake must use GET");
  // A bad version with a bad origin: 426 comes before 403.
  HttpRequest v = browser_request();
  set_header(v, "sec-websocket-version", "8");
  set_header(v, "origin", "http://evil.example");
  CHECK(refusal(v, origins({"http://localhost:8080"})).status == 426);
  // A bad key with a bad version: 400 comes before 426.
  HttpRequest k = browser_request();
  set_header(k, "sec-websocket-key", "short");
  set_header(k, "sec-websocket-version", "8");
  CHECK(refusal(k).status == 400);
}

// ---- subprotocols ------------------------------------------------------------------------

TEST_CASE("subprotocol negotiation follows our preference order, not the client's", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-protocol", "chat, skirmish.v2, skirmish.v1");
  CHECK(acceptance(r, subprotocols({"skirmish.v1", "skirmish.v2"})).subprotocol == "skirmish.v1");
  CHECK(acceptance(r, subprotocols({"skirmish.v2", "skirmish.v1"})).subprotocol == "skirmish.v2");
}

TEST_CASE("a subprotocol matches exactly, case included", "[protocol][handshake]") {
  // A browser fails a 101 that names a subprotocol it did not offer, byte for byte.
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-protocol", "SKIRMISH.V2, Skirmish.v1");
  const UpgradeAccept a = acceptance(r, subprotocols({"skirmish.v2", "skirmish.v1"}));
  CHECK(a.subprotocol.empty());
  CHECK(a.response.find("Sec-WebSocket-Protocol") == std::string::npos);
  set_header(r, "sec-websocket-protocol", "SKIRMISH.V2 ,  skirmish.v1 ");
  CHECK(acceptance(r, subprotocols({"skirmish.v2", "skirmish.v1"})).subprotocol == "skirmish.v1");
}

TEST_CASE("a subprotocol we do not speak is not selected", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-protocol", "chat, superchat");
  const UpgradeAccept a = acceptance(r, subprotocols({"skirmish.v1"}));
  CHECK(a.subprotocol.empty());
  CHECK(a.response.find("Sec-WebSocket-Protocol") == std::string::npos);
}

TEST_CASE("no subprotocol is selected when we speak none", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  set_header(r, "sec-websocket-protocol", "skirmish.v1");
  CHECK(acceptance(r, subprotocols({})).subprotocol.empty());
}

TEST_CASE("no subprotocol is selected when the client offers none", "[protocol][handshake]") {
  CHECK(acceptance(browser_request(), subprotocols({"skirmish.v1"})).subprotocol.empty());
}

// ---- header_has_token ----------------------------------------------------------------------

TEST_CASE("header_has_token finds a token in a comma-separated list", "[protocol][handshake]") {
  CHECK(header_has_token("upgrade", "upgrade"));
  CHECK(header_has_token("keep-alive, Upgrade", "upgrade"));
  CHECK(header_has_token("Upgrade,keep-alive", "upgrade"));
  CHECK(header_has_token("a,b,c", "c"));
}

TEST_CASE("header_has_token ignores spaces and tabs around items and compares without case", "[protocol][handshake]") {
  CHECK(header_has_token("  UPGRADE  ", "upgrade"));
  CHECK(header_has_token("keep-alive ,\tUpGrAdE\t, close", "upgrade"));
  CHECK(header_has_token("WebSocket", "websocket"));
}

TEST_CASE("header_has_token matches whole items only", "[protocol][handshake]") {
  CHECK_FALSE(header_has_token("upgraded", "upgrade"));
  CHECK_FALSE(header_has_token("noupgrade", "upgrade"));
  CHECK_FALSE(header_has_token("keep-alive upgrade", "upgrade"));
  CHECK_FALSE(header_has_token("", "upgrade"));
  CHECK_FALSE(header_has_token(",,", "upgrade"));
  CHECK_FALSE(header_has_token("keep-alive", "upgrade"));
}

// ---- wants_websocket -----------------------------------------------------------------------

TEST_CASE("wants_websocket is true for an Upgrade header naming websocket", "[protocol][handshake]") {
  CHECK(wants_websocket(browser_request()));
  HttpRequest r;
  r.headers = {{"upgrade", "foo, WebSocket"}};
  CHECK(wants_websocket(r));
}

TEST_CASE("wants_websocket is true even for a broken handshake, so it is answered 4xx, not a file",
          "[protocol][handshake]") {
  HttpRequest r;
  r.method = "POST";
  r.headers = {{"upgrade", "websocket"}};
  CHECK(wants_websocket(r));
}

TEST_CASE("wants_websocket is true for a handshake missing its Upgrade header", "[protocol][handshake]") {
  HttpRequest key_only;
  key_only.headers = {{"host", "h"}, {"sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA=="}};
  CHECK(wants_websocket(key_only));
  HttpRequest version_only;
  version_only.headers = {{"host", "h"}, {"upgrade", "h2c"}, {"sec-websocket-version", "13"}};
  CHECK(wants_websocket(version_only));
}

TEST_CASE("wants_websocket is false for a plain request or an upgrade to another protocol", "[protocol][handshake]") {
  HttpRequest plain;
  plain.headers = {{"host", "h"}, {"connection", "keep-alive"}};
  CHECK_FALSE(wants_websocket(plain));
  // What curl --http2 sends: the server may ignore the offer (RFC 9110 7.8) and answer as HTTP/1.1.
  HttpRequest h2c;
  h2c.headers = {{"host", "h"}, {"connection", "Upgrade, HTTP2-Settings"}, {"upgrade", "h2c"}, {"http2-settings", "AAMAAABkAAQCAAAAAAIAAAAA"}};
  CHECK_FALSE(wants_websocket(h2c));
  // What nginx sends on every request under `proxy_set_header Connection "upgrade"` when the
  // client offered no upgrade: an option naming no protocol, not a handshake.
  HttpRequest connection_only;
  connection_only.headers = {{"host", "h"}, {"connection", "keep-alive, Upgrade"}};
  CHECK_FALSE(wants_websocket(connection_only));
}

// ---- headers that must appear once (RFC 6455 11.3.1, 11.3.5; RFC 9112 3.2) ---------------

TEST_CASE("a handshake with a header that must be single given twice is refused with 400", "[protocol][handshake]") {
  for (const auto& [name, value, shown] :
       {std::tuple{"sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA==", "Sec-WebSocket-Key"},
        std::tuple{"sec-websocket-key", kRfcKey, "Sec-WebSocket-Key"},
        std::tuple{"sec-websocket-version", "13", "Sec-WebSocket-Version"},
        std::tuple{"host", "other", "Host"},
        std::tuple{"upgrade", "websocket", "Upgrade"}}) {
    INFO(name);
    HttpRequest r = browser_request();
    r.headers.push_back({name, value});
    const HttpReject rej = refusal(r);
    CHECK(rej.status == 400);
    CHECK(rej.reason.find(shown) != std::string::npos);
  }
}

TEST_CASE("headers that may repeat (Connection, Sec-WebSocket-Protocol) still may", "[protocol][handshake]") {
  HttpRequest r = browser_request();
  r.headers.push_back({"connection", "keep-alive"});
  r.headers.push_back({"sec-websocket-protocol", "chat"});
  acceptance(r);
}

TEST_CASE("Connection and Sec-WebSocket-Protocol on several lines read as one list (RFC 9110 5.3)",
          "[protocol][handshake]") {
  HttpRequest r = browser_request();
  remove_header(r, "connection");
  r.headers.push_back({"connection", "keep-alive"});
  r.headers.push_back({"connection", "Upgrade"});
  r.headers.push_back({"sec-websocket-protocol", "chat"});
  r.headers.push_back({"sec-websocket-protocol", "skirmish.v2"});
  CHECK(acceptance(r, subprotocols({"skirmish.v2", "skirmish.v1"})).subprotocol == "skirmish.v2");
}
