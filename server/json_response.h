// The daemon's own JSON answers (/healthz, /stats.json, the polling API): never cached,
// keep-alive as the request asked, no body bytes for HEAD.
#pragma once

#include <string>

#include "protocol/http_types.h"

namespace skirmish::server {

inline protocol::HttpResponse json_response(const protocol::HttpRequest& request, int status, std::string body) {
  protocol::HttpResponse r;
  r.status = status;
  r.keep_alive = request.keep_alive;
  r.head_only = request.method == "HEAD";
  r.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
  r.body = std::move(body);
  return r;
}

// 405 for a method the path does not take; Allow lists the ones it does (RFC 9110 15.5.6).
inline protocol::HttpResponse method_not_allowed(const protocol::HttpRequest& request, const char* allow,
                                                 std::string body) {
  protocol::HttpResponse r = json_response(request, 405, std::move(body));
  r.headers.push_back({"Allow", allow});
  return r;
}

// 503 with the seconds after which asking again may work (RFC 9110 10.2.3).
inline protocol::HttpResponse service_unavailable(const protocol::HttpRequest& request, std::string body,
                                                  int retry_after_s) {
  protocol::HttpResponse r = json_response(request, 503, std::move(body));
  r.headers.push_back({"Retry-After", std::to_string(retry_after_s)});
  return r;
}

// A world or every world is full: places free up as players leave, not at once.
constexpr int kFullRetryAfterS = 5;

}  // namespace skirmish::server
