#include "loadtest/behavior.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace skirmish::loadtest;

TEST_CASE("behaviour names parse", "[loadtest]") {
  CHECK(parse_behavior("idle") == Behavior::Idle);
  CHECK(parse_behavior("wander") == Behavior::Wander);
  CHECK(parse_behavior("fight") == Behavior::Fight);
  CHECK_FALSE(parse_behavior("dance"));
}

TEST_CASE("wander always walks at full speed and sometimes turns", "[loadtest]") {
  Rng rng(1);
  Intent i;
  int turns = 0;
  for (int n = 0; n < 1000; ++n) {
    const Intent next = wander_step(i, rng);
    CHECK(std::hypot(next.dx, next.dy) == Approx(1.0f).epsilon(1e-4));
    if (next.dx != i.dx || next.dy != i.dy) turns++;
    i = next;
  }
  CHECK(turns > 150);
  CHECK(turns < 350);
}

TEST_CASE("fight walks to the nearest monster and attacks within reach", "[loadtest]") {
  Rng rng(1);
  ViewState view;
  TickBody f;
  f.entities = {{1, true, true, true, true, 0, 0}, {2, true, false, true, true, 300, 0}, {3, true, true, true, true, 5, 5}};
  view.apply(f);
  const KnownEntity me{1, true, 0, 0};
  Intent i = fight_step({}, me, view, rng);
  CHECK(i.dx == Approx(1));
  CHECK(i.dy == Approx(0).margin(1e-6));
  CHECK_FALSE(i.attack);
  const KnownEntity close{1, true, 250, 0};
  i = fight_step({}, close, view, rng);
  CHECK(i.attack);
  CHECK(i.dx == Approx(1));
  const KnownEntity on_top{1, true, 290, 0};
  i = fight_step({}, on_top, view, rng);
  CHECK(i.attack);
  CHECK(i.dx == 0);
  CHECK(i.dy == 0);
}

TEST_CASE("fight without a monster or our own position wanders", "[loadtest]") {
  Rng rng(1);
  ViewState view;
  const Intent i = fight_step({}, std::nullopt, view, rng);
  CHECK(std::hypot(i.dx, i.dy) == Approx(1.0f).epsilon(1e-4));
  CHECK_FALSE(i.attack);
}

TEST_CASE("input and join messages are the protocol's JSON", "[loadtest]") {
  const auto input = nlohmann::json::parse(encode_input(17, {0.5f, -1.0f, true}));
  CHECK(input["type"] == "input");
  CHECK(input["seq"] == 17);
  CHECK(input["move"][0] == Approx(0.5));
  CHECK(input["move"][1] == Approx(-1.0));
  CHECK(input["attack"] == true);
  const auto join = nlohmann::json::parse(encode_join("bot\"1"));
  CHECK(join["type"] == "join");
  CHECK(join["name"] == "bot\"1");
}

TEST_CASE("inputs due: every input the schedule owes, above the timer's 100 firings a second", "[loadtest]") {
  constexpr std::uint64_t kMs = 1000000;
  constexpr std::uint64_t kLag = 100 * kMs;
  // 500/s (every 2 ms) with the timer firing every 10 ms: 5 a firing, 500 a second.
  std::uint64_t next = 3 * kMs;
  std::uint64_t sent = 0;
  for (std::uint64_t now = 10 * kMs; now <= 1000 * kMs; now += 10 * kMs) sent += inputs_due(next, now, 2 * kMs, kLag);
  CHECK(sent == 499);  // 3, 5, ..., 999 ms
  CHECK(next == 1001 * kMs);
  // Not yet due: nothing, and the schedule stays.
  next = 50 * kMs;
  CHECK(inputs_due(next, 49 * kMs, 2 * kMs, kLag) == 0);
  CHECK(next == 50 * kMs);
  // Exactly due: one.
  CHECK(inputs_due(next, 50 * kMs, 2 * kMs, kLag) == 1);
  CHECK(next == 52 * kMs);
}

TEST_CASE("inputs due: a late firing catches up and keeps the phase; a stall is not a burst", "[loadtest]") {
  constexpr std::uint64_t kMs = 1000000;
  constexpr std::uint64_t kLag = 100 * kMs;
  // 5/s, the firing 30 ms late: one input, the next still on the 200 ms grid.
  std::uint64_t next = 200 * kMs;
  CHECK(inputs_due(next, 230 * kMs, 200 * kMs, kLag) == 1);
  CHECK(next == 400 * kMs);
  // 1000/s, a firing 25 ms late: the 26 owed (ms 0..25).
  next = 0;
  CHECK(inputs_due(next, 25 * kMs, kMs, kLag) == 26);
  CHECK(next == 26 * kMs);
  // 1000/s and the tester stopped for 10 s: only the last 100 ms are sent, then on schedule.
  next = 1000 * kMs;
  CHECK(inputs_due(next, 11000 * kMs, kMs, kLag) == 101);
  CHECK(next == 11001 * kMs);
  // 5/s and a 10 s stall: one, not 50, and the phase kept (next on the 200 ms grid).
  next = 200 * kMs;
  CHECK(inputs_due(next, 10250 * kMs, 200 * kMs, kLag) == 1);
  CHECK(next == 10400 * kMs);
}

TEST_CASE("inputs due: bounded and the schedule always moves past now, whatever the numbers", "[loadtest]") {
  constexpr std::uint64_t kMs = 1000000;
  constexpr std::uint64_t kLag = 100 * kMs;
  // A period longer than the lag, late by more than the lag but less than a period: one.
  std::uint64_t next = 200 * kMs;
  CHECK(inputs_due(next, 350 * kMs, 200 * kMs, kLag) == 1);
  CHECK(next == 400 * kMs);
  Rng rng(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t period = 1 + rng.next() % (2000 * kMs);
    const std::uint64_t start = rng.next() % (100000 * kMs);
    const std::uint64_t now = rng.next() % (100000 * kMs);
    next = start;
    const std::uint64_t n = inputs_due(next, now, period, kLag);
    INFO("period " << period << " next " << start << " now " << now);
    REQUIRE(n <= kLag / period + 1);
    REQUIRE(next > now);
    REQUIRE((next - start) % period == 0);
    REQUIRE((n == 0) == (now < start));
  }
}
