// The fleet's two URLs: what is taken apart, and what is refused with a reason.
#include "config/endpoint_url.h"

#include <catch2/catch.hpp>

using skirmish::config::parse_public_url;
using skirmish::config::parse_redis_url;

TEST_CASE("a redis URL gives host and port, 6379 when it names none") {
  std::string why;
  auto e = parse_redis_url("redis://127.0.0.1:7000", why);
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1");
  CHECK(e->port == 7000);
  e = parse_redis_url("redis://cache.internal/", why);
  REQUIRE(e);
  CHECK(e->host == "cache.internal");
  CHECK(e->port == 6379);
  e = parse_redis_url("redis://[::1]:6380", why);
  REQUIRE(e);
  CHECK(e->host == "::1");
  CHECK(e->port == 6380);
}

TEST_CASE("a redis URL we cannot honour is refused with a reason") {
  for (const char* bad : {"", "127.0.0.1:6379", "rediss://h:1", "redis://", "redis://:6379", "redis://h:0",
                          "redis://h:65536", "redis://h:12x", "redis://user@h:1", "redis://user:@h:1", "redis://:@h:1",
                          "redis://:p%zz@h:1", "redis://:p%4@h:1", "redis://:pw@", "redis://:pw@h:1/0", "redis://h:1/0",
                          "redis://[::1", "redis://h h:1", "redis://h:"}) {
    std::string why;
    CHECK_FALSE(parse_redis_url(bad, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("a redis URL may carry a password, and a user with it, percent-encoded") {
  std::string why;
  auto e = parse_redis_url("redis://:s3cret@10.0.0.5:6380", why);
  REQUIRE(e);
  CHECK(e->host == "10.0.0.5");
  CHECK(e->port == 6380);
  CHECK(e->username.empty());
  CHECK(e->password == "s3cret");
  e = parse_redis_url("redis://game%40eu:p%3Aw%2F%25d@[::1]/", why);
  REQUIRE(e);
  CHECK(e->username == "game@eu");
  CHECK(e->password == "p:w/%d");
  CHECK(e->host == "::1");
  CHECK(e->port == 6379);
  // An '@' left unescaped in the password: the last '@' ends the user information.
  e = parse_redis_url("redis://:a@b@cache:7000", why);
  REQUIRE(e);
  CHECK(e->password == "a@b");
  CHECK(e->host == "cache");
  // '/', '?' and '#' left unescaped in it (base64 passwords hold '/') are the password's too.
  e = parse_redis_url("redis://:ab/c?d#e@cache:7000", why);
  REQUIRE(e);
  CHECK(e->password == "ab/c?d#e");
  CHECK(e->host == "cache");
  e = parse_redis_url("redis://cache:7000", why);
  REQUIRE(e);
  CHECK(e->password.empty());
}

TEST_CASE("a refused redis URL's reason never holds its password") {
  for (const char* bad : {"redis://:topsecret@h:0", "redis://u:topsecret@h:1/0", "redis://u:topsecret@", "redis://u:topsecret%zz@h"}) {
    std::string why;
    CHECK_FALSE(parse_redis_url(bad, why));
    CHECK_FALSE(why.empty());
    CHECK(why.find("topsecret") == std::string::npos);
  }
}

TEST_CASE("a redis URL is shown with its password hidden") {
  CHECK(skirmish::config::redact_redis_url("redis://:s3cret@h:1") == "redis://:***@h:1");
  CHECK(skirmish::config::redact_redis_url("redis://game:s3cret@h:1/") == "redis://game:***@h:1/");
  CHECK(skirmish::config::redact_redis_url("redis://:a@b@h:1") == "redis://:***@h:1");
  CHECK(skirmish::config::redact_redis_url("redis://h:1") == "redis://h:1");
  CHECK(skirmish::config::redact_redis_url("redis://:ab/cd@h:1/0") == "redis://:***@h:1/0");
  CHECK(skirmish::config::redact_redis_url("redis://SECRET@h:1") == "redis://***@h:1");
  CHECK(skirmish::config::redact_redis_url("redis://u/x:SECRET@h:1") == "redis://***@h:1");
  CHECK(skirmish::config::redact_redis_url("") == "");
}

TEST_CASE("the shown form, copied back, is refused: its password is the mask") {
  std::string why;
  CHECK_FALSE(parse_redis_url(skirmish::config::redact_redis_url("redis://game:s3cret@h:1"), why));
  CHECK(why.find("--print-config") != std::string::npos);
}

TEST_CASE("a public URL says whether browsers come over TLS, and the authority they write") {
  std::string why;
  auto u = parse_public_url("https://eu1.example.com", why);
  REQUIRE(u);
  CHECK(u->secure);
  CHECK(u->authority == "eu1.example.com");
  u = parse_public_url("http://10.0.0.5:8080/", why);
  REQUIRE(u);
  CHECK_FALSE(u->secure);
  CHECK(u->authority == "10.0.0.5:8080");
  u = parse_public_url("wss://[::1]:9000", why);
  REQUIRE(u);
  CHECK(u->secure);
  CHECK(u->authority == "[::1]:9000");
  for (const char* bad : {"", "example.com", "ftp://x", "http://", "http://x/path", "http://x?q", "http://x:99999"}) {
    CHECK_FALSE(parse_public_url(bad, why));
  }
}
