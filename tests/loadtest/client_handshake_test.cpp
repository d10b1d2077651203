#include "loadtest/client_handshake.h"

#include <catch2/catch.hpp>

#include <string>

#include "protocol/handshake.h"

using namespace skirmish::loadtest;
using Status = UpgradeResponseReader::Status;

namespace {
// RFC 6455 section 1.3's example key and accept value.
const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string response(const std::string& accept, const std::string& status = "101 Switching Protocols") {
  return "HTTP/1.1 " + status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
         "\r\n\r\n";
}
}  // namespace

TEST_CASE("ws URLs parse, and only IP literals are accepted", "[loadtest]") {
  auto u = parse_ws_url("ws://127.0.0.1:8080/ws");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 8080);
  CHECK(u->path == "/ws");
  u = parse_ws_url("ws://localhost:9/ws?x=1");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->path == "/ws?x=1");
  u = parse_ws_url("ws://[::1]:7/");
  REQUIRE(u);
  CHECK(u->ipv6);
  CHECK(u->host == "::1");
  CHECK(parse_ws_url("ws://127.0.0.1")->port == 80);
  CHECK_FALSE(parse_ws_url("http://127.0.0.1:80/ws"));
  CHECK_FALSE(parse_ws_url("ws://example.com:80/ws"));
  CHECK_FALSE(parse_ws_url("ws://127.0.0.1:99999/ws"));
  CHECK_FALSE(parse_ws_url("ws://127.0.0.1:x/ws"));
}

TEST_CASE("base64 matches RFC 4648's vectors", "[loadtest]") {
  auto b64 = [](const std::string& s) { return base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); };
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foo") == "Zm9v");
  CHECK(b64("foobar") == "Zm9vYmFy");
  CHECK(make_websocket_key({}).size() == 24);
}

TEST_CASE("the upgrade request is what the daemon's parser accepts", "[loadtest]") {
  const std::string r = build_upgrade_request(*parse_ws_url("ws://127.0.0.1:8080/ws"), kKey);
  CHECK(r.rfind("GET /ws HTTP/1.1\r\n", 0) == 0);
  CHECK(r.find("Host: 127.0.0.1:8080\r\n") != std::string::npos);
  CHECK(r.find("Sec-WebSocket-Key: " + kKey + "\r\n") != std::string::npos);
  CHECK(r.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(r.substr(r.size() - 4) == "\r\n\r\n");
}

TEST_CASE("a 101 with the right accept key is accepted, fed at every split", "[loadtest]") {
  REQUIRE(skirmish::protocol::compute_accept_key(kKey) == kAccept);
  const std::string bytes = response(kAccept) + "\x81\x02hi";
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    UpgradeResponseReader r(kKey);
    r.feed(bytes.data(), split);
    r.feed(bytes.data() + split, bytes.size() - split);
    INFO("split at " << split);
    REQUIRE(r.status() == Status::Accepted);
    CHECK(r.trailing() == "\x81\x02hi");
  }
}

TEST_CASE("a wrong accept key, another status or missing headers fail", "[loadtest]") {
  {
    UpgradeResponseReader r(kKey);
    const auto s = response("AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.error() == "bad Sec-WebSocket-Accept");
  }
  {
    UpgradeResponseReader r(kKey);
    const std::string s = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.http_status() == 503);
    CHECK(r.error() == "status 503");
  }
  {
    UpgradeResponseReader r(kKey);
    const std::string s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + kAccept +
                          "\r\n\r\n";
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.error() == "no Connection: upgrade");
  }
  {
    UpgradeResponseReader r(kKey);
    const std::string s(UpgradeResponseReader::kMaxHeaderBytes + 10, 'a');
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
  }
}

TEST_CASE("an HTTP/1.0 answer is reported by its status; only an HTTP/1.1 101 upgrades", "[loadtest]") {
  {
    // python3 -m http.server answers HTTP/1.0.
    UpgradeResponseReader r(kKey);
    const std::string s = "HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6\r\n\r\n";
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.http_status() == 404);
    CHECK(r.error() == "status 404");
  }
  {
    UpgradeResponseReader r(kKey);
    std::string s = response(kAccept);
    s.replace(0, 8, "HTTP/1.0");
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.error() == "bad status line");
  }
  for (const std::string line : {"HTTP/2 404 x", "SSH-2.0-OpenSSH_9.2", "HTTP/1.x 404 x", "HTTP/1.1404 x"}) {
    UpgradeResponseReader r(kKey);
    const std::string s = line + "\r\n\r\n";
    CHECK(r.feed(s.data(), s.size()) == Status::Failed);
    CHECK(r.error() == "bad status line");
  }
}

TEST_CASE("the URL scheme and localhost are case-insensitive", "[loadtest]") {
  auto u = parse_ws_url("WS://127.0.0.1:8080/ws");
  REQUIRE(u);
  CHECK(u->port == 8080);
  CHECK(u->path == "/ws");  // the path keeps its case
  CHECK(parse_ws_url("Ws://LOCALHOST:9/Ws")->host == "127.0.0.1");
  CHECK(parse_ws_url("Ws://LOCALHOST:9/Ws")->path == "/Ws");
  CHECK_FALSE(parse_ws_url("WSS://127.0.0.1:80/ws"));
  CHECK_FALSE(parse_ws_url("wx://127.0.0.1:80/ws"));
}
