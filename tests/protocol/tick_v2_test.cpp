// Protocol v2's primitives, writer and decoder, byte by byte as docs/protocol.md gives them.
#include <catch2/catch.hpp>

#include <cmath>

#include "protocol/tick_v2.h"

using namespace skirmish::protocol;
using namespace skirmish::protocol::v2;

namespace {
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}
}  // namespace

TEST_CASE("varints and zigzag as the doc gives them", "[protocol][v2]") {
  std::string out;
  put_varint(out, 0);
  put_varint(out, 300);
  put_svarint(out, -1);
  put_svarint(out, 100);
  CHECK(out == bytes({0x00, 0xac, 0x02, 0x01, 0xc8, 0x01}));
  out.clear();
  put_varint(out, UINT64_MAX);
  CHECK(out.size() == 10);
}

TEST_CASE("facing in a byte stays within half a step", "[protocol][v2]") {
  for (float a = -3.14159f; a <= 3.14159f; a += 0.01f) {
    const float back = facing_radians(facing_byte(a));
    float d = std::fabs(back - a);
    if (d > 3.14159265f) d = 6.2831853f - d;
    CHECK(d <= 0.0124f);
    CHECK(back > -3.1416f);
    CHECK(back <= 3.1416f);
  }
  CHECK(facing_byte(NAN) == 0);
}

TEST_CASE("the doc's example frame decodes", "[protocol][v2]") {
  TickDecoder d({"slime"});
  TickMessage m;
  // A first frame: two monsters enter.
  TickWriter w;
  w.begin(1000, 1'700'000'000'000, 3, false, std::nullopt, false);
  std::string body;
  WireEntity e{};
  e.x10 = 100;
  e.y10 = 200;
  e.hp = 40;
  e.state = "wander";
  encode_entering(body, e, 1, 64, 40, "", 1000);
  w.add_entering(5, body);
  body.clear();
  encode_entering(body, e, 1, 64, 40, "", 1000);
  w.add_entering(9, body);
  body.clear();
  encode_entering(body, e, 1, 64, 40, "", 1000);
  w.add_entering(12, body);
  std::string frame;
  w.finish(frame);
  REQUIRE_FALSE(d.decode(frame, m));
  CHECK(m.tick == 1000);
  CHECK(m.players == 3);
  REQUIRE(m.entities.size() == 3);
  CHECK(m.entities[0].kind == "slime");
  CHECK(m.entities[0].state == "wander");
  CHECK(std::fabs(m.entities[0].facing - 1.5708f) < 0.001f);

  const std::string example = bytes({0x01, 0x01, 0x64, 0x02, 0x08, 0xf3, 0x11, 0x03, 0x00, 0x00, 0x00, 0x00});
  REQUIRE_FALSE(d.decode(example, m));
  CHECK(m.tick == 1001);
  CHECK(m.ts_ms == 1'700'000'000'050);
  CHECK(m.players == 3);
  REQUIRE(m.entities.size() == 2);
  CHECK(m.entities[0].id == 5);
  CHECK(m.entities[0].x10 == 103);
  CHECK(m.entities[0].y10 == 199);
  CHECK(m.entities[1].id == 12);
  CHECK(m.entities[1].x10 == 98);
  CHECK(m.entities[1].y10 == 200);
}

TEST_CASE("writer and decoder agree on every update form, skips, removals and a resync", "[protocol][v2]") {
  TickDecoder d({"slime", "wolf"});
  TickMessage m;
  TickWriter w;
  std::string frame, body;
  // 20 held entities, ids 10, 20, ..., 200; one player among them.
  w.begin(50, 5000, 1, false, std::nullopt, false);
  for (std::uint32_t id = 10; id <= 200; id += 10) {
    WireEntity e{};
    e.x10 = static_cast<std::int32_t>(id * 10);
    e.y10 = 500;
    e.hp = 10;
    e.state = "idle";
    body.clear();
    encode_entering(body, e, id == 100 ? 0 : 2, 0, 60, id == 100 ? "al" : "", 50);
    w.add_entering(id, body);
  }
  w.finish(frame);
  REQUIRE_FALSE(d.decode(frame, m));
  REQUIRE(d.held() == 20);
  CHECK(m.entities[9].kind == "player");
  CHECK(m.entities[9].name == "al");
  CHECK(m.entities[0].kind == "wolf");

  w.begin(52, 5100, 2, false, TickWriter::Previous{50, 5000}, true);
  WireEntity e{};
  e.x10 = 100 + 5;
  e.y10 = 500 - 3;
  const Prediction base0{100, 500};  // entered last frame: predicted to stand still
  std::uint8_t h = 0;
  body.clear();
  encode_update(body, h, e, kFieldPosition, false, &base0, 52);  // form 1
  w.add_update(0, h, body);
  e.x10 = 400 + 1000;
  e.y10 = 500;
  const Prediction base3{400, 500};
  body.clear();
  encode_update(body, h, e, kFieldPosition | kFieldHp, false, &base3, 52);  // form 2
  e.hp = 3;
  w.add_update(3, h, body);
  e = WireEntity{};
  e.x10 = 7;
  e.y10 = 8;
  e.state = "dead";
  e.respawn_tick = 90;
  e.respawn_x10 = 1000;
  e.respawn_y10 = 1001;
  e.score = 4;
  e.away = true;
  e.facing256 = 200;
  body.clear();
  encode_update(body, h, e, kFieldAll, true, nullptr, 52);  // form 3, every field
  w.add_update(9, h, body);
  body.clear();
  e.hp = 1;
  encode_update(body, h, e, kFieldHp, false, nullptr, 52);
  w.add_update(19, h, body);  // skip 9: the escape
  w.add_removed(1);
  w.add_removed(18);
  w.finish(frame);
  REQUIRE_FALSE(d.decode(frame, m));
  CHECK(m.tick == 52);
  CHECK(m.ts_ms == 5100);
  CHECK(m.players == 2);
  REQUIRE(m.entities.size() == 4);
  CHECK(m.entities[0].id == 10);
  CHECK(m.entities[0].x10 == 105);
  CHECK(m.entities[0].y10 == 497);
  CHECK(m.entities[1].id == 40);
  CHECK(m.entities[1].x10 == 1400);
  CHECK(m.entities[2].id == 100);
  CHECK(m.entities[2].state == "dead");
  CHECK(m.entities[2].respawn_tick == 90);
  CHECK(m.entities[2].respawn_y10 == 1001);
  CHECK(m.entities[2].away);
  CHECK(m.entities[2].score == 4);
  CHECK(m.entities[2].fields == kFieldAll);
  CHECK(m.entities[3].id == 200);
  CHECK(m.entities[3].fields == kFieldHp);
  CHECK(m.removed == std::vector<std::uint32_t>{20, 190});
  CHECK(d.held() == 18);

  // A resync: everything held is dropped, whatever the frame lists is all there is.
  w.begin(60, 6000, 2, true, TickWriter::Previous{52, 5100}, false);
  body.clear();
  encode_entering(body, WireEntity{}, 1, 0, 40, "", 60);
  w.add_entering(7, body);
  w.finish(frame);
  REQUIRE_FALSE(d.decode(frame, m));
  CHECK(m.full);
  CHECK(d.held() == 1);
}

TEST_CASE("ACK: the client's last applied input, as ticks before this one, after players", "[protocol][v2]") {
  TickWriter w;
  const InputAck ack{300, 997};
  w.begin(1000, 1'700'000'000'000, 3, false, std::nullopt, false, &ack);
  std::string out;
  w.finish(out);
  std::string want = bytes({0xE1, 0xe8, 0x07});  // ACK | PLAYERS | ABSOLUTE | tick; tick 1000
  put_varint(want, 1'700'000'000'000);
  want += bytes({0x03, 0xac, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00});  // players 3; seq 300; 3 ticks back
  CHECK(out == want);
  TickDecoder d;
  TickMessage m;
  REQUIRE_FALSE(d.decode(out, m));
  REQUIRE(m.ack);
  CHECK(m.ack->seq == 300);
  CHECK(m.ack->tick == 997);
  // The next frame says none: relative, no ACK bit.
  w.begin(1001, 1'700'000'000'050, 3, false, TickWriter::Previous{1000, 1'700'000'000'000}, false);
  w.finish(out);
  CHECK(static_cast<std::uint8_t>(out[0]) == 0x01);
  REQUIRE_FALSE(d.decode(out, m));
  CHECK_FALSE(m.ack);
  // v1's JSON says the same.
  TickMessage j;
  REQUIRE(parse_v1_tick(R"({"type":"tick","tick":1000,"ts":5,"players":3,"ack":{"seq":300,"tick":997},"entities":[],"removed":[],"events":[]})", j));
  REQUIRE(j.ack);
  CHECK(j.ack->seq == 300);
  CHECK(j.ack->tick == 997);
}

TEST_CASE("malformed frames are refused and leave the decoder out of step", "[protocol][v2]") {
  TickMessage m;
  SECTION("an ABSOLUTE frame without PLAYERS") {
    CHECK(TickDecoder().decode(bytes({0x21, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00}), m));
  }
  SECTION("a relative first frame") {
    TickDecoder d;
    CHECK(d.decode(bytes({0x01, 0x01, 0x64, 0x00, 0x00, 0x00, 0x00}), m));
  }
  SECTION("an ACK further back than tick 0") {
    CHECK(TickDecoder().decode(bytes({0xE1, 0x02, 0x01, 0x00, 0x07, 0x03, 0x00, 0x00, 0x00, 0x00}), m));
    CHECK_FALSE(TickDecoder().decode(bytes({0xE1, 0x02, 0x01, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x00}), m));
  }
  SECTION("not a tick, truncated, trailing bytes") {
    CHECK(TickDecoder().decode(bytes({0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00}), m));
    CHECK(TickDecoder().decode(bytes({0xA1, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00}), m));
    CHECK(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x81}), m));
    CHECK(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}), m));
    CHECK_FALSE(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}), m));
  }
  SECTION("an update or removal past the held list") {
    TickDecoder d;
    CHECK(d.decode(bytes({0x61, 0x01, 0x01, 0x00, 0x01, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00}), m));
    TickDecoder d2;
    CHECK(d2.decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}), m));
    // Once out of step, everything is refused until reset().
    CHECK(d2.decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}), m));
    d2.reset();
    CHECK_FALSE(d2.decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}), m));
  }
  SECTION("an unknown kind, a zero id delta, a count larger than the frame") {
    CHECK(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x09}), m));
    CHECK(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00}), m));
    CHECK(TickDecoder().decode(bytes({0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x7f}), m));
  }
}

TEST_CASE("positions are corrections to the client's prediction: straight on costs one byte", "[protocol][v2]") {
  TickDecoder d({"slime"});
  TickMessage m;
  TickWriter w;
  std::string frame, body;
  WireEntity e{};
  e.state = "wander";
  w.begin(1, 1000, 0, false, std::nullopt, false);
  e.x10 = 1000;
  e.y10 = 2000;
  encode_entering(body, e, 1, 0, 40, "", 1);
  w.add_entering(3, body);
  w.finish(frame);
  REQUIRE_FALSE(d.decode(frame, m));
  // Moves (+71, -40) a tick: the first move is a correction to "stands still" (form 2), the
  // next ones are predicted exactly or within a tenth (form 1, one byte).
  std::int32_t px = 1000, py = 2000, x = 1000, y = 2000;
  for (int t = 2; t < 12; ++t) {
    const std::int32_t nx = x + 71 + (t % 3 == 0 ? 1 : 0), ny = y - 40;
    const Prediction predicted{2LL * x - px, 2LL * y - py};
    e.x10 = nx;
    e.y10 = ny;
    std::uint8_t h = 0;
    body.clear();
    encode_update(body, h, e, kFieldPosition, false, &predicted, static_cast<std::uint64_t>(t));
    if (t > 2) {
      CHECK(((h & kPosMask) >> kPosShift) == kPosNudge);
      CHECK(body.size() == 1);
    }
    w.begin(static_cast<std::uint64_t>(t), 1000 + 50 * t, 0, false, TickWriter::Previous{static_cast<std::uint64_t>(t - 1), 1000 + 50 * (t - 1)}, false);
    w.add_update(0, h, body);
    w.finish(frame);
    REQUIRE_FALSE(d.decode(frame, m));
    REQUIRE(m.entities.size() == 1);
    CHECK(m.entities[0].x10 == nx);
    CHECK(m.entities[0].y10 == ny);
    px = x;
    py = y;
    x = nx;
    y = ny;
  }
}
