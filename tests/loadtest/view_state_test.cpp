#include "loadtest/view_state.h"

#include <catch2/catch.hpp>

#include <string>

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

TEST_CASE("a resync frame (\"full\":true) replaces the view: what it does not list is gone", "[loadtest]") {
  // docs/protocol.md: the server skipped frames to a slow client; this one lists everything
  // in view in full, and anything held that is not listed is gone (no `removed` for it).
  const std::string first =
      R"({"type":"tick","tick":1,"ts":5,"players":1,"entities":[{"id":1,"kind":"player","x":1,"y":1},)"
      R"({"id":2,"kind":"slime","x":5,"y":5},{"id":3,"kind":"wolf","x":9,"y":9}],"removed":[]})";
  const std::string resync =
      R"({"type":"tick","tick":90,"ts":9,"players":1,"full":true,"entities":[{"id":1,"kind":"player","x":2,"y":2},)"
      R"({"id":4,"kind":"ogre","x":30,"y":30}],"removed":[]})";
  ViewState v;
  for (const std::string* text : {&first, &resync}) {
    const auto h = scan_tick_header(*text);
    REQUIRE(h);
    TickBody body;
    REQUIRE(scan_tick_body(*text, h->end, body));
    CHECK(v.apply(body) == 0);
  }
  CHECK(v.size() == 2);
  CHECK(v.find(1));
  CHECK(v.find(4));
  CHECK_FALSE(v.find(2));  // a fight bot must not chase it
  CHECK_FALSE(v.find(3));
  REQUIRE(v.nearest_monster(0, 0));
  CHECK(v.nearest_monster(0, 0)->id == 4);
}

TEST_CASE("a frame without full merges, and clear() forgets everything", "[loadtest]") {
  ViewState v;
  TickBody f;
  f.entities = {full(1, true, 0, 0), full(2, false, 5, 5)};
  v.apply(f);
  f.clear();
  f.entities = {full(3, false, 7, 7)};
  CHECK(v.apply(f) == 0);
  CHECK(v.size() == 3);
  f.clear();
  f.full = true;  // v2's FULL comes this way
  f.entities = {full(2, false, 6, 6)};
  CHECK(v.apply(f) == 0);
  CHECK(v.size() == 1);
  CHECK(v.find(2)->x == 6);
  v.clear();
  CHECK(v.size() == 0);
}
