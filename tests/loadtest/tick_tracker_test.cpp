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

using skirmish::loadtest::TickWindow;

TEST_CASE("a window of every tick: gap 1, game rate the tick rate", "[loadtest]") {
  TickWindow w;
  CHECK(w.max_gap() == 0);
  CHECK_FALSE(w.has_game_rate());
  for (std::uint64_t i = 0; i <= 100; ++i) w.on_tick(500 + i, 1'000'000 + i * 50'000);  // 20 ticks/s
  CHECK(w.frames() == 101);
  CHECK(w.first_tick() == 500);
  CHECK(w.last_tick() == 600);
  CHECK(w.max_gap() == 1);
  REQUIRE(w.has_game_rate());
  CHECK(w.game_rate() == Approx(20.0));
}

TEST_CASE("a viewer served every 4th tick: a quarter of the frames, the same game rate", "[loadtest]") {
  TickWindow w;
  for (std::uint64_t tick = 1000; tick <= 1400; tick += 4) w.on_tick(tick, tick * 50'000);
  CHECK(w.frames() == 101);
  CHECK(w.max_gap() == 4);
  CHECK(w.game_rate() == Approx(20.0));
}

TEST_CASE("a client falling behind: game time advances slower than the clock", "[loadtest]") {
  TickWindow w;
  w.on_tick(10, 0);
  w.on_tick(11, 100'000);
  w.on_tick(19, 1'000'000);  // 9 ticks in one second
  CHECK(w.max_gap() == 8);
  CHECK(w.game_rate() == Approx(9.0));
}

TEST_CASE("a window's first frame has no gap, stale ticks move nothing, reset starts over", "[loadtest]") {
  TickWindow w;
  w.on_tick(5000, 10);
  CHECK(w.frames() == 1);
  CHECK(w.max_gap() == 0);
  CHECK_FALSE(w.has_game_rate());
  w.on_tick(4999, 20);  // stale
  w.on_tick(5000, 30);  // duplicate
  CHECK(w.frames() == 3);
  CHECK(w.last_tick() == 5000);
  CHECK(w.last_us() == 10);
  CHECK(w.max_gap() == 0);
  CHECK_FALSE(w.has_game_rate());
  w.on_tick(5002, 10);  // read in the same moment as the first: no rate yet
  CHECK(w.max_gap() == 2);
  CHECK_FALSE(w.has_game_rate());
  w.reset();
  CHECK(w.frames() == 0);
  CHECK(w.max_gap() == 0);
}

TEST_CASE("a server silent for the end of the window: the game rate counts the silence", "[loadtest]") {
  // Found by an audit: a daemon frozen (SIGSTOP) for the last 70 % of the window still read
  // 20 ticks/s, measured from the first frame to the last.
  TickWindow w;
  for (std::uint64_t i = 0; i <= 60; ++i) w.on_tick(100 + i, i * 50'000);  // 3 s of every tick
  CHECK(w.game_rate() == Approx(20.0));
  CHECK(w.game_rate(10'000'000) == Approx(6.0));  // the window ends 7 s later
  // The usual gap between the last frame and the window's end is not a stall.
  CHECK(w.game_rate(3'040'000) == Approx(20.0));
  // Nor a gap under ten of this client's frame intervals (served every 4th tick: 200 ms).
  TickWindow every4;
  for (std::uint64_t tick = 0; tick <= 400; tick += 4) every4.on_tick(tick, tick * 50'000);
  CHECK(every4.game_rate(20'000'000 + 1'900'000) == Approx(20.0));
  CHECK(every4.game_rate(20'000'000 + 5'000'000) == Approx(16.0));
}
