// The Date header's form (RFC 9110 5.6.7, IMF-fixdate).
#include <catch2/catch.hpp>

#include <cctype>

#include "server/http_date.h"

using skirmish::server::http_date;
using skirmish::server::http_date_now;

TEST_CASE("http_date writes IMF-fixdate in GMT", "[http_date]") {
  CHECK(http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's own example
  CHECK(http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST_CASE("http_date_now is now, in that form", "[http_date]") {
  // (No std::regex: GCC 12 warns inside <regex> under the sanitizers, and warnings are errors.)
  const std::string now = http_date_now();
  REQUIRE(now.size() == 29);
  const std::string shape = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    INFO(now << " at " << i);
    if (shape[i] == '0') {
      CHECK(std::isdigit(static_cast<unsigned char>(now[i])));
    } else if (shape[i] == 'A' || shape[i] == 'a') {
      CHECK(std::isalpha(static_cast<unsigned char>(now[i])));
    } else if (i < 26) {
      CHECK(now[i] == shape[i]);
    }
  }
  CHECK(now.substr(25) == " GMT");
  const std::time_t t = std::time(nullptr);
  CHECK((now == http_date(t) || now == http_date(t - 1)));
}
