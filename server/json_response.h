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

}  // namespace skirmish::server
