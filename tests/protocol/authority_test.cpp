// Host and port, taken apart: what a Host header or a configured URL may hold.
#include "protocol/authority.h"

#include <catch2/catch.hpp>

using skirmish::protocol::is_plain_authority;
using skirmish::protocol::split_authority;

TEST_CASE("a plain authority is a host or bracketed IPv6 address with at most a port", "[protocol]") {
  for (const char* good : {"localhost", "play.example:8080", "10.0.0.1:1", "[::1]", "[::1]:65535", "a_b-c.d"}) {
    CHECK(is_plain_authority(good));
  }
  for (const char* bad : {"", "[::1", "x:abc", "x:99999", "x:0", "x:", "[::1]x", "a/b", "a b", "u@h", "[g::1]", ":80"}) {
    INFO(bad);
    CHECK_FALSE(is_plain_authority(bad));
  }
}

TEST_CASE("an authority splits into host and port, the port kept when absent", "[protocol]") {
  std::string host, why;
  int port = 80;
  REQUIRE(split_authority("[::1]:9000", host, port, why));
  CHECK(host == "::1");
  CHECK(port == 9000);
  port = 80;
  REQUIRE(split_authority("play.example", host, port, why));
  CHECK(host == "play.example");
  CHECK(port == 80);
  CHECK_FALSE(split_authority("x:0", host, port, why));
  CHECK(why.find("1 to 65535") != std::string::npos);
}
