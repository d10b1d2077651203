#include "loadtest/view_state.h"

#include <catch2/catch.hpp>

using namespace skirmish::loadtest;

namespace {
EntityRecord full(std::uint32_t id, bool player, float x, float y) { return {id, true, player, true, true, x, y}; }
EntityRecord moved(std::uint32_t id, float x, float y) { return {id, false, false, true, true, x, y}; }
}  // namespace

TEST_CASE("entities are added in full, updated by deltas and removed", "[loadtest]") {
  ViewState v;
  TickBody f;
  f.entities = {full(5, true, 1, 1), full(3, false, 10, 10), full(9, false, 50, 50)};
  CHECK(v.apply(f) == 0);
  CHECK(v.size() == 3);
  f.clear();
  f.entities = {moved(3, 12, 11)};
  f.removed = {9};
  CHECK(v.apply(f) == 0);
  CHECK(v.size() == 2);
  REQUIRE(v.find(3));
  CHECK(v.find(3)->x == 12);
  CHECK_FALSE(v.find(3)->is_player);
  CHECK(v.find(5)->is_player);
  CHECK_FALSE(v.find(9));
}

TEST_CASE("deltas and removals of unknown ids are counted as inconsistent", "[loadtest]") {
  ViewState v;
  TickBody f;
  f.entities = {moved(4, 1, 1)};
  f.removed = {8};
  CHECK(v.apply(f) == 2);
}

TEST_CASE("the nearest monster ignores players", "[loadtest]") {
  ViewState v;
  TickBody f;
  f.entities = {full(1, true, 0, 0), full(2, true, 1, 1), full(3, false, 100, 0), full(4, false, 30, 40)};
  v.apply(f);
  const auto m = v.nearest_monster(0, 0);
  REQUIRE(m);
  CHECK(m->id == 4);
  ViewState empty;
  CHECK_FALSE(empty.nearest_monster(0, 0));
}
