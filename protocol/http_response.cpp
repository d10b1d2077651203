#include "protocol/http_response.h"

#include <cctype>
#include <cstdio>

namespace skirmish::protocol {

const char* status_text(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

static bool has_header(const HttpResponse& r, std::string_view lower_name) {
  for (const auto& h : r.headers) {
    if (h.name.size() != lower_name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < h.name.size() && same; ++i) {
      same = static_cast<char>(std::tolower(static_cast<unsigned char>(h.name[i]))) == lower_name[i];
    }
    if (same) return true;
  }
  return false;
}

std::string serialize_response(const HttpResponse& r) {
  const bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
  std::string out;
  out.reserve(128 + r.body.size());
  char line[64];
  std::snprintf(line, sizeof line, "HTTP/1.1 %d ", r.status);
  out += line;
  out += status_text(r.status);
  out += "\r\n";
  if (!r.date.empty() && r.status >= 200) {
    out += "Date: ";
    out += r.date;
    out += "\r\n";
  }
  for (const auto& h : r.headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (!bodiless && !has_header(r, "content-length")) {
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  if (!r.keep_alive && r.status != 101) out += "Connection: close\r\n";
  if (r.keep_alive && r.announce_keep_alive && r.status != 101) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!bodiless && !r.head_only) out += r.body;
  return out;
}

HttpResponse make_reject_response(const HttpReject& reject) {
  HttpResponse r;
  r.status = reject.status;
  r.headers = reject.headers;
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.headers.push_back({"Cache-Control", "no-store"});
  r.body = std::to_string(reject.status) + " " + status_text(reject.status);
  if (!reject.reason.empty()) r.body += ": " + reject.reason;
  r.body += "\n";
  r.keep_alive = false;
  return r;
}

}  // namespace skirmish::protocol
