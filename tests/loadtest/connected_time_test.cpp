#include "loadtest/connected_time.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using skirmish::loadtest::ConnectedTime;

namespace {
constexpr std::uint64_t kSecond = 1000000;
}  // namespace

TEST_CASE("connected time: whole seconds of clients open throughout", "[loadtest]") {
  ConnectedTime t;
  for (int i = 0; i < 5; ++i) t.opened(100);
  CHECK(t.take(kSecond + 100) == 5 * kSecond);
  CHECK(t.take(2 * kSecond + 100) == 5 * kSecond);
  CHECK(t.open() == 5);
}

TEST_CASE("connected time: clients that open or drop within a second count their share", "[loadtest]") {
  // 50 clients; the daemon dies 0.5 s into the window's second: every one dropped then. A
  // count at the end of the second says 0 connected; the frames of that half second came.
  ConnectedTime t;
  for (int i = 0; i < 50; ++i) t.opened(0);
  CHECK(t.take(kSecond) == 50 * kSecond);
  for (int i = 0; i < 50; ++i) t.closed(0, kSecond + kSecond / 2);
  CHECK(t.take(2 * kSecond) == 50 * kSecond / 2);
  CHECK(t.take(3 * kSecond) == 0);
  CHECK(t.open() == 0);

  // One opens 0.25 s into a second and closes 0.5 s into the next.
  ConnectedTime u;
  u.opened(kSecond / 4);
  CHECK(u.take(kSecond) == 3 * kSecond / 4);
  u.closed(kSecond / 4, kSecond + kSecond / 2);
  CHECK(u.take(2 * kSecond) == kSecond / 2);

  // Opened and closed between two takes.
  ConnectedTime v;
  v.take(0);
  v.opened(100);
  v.closed(100, 400);
  CHECK(v.take(kSecond) == 300);
}

TEST_CASE("connected time: exact with a million clients on a clock far from zero", "[loadtest]") {
  // The sums wrap around 2^64; the differences do not.
  ConnectedTime t;
  const std::uint64_t base = std::uint64_t{1} << 62;
  for (int i = 0; i < 1000000; ++i) t.opened(base + static_cast<std::uint64_t>(i % 1000));
  std::uint64_t expected = 0;
  for (int i = 0; i < 1000000; ++i) expected += kSecond - static_cast<std::uint64_t>(i % 1000);
  CHECK(t.take(base + kSecond) == expected);
  CHECK(t.take(base + 2 * kSecond) == 1000000 * kSecond);
}
