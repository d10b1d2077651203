// The Date header's form (RFC 9110 5.6.7, IMF-fixdate).
#include <catch2/catch.hpp>

#include <regex>

#include "server/http_date.h"

using skirmish::server::http_date;
using skirmish::server::http_date_now;

TEST_CASE("http_date writes IMF-fixdate in GMT", "[http_date]") {
  CHECK(http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's own example
  CHECK(http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST_CASE("http_date_now is now, in that form", "[http_date]") {
  const std::string now = http_date_now();
  CHECK(std::regex_match(now, std::regex(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")));
  const std::time_t t = std::time(nullptr);
  CHECK((now == http_date(t) || now == http_date(t - 1)));
}
