#include "loadtest/tick_tracker.h"

#include <catch2/catch.hpp>

using skirmish::loadtest::TickTracker;

TEST_CASE("ticks in order miss nothing", "[loadtest]") {
  TickTracker t;
  CHECK_FALSE(t.started());
  for (std::uint64_t tick = 100; tick < 200; ++tick) CHECK(t.on_tick(tick) == 0);
  CHECK(t.received() == 100);
  CHECK(t.missing() == 0);
  CHECK(t.stale() == 0);
  CHECK(t.first() == 100);
  CHECK(t.last() == 199);
  CHECK(t.span() == 100);
}

TEST_CASE("the first frame starts the count, whatever its number", "[loadtest]") {
  TickTracker t;
  CHECK(t.on_tick(5000) == 0);
  CHECK(t.missing() == 0);
  CHECK(t.span() == 1);
}

TEST_CASE("a gap counts the ticks skipped", "[loadtest]") {
  TickTracker t;
  t.on_tick(1);
  t.on_tick(2);
  CHECK(t.on_tick(5) == 2);  // 3 and 4 lost
  CHECK(t.on_tick(6) == 0);
  CHECK(t.on_tick(16) == 9);
  CHECK(t.missing() == 11);
  CHECK(t.received() == 5);
  CHECK(t.span() == 16);
  CHECK(t.received() + t.missing() == t.span());
}

TEST_CASE("duplicates and out-of-order ticks are stale and change nothing else", "[loadtest]") {
  TickTracker t;
  t.on_tick(10);
  t.on_tick(11);
  CHECK(t.on_tick(11) == 0);  // duplicate
  CHECK(t.on_tick(9) == 0);   // older than the first
  t.on_tick(13);              // 12 missing
  CHECK(t.on_tick(12) == 0);  // arrives late: stale, still counted missing
  CHECK(t.stale() == 3);
  CHECK(t.missing() == 1);
  CHECK(t.last() == 13);
  CHECK(t.received() == 6);
}

TEST_CASE("an empty tracker has no span", "[loadtest]") {
  TickTracker t;
  CHECK(t.span() == 0);
  CHECK(t.received() == 0);
}
