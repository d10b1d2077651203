// The client side of the WebSocket opening handshake (RFC 6455 section 4.1), sans-I/O:
// the request a browser would send, and a reader that checks the server's answer is a
// 101 with the right Sec-WebSocket-Accept before a single frame is read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skirmish::loadtest {

struct WsUrl {
  std::string host;  // an IP literal, as given (IPv6 without brackets)
  bool ipv6 = false;
  std::uint16_t port = 80;
  std::string path = "/";  // path and query
};

// Parses ws://HOST[:PORT][/PATH]. HOST must be an IP literal ("localhost" is taken as
// 127.0.0.1): the tester connects only where it is told, without DNS. Nothing on error.
std::optional<WsUrl> parse_ws_url(std::string_view url);

std::string base64_encode(const std::uint8_t* data, std::size_t len);

// A Sec-WebSocket-Key: the base64 of 16 random bytes (the caller supplies them).
std::string make_websocket_key(const std::array<std::uint8_t, 16>& random_bytes);

// The GET request, as a browser sends it (Host, Upgrade, Connection, key, version, Origin).
// `subprotocol` non-empty: offered in Sec-WebSocket-Protocol.
std::string build_upgrade_request(const WsUrl& url, std::string_view key, std::string_view subprotocol = {});

// Reads the response to build_upgrade_request. feed() until it is not NeedMore; after
// Accepted, the bytes after the header (frames the server sent at once) are in trailing().
class UpgradeResponseReader {
 public:
  enum class Status : std::uint8_t { NeedMore, Accepted, Failed };
  static constexpr std::size_t kMaxHeaderBytes = 8192;

  // `subprotocol`: the one offered (it must be selected), or empty (none may be).
  explicit UpgradeResponseReader(std::string key, std::string subprotocol = {})
      : key_(std::move(key)), subprotocol_(std::move(subprotocol)) {}

  Status feed(const char* data, std::size_t len);
  Status status() const { return status_; }
  // Why it failed, for the report ("status 503", "bad Sec-WebSocket-Accept", ...).
  const std::string& error() const { return error_; }
  int http_status() const { return http_status_; }
  std::string_view trailing() const { return trailing_; }

 private:
  Status check(std::string_view head);
  Status fail(std::string why);

  std::string key_;
  std::string subprotocol_;
  std::string buffer_;
  std::string trailing_;
  std::string error_;
  int http_status_ = 0;
  Status status_ = Status::NeedMore;
};

}  // namespace skirmish::loadtest
