#include "server/token_bucket.h"

#include <catch2/catch.hpp>

using skirmish::server::TokenBucket;

TEST_CASE("a token bucket allows one second's burst, then the rate", "[server]") {
  TokenBucket bucket(10, 1000);
  for (int i = 0; i < 10; ++i) REQUIRE(bucket.take(10, 1000));
  CHECK_FALSE(bucket.take(10, 1000));
  CHECK_FALSE(bucket.ready(10, 1050));  // half a token
  CHECK(bucket.ready(10, 1100));
  CHECK(bucket.take(10, 1100));
  CHECK_FALSE(bucket.take(10, 1100));
  // A long pause refills to the burst, no more.
  int taken = 0;
  while (bucket.take(10, 60000)) ++taken;
  CHECK(taken == 10);
}

TEST_CASE("a token bucket ignores a clock that goes backwards", "[server]") {
  TokenBucket bucket(2, 5000);
  CHECK(bucket.take(2, 5000));
  CHECK(bucket.take(2, 4000));
  CHECK_FALSE(bucket.take(2, 4500));
  CHECK(bucket.take(2, 5500));
}
