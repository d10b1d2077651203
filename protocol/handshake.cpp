#include "protocol/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "protocol/header_text.h"

namespace skirmish::protocol {

namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// A key is valid when it is canonical base64 of exactly 16 bytes: 22 symbols then "==".
// Checked by hand: EVP_DecodeBlock takes a '=' in the middle as a zero symbol.
bool is_valid_key(std::string_view key) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (kAlphabet.find(key[i]) == std::string_view::npos) return false;
  }
  // The 22nd symbol holds the last 2 bits of byte 16 and 4 zero bits: only A, Q, g and w.
  return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

HttpReject reject(int status, std::string reason) { return HttpReject{status, std::move(reason), {}}; }

}  // namespace

bool header_has_token(std::string_view value, std::string_view token) {
  return any_list_item(value, [&](std::string_view item) { return iequals(item, token); });
}

std::string compute_accept_key(std::string_view key) {
  std::string input(key);
  input += kWebSocketGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

bool origin_allowed(const HttpRequest& request, const std::vector<std::string>& allowed, bool missing_ok) {
  if (allowed.empty()) return true;
  const std::string* origin = request.header("origin");
  if (!origin) return missing_ok;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& o) { return iequals(o, trim(*origin)); });
}

bool wants_websocket(const HttpRequest& request) {
  if (request.header("sec-websocket-key") || request.header("sec-websocket-version")) return true;
  const std::string* upgrade = request.header("upgrade");
  return upgrade != nullptr && header_has_token(*upgrade, "websocket");
}

std::variant<UpgradeAccept, HttpReject> parse_upgrade(const HttpRequest& req, const HandshakePolicy& policy) {
  if (req.method != "GET") return reject(400, "a WebSocket handshake must use GET");
  if (req.version_major != 1 || req.version_minor < 1) return reject(400, "a WebSocket handshake needs HTTP/1.1");
  // RFC 6455 11.3.1 and 11.3.5: the key and the version must not appear more than once; a
  // second Host is never valid (RFC 9112 3.2), and two Upgrade lines make the request ambiguous.
  for (const auto& [name, shown] : {std::pair{"host", "Host"}, std::pair{"upgrade", "Upgrade"},
                                    std::pair{"sec-websocket-key", "Sec-WebSocket-Key"},
                                    std::pair{"sec-websocket-version", "Sec-WebSocket-Version"}}) {
    if (req.header_count(name) > 1) return reject(400, std::string(shown) + " header must appear only once");
  }
  if (!req.header("host")) return reject(400, "missing Host header");
  const std::string* upgrade = req.header("upgrade");
  if (!upgrade || !header_has_token(*upgrade, "websocket")) return reject(400, "Upgrade header must contain 'websocket'");
  // Connection and Sec-WebSocket-Protocol are lists: several lines read as one (RFC 9110 5.3).
  const std::optional<std::string> connection = joined_header(req.headers, "connection");
  if (!connection || !header_has_token(*connection, "upgrade")) {
    return reject(400, "Connection header must contain 'Upgrade'");
  }
  const std::string* key = req.header("sec-websocket-key");
  if (!key) return reject(400, "missing Sec-WebSocket-Key header");
  const std::string_view key_value = trim(*key);
  if (!is_valid_key(key_value)) return reject(400, "Sec-WebSocket-Key must be the base64 of 16 bytes");
  const std::string* version = req.header("sec-websocket-version");
  if (!version || trim(*version) != "13") {
    // RFC 9110 15.5.22: a 426 names the protocol to upgrade to (with its connection option).
    HttpReject r = reject(426, "only WebSocket version 13 is supported");
    r.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"}};
    return r;
  }
  if (!origin_allowed(req, policy.allowed_origins, false)) return reject(403, "origin not allowed");

  UpgradeAccept accept;
  accept.accept_key = compute_accept_key(key_value);
  if (const std::optional<std::string> offered = joined_header(req.headers, "sec-websocket-protocol")) {
    // Our preference order wins; the client's list only says what it can speak. Names match
    // exactly, case included: a client fails a reply naming a subprotocol it did not send
    // (RFC 6455 4.1), and browsers compare the bytes.
    for (const auto& ours : policy.subprotocols) {
      if (any_list_item(*offered, [&](std::string_view item) { return item == ours; })) {
        accept.subprotocol = ours;
        break;
      }
    }
  }
  accept.response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " + accept.accept_key + "\r\n";
  if (!accept.subprotocol.empty()) accept.response += "Sec-WebSocket-Protocol: " + accept.subprotocol + "\r\n";
  accept.response += "\r\n";
  return accept;
}

}  // namespace skirmish::protocol
