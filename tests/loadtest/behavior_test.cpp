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
