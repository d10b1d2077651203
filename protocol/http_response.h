// Turning responses into bytes.
#pragma once

#include <string>
#include <string_view>

#include "protocol/http_types.h"

namespace skirmish::protocol {

// "Not Found" for 404, "Unknown" for codes we never send.
const char* status_text(int status);

// The response's bytes: status line, headers, Content-Length (unless the caller set one,
// as HEAD does), Connection: close when !keep_alive, blank line, then the body (none for HEAD,
// 1xx, 204 and 304).
std::string serialize_response(const HttpResponse& response);

// A plain-text error response whose body is the reason, e.g. "400 Bad Request: missing Host".
// Rejections close the connection: after a malformed request we cannot trust the framing.
HttpResponse make_reject_response(const HttpReject& reject);

}  // namespace skirmish::protocol
