// The Date header of our HTTP answers (RFC 9110 6.6.1: an origin server with a clock sends one
// in every 2xx, 3xx and 4xx answer), in its one fixed form, IMF-fixdate:
// "Sun, 06 Nov 1994 08:49:37 GMT". Written by hand, not strftime: %a and %b follow the locale.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

#include "protocol/http_types.h"

namespace skirmish::server {

inline std::string http_date(std::time_t t) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Now, formatted at most once a second on each thread (each event loop answers on its own).
inline const std::string& http_date_now() {
  thread_local std::time_t last = -1;
  thread_local std::string text;
  if (const std::time_t now = std::time(nullptr); now != last) {
    last = now;
    text = http_date(now);
  }
  return text;
}

// An answer written without Connection::fit_answer (a refusal before any request could be
// fitted: a bad request, one that never arrived, a connection over a limit), dated.
inline protocol::HttpResponse dated(protocol::HttpResponse response) {
  response.date = http_date_now();
  return response;
}

}  // namespace skirmish::server
