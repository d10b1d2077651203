// The WebSocket opening handshake, server side (RFC 6455 section 4.2).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/http_types.h"

namespace skirmish::protocol {

// What the daemon's configuration says about handshakes ("websocket.*").
struct HandshakePolicy {
  // Browser origins allowed to open a socket, e.g. "http://localhost:8080". Empty: any.
  std::vector<std::string> allowed_origins;
  // Subprotocols we speak, in our order of preference. Empty: none is ever selected.
  std::vector<std::string> subprotocols;
};

struct UpgradeAccept {
  std::string accept_key;   // Sec-WebSocket-Accept
  std::string subprotocol;  // empty when none was agreed
  std::string response;     // the complete 101 response, ready to write
};

// base64(SHA-1(key + the RFC's GUID)).
std::string compute_accept_key(std::string_view sec_websocket_key);

// True when the request is meant as a WebSocket handshake, however broken: an Upgrade header
// naming "websocket", or a Sec-WebSocket-Key or -Version. Such a request is judged by
// parse_upgrade and answered 101 or the 4xx that names what is wrong, never with a file. An
// upgrade to a protocol we do not speak (h2c, say) is not one: the server ignores the offer and
// answers the request as it is (RFC 9110 7.8). Nor is "Connection: Upgrade" alone, with no
// Upgrade header: an option that names no protocol means nothing (RFC 9110 7.6.1), and a proxy
// set up with nginx's common `proxy_set_header Connection "upgrade"` sends it on every request,
// the page's and the polls' too (with an empty $http_upgrade it drops the Upgrade line).
bool wants_websocket(const HttpRequest& request);

// Checks every rule of RFC 6455 section 4.2.1 in order and answers 101 or the refusal:
// 400 for a method other than GET, a version below HTTP/1.1, a missing Host / Upgrade /
// Connection token or a key that is not the base64 of 16 bytes, 426 with Sec-WebSocket-Version: 13 for another
// version, 403 for an origin not on the allow-list.
std::variant<UpgradeAccept, HttpReject> parse_upgrade(const HttpRequest& request, const HandshakePolicy& policy);

// Whether the request's Origin is on `allowed` (any, when it is empty); a request without
// an Origin header passes only when `missing_ok`. Origins compare case-insensitively.
bool origin_allowed(const HttpRequest& request, const std::vector<std::string>& allowed, bool missing_ok);

// True when the comma-separated header value contains `token`, case-insensitively.
bool header_has_token(std::string_view value, std::string_view token);

}  // namespace skirmish::protocol
