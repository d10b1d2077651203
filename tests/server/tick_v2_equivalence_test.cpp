// Protocol v2 against v1: a long scripted game (players joining, fighting, dying, leaving,
// going away; entities entering and leaving views; viewers served every tick, every 3rd,
// and one that falls far behind and gets a full resync) in which, for every viewer and
// every frame, a client decoding v2 and a client decoding v1 hold the same view.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "game/world.h"
#include "protocol/tick_v2.h"
#include "server/game_bridge.h"

using namespace skirmish;
using protocol::v2::EntityRecord;
using protocol::v2::TickMessage;

namespace {

// What a client holds, whatever the format: records merged by id, removed ids dropped.
struct View {
  std::map<std::uint32_t, EntityRecord> held;
  void apply(const TickMessage& m) {
    if (m.full) held.clear();
    for (const EntityRecord& r : m.entities) {
      if (r.entering) {
        held[r.id] = r;
        continue;
      }
      REQUIRE(held.count(r.id) == 1);  // a delta for an entity the client was never sent
      EntityRecord& mine = held[r.id];
      if (r.fields & protocol::kFieldPosition) {
        mine.x10 = r.x10;
        mine.y10 = r.y10;
      }
      if (r.fields & protocol::kFieldFacing) mine.facing = r.facing;
      if (r.fields & protocol::kFieldHp) mine.hp = r.hp;
      if (r.fields & protocol::kFieldState) {
        mine.state = r.state;
        mine.respawn_tick = r.respawn_tick;
        mine.respawn_x10 = r.respawn_x10;
        mine.respawn_y10 = r.respawn_y10;
      }
      if (r.fields & protocol::kFieldScore) mine.score = r.score;
      if (r.fields & protocol::kFieldAway) mine.away = r.away;
    }
    for (const std::uint32_t id : m.removed) REQUIRE(held.erase(id) == 1);
  }
};

float angle_between(float a, float b) {
  float d = std::fmod(std::fabs(a - b), 6.2831853f);
  return d > 3.14159265f ? 6.2831853f - d : d;
}

void require_same(const View& v1, const View& v2) {
  REQUIRE(v1.held.size() == v2.held.size());
  for (const auto& [id, a] : v1.held) {
    INFO("entity " << id);
    REQUIRE(v2.held.count(id) == 1);
    const EntityRecord& b = v2.held.at(id);
    CHECK(a.kind == b.kind);
    CHECK(a.name == b.name);
    CHECK(a.max_hp == b.max_hp);
    CHECK(a.x10 == b.x10);  // both in whole tenths: exactly equal
    CHECK(a.y10 == b.y10);
    // v1's tenths of a radian, v2's 256ths of a turn: at most 0.05 + pi/256 = 0.0623 apart.
    CHECK(angle_between(a.facing, b.facing) <= 0.0625f);
    CHECK(a.hp == b.hp);
    CHECK(a.state == b.state);
    CHECK(a.score == b.score);
    CHECK(a.away == b.away);
    CHECK(a.respawn_tick == b.respawn_tick);
    CHECK(a.respawn_x10 == b.respawn_x10);
    CHECK(a.respawn_y10 == b.respawn_y10);
  }
}

// One viewer seen by two clients: the same place, the same frames' stamps, one format each.
struct ViewerPair {
  float x = 0, y = 0;
  game::EntityId player = 0;
  std::vector<game::EntityId> known_v1, known_v2;
  server::Stamp last = 0;
  View view_v1, view_v2;
  protocol::v2::TickDecoder decoder;
  server::FrameHistory history;
  std::size_t frames = 0, bytes_v1 = 0, bytes_v2 = 0, events = 0, entering = 0, removed = 0;

  explicit ViewerPair(std::vector<std::string> kinds) : decoder(std::move(kinds)) {}

  void serve(server::GameBridge& bridge, const game::World& world, bool full) {
    if (player != 0) {
      const game::Entity* me = world.find(player);
      REQUIRE(me != nullptr);
      x = me->x;
      y = me->y;
    }
    std::string json_frame, binary_frame;
    bridge.build_frame(x, y, known_v1, last, json_frame, full, server::FrameFormat::Json);
    bridge.build_frame(x, y, known_v2, last, binary_frame, full, server::FrameFormat::Binary, &history);
    last = bridge.stamp();
    TickMessage m1, m2;
    REQUIRE(protocol::v2::parse_v1_tick(json_frame, m1));
    const auto err = decoder.decode(binary_frame, m2);
    INFO("v2 decode error: " << err.value_or("none"));
    REQUIRE_FALSE(err);
    CHECK(m1.tick == m2.tick);
    CHECK(m1.ts_ms == m2.ts_ms);
    CHECK(m1.players == m2.players);
    CHECK(m1.full == m2.full);
    REQUIRE(m1.events.size() == m2.events.size());
    for (std::size_t i = 0; i < m1.events.size(); ++i) {
      CHECK(m1.events[i].type == m2.events[i].type);
      CHECK(m1.events[i].attacker == m2.events[i].attacker);
      CHECK(m1.events[i].target == m2.events[i].target);
      CHECK(m1.events[i].damage == m2.events[i].damage);
      CHECK(m1.events[i].x10 == m2.events[i].x10);
      CHECK(m1.events[i].y10 == m2.events[i].y10);
    }
    std::vector<std::uint32_t> r1 = m1.removed, r2 = m2.removed;
    std::sort(r1.begin(), r1.end());
    std::sort(r2.begin(), r2.end());
    CHECK(r1 == r2);
    view_v1.apply(m1);
    view_v2.apply(m2);
    require_same(view_v1, view_v2);
    CHECK(decoder.held() == view_v2.held.size());
    frames++;
    bytes_v1 += json_frame.size();
    bytes_v2 += binary_frame.size();
    events += m2.events.size();
    removed += m2.removed.size();
    for (const auto& r : m2.entities) entering += r.entering ? 1 : 0;
  }
};

}  // namespace

TEST_CASE("v2 and v1 clients hold the same view through a long scripted game", "[server][v2]") {
  game::GameConfig cfg;
  cfg.world_width = cfg.world_height = 2000;
  cfg.monster_count = 60;
  cfg.obstacle_count = 0;
  game::World world(cfg, 7);
  server::GameBridge bridge(world, 400);
  std::vector<std::string> kinds;
  for (const auto& k : cfg.monster_kinds) kinds.push_back(k.name);

  std::vector<game::EntityId> players;
  std::vector<ViewerPair> viewers;
  auto join = [&](float x, float y) {
    const game::EntityId id = world.add_player_at("p" + std::to_string(players.size()) + "\xc3\xa9", x, y);
    REQUIRE(id != 0);
    players.push_back(id);
    viewers.emplace_back(kinds).player = id;
  };
  join(1000, 1000);
  join(1050, 980);
  // A spectator, and one served every 3rd tick.
  viewers.emplace_back(kinds);
  viewers.back().x = 700;
  viewers.back().y = 700;
  join(1300, 1200);
  const std::size_t slow = viewers.size() - 1;

  std::size_t deaths = 0, respawns = 0, resyncs = 0, facings_compared = 0;
  for (int i = 0; i < 900; ++i) {
    INFO("step " << i);
    std::vector<game::PlayerInput> inputs;
    for (std::size_t p = 0; p < players.size(); ++p) {
      if (players[p] == 0) continue;
      const float a = static_cast<float>(i) * 0.02f + static_cast<float>(p);
      inputs.push_back({players[p], std::cos(a), std::sin(a), (i + static_cast<int>(p)) % 4 == 0});
    }
    if (i == 100) join(400, 400);                         // joins mid-game, near other monsters
    if (i == 150) world.set_hp(players[0], 0);            // dies (respawn countdown, then back)
    if (i == 200) world.set_away(players[1], true);       // its client dropped
    if (i == 260) world.set_away(players[1], false);      // and came back
    if (i == 300) world.set_position(players[2], 200, 1800);  // its whole view changes
    if (i == 420) {                                       // leaves the game; its viewer watches on
      world.remove_player(players[1]);
      viewers[1].player = 0;
      players[1] = 0;
    }
    if (i == 500) viewers[2].x = 1000, viewers[2].y = 1000;  // the spectator looks elsewhere
    if (i == 600) join(1010, 1010);
    if (i == 650) {  // two leave and one joins between two ticks: entities move slots (swap-and-pop)
      for (const std::size_t p : {std::size_t{0}, std::size_t{3}}) {
        world.remove_player(players[p]);
        viewers[p == 0 ? 0 : 4].player = 0;
        players[p] = 0;
      }
      join(990, 1020);
    }
    const auto& events = world.step(inputs);
    for (const auto& ev : events) {
      if (ev.type == game::EventType::Death) deaths++;
      if (ev.type == game::EventType::Respawn) respawns++;
    }
    bridge.encode_tick(1'700'000'000'000 + i * 50, world.player_count());
    bridge.prepare_views();
    std::vector<std::size_t> served;
    for (std::size_t v = 0; v < viewers.size(); ++v) {
      INFO("viewer " << v);
      if (v == slow) {
        // Every 3rd tick; then 40 ticks behind (past every delta the server keeps: the
        // position goes absolute), then a resync as a slow reader gets.
        if (i >= 700 && i < 740) continue;
        const bool full = i == 800;
        if (full) resyncs++;
        if (i % 3 != 0 && i != 740) continue;
        viewers[v].serve(bridge, world, full);
        served.push_back(v);
        continue;
      }
      viewers[v].serve(bridge, world, false);
      served.push_back(v);
    }
    // Every v2 client served this tick holds the same facing for an entity, whether it got it
    // entering or as an update (an audit: one entering got the facing of now, another held
    // the one sent when v1's tenths last changed).
    std::map<std::uint32_t, float> facings;
    for (const std::size_t v : served) {
      for (const auto& [id, r] : viewers[v].view_v2.held) {
        const auto [it, first] = facings.emplace(id, r.facing);
        if (!first) {
          INFO("entity " << id << " viewer " << v);
          CHECK(it->second == r.facing);
          facings_compared++;
        }
      }
    }
  }
  CHECK(facings_compared > 1000);
  std::size_t bytes_v1 = 0, bytes_v2 = 0, entering = 0, removed = 0, events = 0;
  for (const auto& v : viewers) {
    bytes_v1 += v.bytes_v1;
    bytes_v2 += v.bytes_v2;
    entering += v.entering;
    removed += v.removed;
    events += v.events;
  }
  // The script did what it says: every kind of change went through both formats.
  CHECK(deaths > 0);
  CHECK(respawns > 0);
  CHECK(resyncs == 1);
  CHECK(entering > 100);
  CHECK(removed > 50);
  CHECK(events > 100);
  // And v2 is the smaller one, by far.
  INFO("v1 " << bytes_v1 << " bytes, v2 " << bytes_v2);
  CHECK(bytes_v2 * 4 < bytes_v1);
}
