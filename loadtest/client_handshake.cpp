#include "loadtest/client_handshake.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "protocol/handshake.h"

namespace skirmish::loadtest {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_ipv4_literal(std::string_view h) {
  int dots = 0;
  for (const char c : h) {
    if (c == '.') {
      dots++;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace

std::optional<WsUrl> parse_ws_url(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  // The scheme is case-insensitive (RFC 3986 3.1): WS:// is ws://.
  if (!iequals(url.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  WsUrl out;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    out.ipv6 = true;
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (iequals(out.host, "localhost")) out.host = "127.0.0.1";
    if (!is_ipv4_literal(out.host)) return std::nullopt;
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

std::string base64_encode(const std::uint8_t* data, std::size_t len) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  for (std::size_t i = 0; i < len; i += 3) {
    const std::uint32_t b0 = data[i];
    const std::uint32_t b1 = i + 1 < len ? data[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < len ? data[i + 2] : 0;
    const std::uint32_t n = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < len ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < len ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string make_websocket_key(const std::array<std::uint8_t, 16>& random_bytes) {
  return base64_encode(random_bytes.data(), random_bytes.size());
}

std::string build_upgrade_request(const WsUrl& url, std::string_view key, std::string_view subprotocol) {
  std::string host = url.ipv6 ? "[" + url.host + "]" : url.host;
  host += ":" + std::to_string(url.port);
  std::string r;
  r.reserve(256);
  r += "GET " + url.path + " HTTP/1.1\r\n";
  r += "Host: " + host + "\r\n";
  r += "Upgrade: websocket\r\n";
  r += "Connection: Upgrade\r\n";
  r += "Sec-WebSocket-Key: ";
  r += key;
  r += "\r\n";
  r += "Sec-WebSocket-Version: 13\r\n";
  if (!subprotocol.empty()) {
    r += "Sec-WebSocket-Protocol: ";
    r += subprotocol;
    r += "\r\n";
  }
  r += "Origin: http://" + host + "\r\n";
  r += "User-Agent: skirmish-load\r\n\r\n";
  return r;
}

UpgradeResponseReader::Status UpgradeResponseReader::fail(std::string why) {
  error_ = std::move(why);
  status_ = Status::Failed;
  return status_;
}

UpgradeResponseReader::Status UpgradeResponseReader::feed(const char* data, std::size_t len) {
  if (status_ != Status::NeedMore) {
    if (status_ == Status::Accepted) trailing_.append(data, len);
    return status_;
  }
  // Look for the blank line only in the new bytes (and the 3 before them).
  const std::size_t search_from = buffer_.size() >= 3 ? buffer_.size() - 3 : 0;
  buffer_.append(data, len);
  const auto end = buffer_.find("\r\n\r\n", search_from);
  if (end == std::string::npos) {
    if (buffer_.size() > kMaxHeaderBytes) return fail("response header too large");
    return status_;
  }
  trailing_ = buffer_.substr(end + 4);
  buffer_.resize(end + 2);  // keep the last header line's CRLF
  const Status s = check(buffer_);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return s;
}

UpgradeResponseReader::Status UpgradeResponseReader::check(std::string_view head) {
  auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols". Any HTTP/1.x answer has its status in the same
  // place, so a plain HTTP/1.0 server's 404 is reported as "status 404", which says what is
  // wrong; only an HTTP/1.1 answer can upgrade (RFC 6455 4.1).
  if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 ||
      !std::isdigit(static_cast<unsigned char>(status_line[7])) || status_line[8] != ' ') {
    return fail("bad status line");
  }
  const std::string_view code = status_line.substr(9, 3);
  std::from_chars(code.data(), code.data() + code.size(), http_status_);
  if (http_status_ != 101) return fail("status " + std::to_string(http_status_));
  if (status_line[7] != '1') return fail("bad status line");  // a 101 that is not HTTP/1.1
  bool upgrade = false, connection = false, accept = false;
  std::string_view selected;
  const std::string expected = protocol::compute_accept_key(key_);
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    line_end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, line_end - pos);
    pos = line_end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail("bad header line");
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Upgrade")) {
      upgrade = protocol::header_has_token(value, "websocket");
    } else if (iequals(name, "Connection")) {
      connection = protocol::header_has_token(value, "upgrade");
    } else if (iequals(name, "Sec-WebSocket-Accept")) {
      if (value != expected) return fail("bad Sec-WebSocket-Accept");
      accept = true;
    } else if (iequals(name, "Sec-WebSocket-Protocol")) {
      selected = value;
    }
  }
  if (!upgrade) return fail("no Upgrade: websocket");
  if (!connection) return fail("no Connection: upgrade");
  if (!accept) return fail("no Sec-WebSocket-Accept");
  // RFC 6455 4.1: a subprotocol we did not offer fails the connection; one we asked for and
  // did not get is a daemon that does not speak it.
  if (selected != subprotocol_) {
    return fail(subprotocol_.empty() ? "unasked subprotocol selected" : "subprotocol " + subprotocol_ + " not selected");
  }
  status_ = Status::Accepted;
  return status_;
}

}  // namespace skirmish::loadtest
