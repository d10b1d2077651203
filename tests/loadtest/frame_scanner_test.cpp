#include "loadtest/frame_scanner.h"

#include <catch2/catch.hpp>

#include <string>

#include "protocol/game_messages.h"

using namespace skirmish::loadtest;

namespace {
// The example frame of docs/protocol.md.
const std::string kDocFrame =
    R"({"type":"tick","tick":1234,"ts":1731412345678,"players":3,)"
    R"("entities":[{"id":201,"kind":"player","name":"alice","max_hp":100,"x":1610.5,"y":1588,"hp":100,"state":"idle","facing":0,"score":0},)"
    R"({"id":17,"x":1702.3,"y":1577.9,"facing":3.1},)"
    R"({"id":42,"hp":12}],)"
    R"("removed":[88],)"
    R"("events":[{"type":"attack","attacker":17,"target":201,"damage":8,"x":1610.5,"y":1588}]})";
}  // namespace

TEST_CASE("the header gives tick and ts of the documented frame", "[loadtest]") {
  const auto h = scan_tick_header(kDocFrame);
  REQUIRE(h);
  CHECK(h->tick == 1234);
  CHECK(h->ts_ms == 1731412345678);
  CHECK(kDocFrame.substr(h->end, 11) == R"(,"players":)");
}

TEST_CASE("the body gives entities, positions, kinds and removed ids", "[loadtest]") {
  const auto h = scan_tick_header(kDocFrame);
  REQUIRE(h);
  TickBody body;
  REQUIRE(scan_tick_body(kDocFrame, h->end, body));
  CHECK(body.players == 3);
  REQUIRE(body.entities.size() == 3);
  CHECK(body.entities[0].id == 201);
  CHECK(body.entities[0].has_kind);
  CHECK(body.entities[0].is_player);
  CHECK(body.entities[0].x == Approx(1610.5));
  CHECK(body.entities[0].y == Approx(1588));
  CHECK(body.entities[1].id == 17);
  CHECK_FALSE(body.entities[1].has_kind);
  CHECK(body.entities[1].has_x);
  CHECK(body.entities[1].y == Approx(1577.9));
  CHECK(body.entities[2].id == 42);
  CHECK_FALSE(body.entities[2].has_x);
  CHECK_FALSE(body.entities[2].has_y);
  REQUIRE(body.removed.size() == 1);
  CHECK(body.removed[0] == 88);
}

TEST_CASE("frames written by the daemon's own writer scan back", "[loadtest]") {
  using namespace skirmish::protocol;
  std::string out, monster, player, delta;
  append_entity_full(monster, {7, "wolf", 10.5f, -3.25f, 1.0f, 60, 60, 0, "wander", ""});
  // A name with every character that could confuse a scanner that ignores strings.
  append_entity_full(player, {9, "player", 100, 200, 0, 100, 100, 5, "idle", R"(a"},{]["id":1\)"});
  append_entity_delta(delta, {7, "wolf", 11, -4, 1, 55, 60, 0, "chase", ""}, kFieldPosition | kFieldHp);
  TickFrameWriter w;
  w.begin(out, 99, 1700000000123, 2);
  w.add_entity(monster);
  w.add_entity(player);
  w.add_entity(delta);
  w.add_removed(3);
  w.add_removed(4);
  w.finish();
  const auto h = scan_tick_header(out);
  REQUIRE(h);
  CHECK(h->tick == 99);
  CHECK(h->ts_ms == 1700000000123);
  TickBody body;
  REQUIRE(scan_tick_body(out, h->end, body));
  REQUIRE(body.entities.size() == 3);
  CHECK_FALSE(body.entities[0].is_player);
  CHECK(body.entities[0].has_kind);
  CHECK(body.entities[0].y == Approx(-3.25).margin(0.06));  // the writer rounds to 0.1
  CHECK(body.entities[1].is_player);
  CHECK(body.entities[1].id == 9);
  CHECK(body.entities[2].id == 7);
  CHECK(body.entities[2].x == Approx(11));
  CHECK(body.removed == std::vector<std::uint32_t>{3, 4});
}

TEST_CASE("a resync frame says so: full is read, and false or absent is not a resync", "[loadtest]") {
  using namespace skirmish::protocol;
  std::string out, monster;
  append_entity_full(monster, {7, "wolf", 10.5f, -3.25f, 1.0f, 60, 60, 0, "wander", ""});
  TickFrameWriter w;
  w.begin(out, 120, 1700000000123, 1, true);  // the daemon's own resync frame
  w.add_entity(monster);
  w.finish();
  auto h = scan_tick_header(out);
  REQUIRE(h);
  TickBody body;
  REQUIRE(scan_tick_body(out, h->end, body));
  CHECK(body.full);
  CHECK(body.entities.size() == 1);
  body.clear();
  CHECK_FALSE(body.full);

  const std::string not_full = R"({"type":"tick","tick":1,"ts":2,"full":false,"entities":[]})";
  REQUIRE(scan_tick_body(not_full, scan_tick_header(not_full)->end, body));
  CHECK_FALSE(body.full);
  const std::string plain = R"({"type":"tick","tick":1,"ts":2,"entities":[]})";
  REQUIRE(scan_tick_body(plain, scan_tick_header(plain)->end, body));
  CHECK_FALSE(body.full);
  for (const std::string bad : {R"({"type":"tick","tick":1,"ts":2,"full":tru})", R"({"type":"tick","tick":1,"ts":2,"full":1})"}) {
    TickBody b;
    CHECK_FALSE(scan_tick_body(bad, scan_tick_header(bad)->end, b));
  }
}

TEST_CASE("an empty tick frame scans", "[loadtest]") {
  const std::string f = R"({"type":"tick","tick":1,"ts":2,"players":0,"entities":[],"removed":[],"events":[]})";
  const auto h = scan_tick_header(f);
  REQUIRE(h);
  TickBody body;
  CHECK(scan_tick_body(f, h->end, body));
  CHECK(body.entities.empty());
}

TEST_CASE("whitespace between tokens is allowed", "[loadtest]") {
  const std::string f = "{ \"type\" : \"tick\" , \"tick\" : 5 , \"ts\" : 6 , \"entities\" : [ { \"id\" : 1 } ] }";
  const auto h = scan_tick_header(f);
  REQUIRE(h);
  CHECK(h->tick == 5);
  TickBody body;
  CHECK(scan_tick_body(f, h->end, body));
  CHECK(body.entities.size() == 1);
}

TEST_CASE("other messages and other field orders are not tick frames", "[loadtest]") {
  CHECK_FALSE(scan_tick_header(R"({"type":"welcome","id":1})"));
  CHECK_FALSE(scan_tick_header(R"({"tick":1,"type":"tick","ts":2})"));
  CHECK_FALSE(scan_tick_header(R"({"type":"tick","ts":2,"tick":1})"));
  CHECK_FALSE(scan_tick_header(R"({"type":"tick","tick":-1,"ts":2})"));
  CHECK_FALSE(scan_tick_header(""));
  CHECK_FALSE(scan_tick_header("{"));
}

TEST_CASE("truncated or malformed bodies are rejected, at every cut", "[loadtest]") {
  const auto h = scan_tick_header(kDocFrame);
  REQUIRE(h);
  for (std::size_t cut = h->end; cut < kDocFrame.size(); ++cut) {
    TickBody body;
    INFO("cut at " << cut);
    CHECK_FALSE(scan_tick_body(std::string_view(kDocFrame).substr(0, cut), h->end, body));
  }
  TickBody body;
  CHECK_FALSE(scan_tick_body(kDocFrame + "x", h->end, body));
  const std::string bad_id = R"({"type":"tick","tick":1,"ts":2,"entities":[{"id":"x"}]})";
  CHECK_FALSE(scan_tick_body(bad_id, scan_tick_header(bad_id)->end, body));
}

TEST_CASE("positions in every number form the daemon could write are read", "[loadtest]") {
  const std::string f =
      R"({"type":"tick","tick":1,"ts":2,"entities":[{"id":1,"x":0,"y":-0.5},{"id":2,"x":31622.7,"y":12},)"
      R"({"id":3,"x":1.5e3,"y":-2E-1},{"id":4,"x":123456789012345678901234,"y":0.125}]})";
  TickBody body;
  REQUIRE(scan_tick_body(f, scan_tick_header(f)->end, body));
  REQUIRE(body.entities.size() == 4);
  CHECK(body.entities[0].x == 0);
  CHECK(body.entities[0].y == -0.5f);
  CHECK(body.entities[1].x == Approx(31622.7));
  CHECK(body.entities[1].y == 12);
  CHECK(body.entities[2].x == 1500);
  CHECK(body.entities[2].y == Approx(-0.2));
  CHECK(body.entities[3].x == Approx(1.23456789e23));
  CHECK(body.entities[3].y == 0.125f);
  const std::string bad = R"({"type":"tick","tick":1,"ts":2,"entities":[{"id":1,"x":-}]})";
  CHECK_FALSE(scan_tick_body(bad, scan_tick_header(bad)->end, body));
}
