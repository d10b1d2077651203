// Interest management: a client that applies the frames GameBridge builds holds exactly the
// server's state of its view, tick after tick, while entities enter, change and leave it.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "game/world.h"
#include "server/game_bridge.h"

using namespace skirmish;
using nlohmann::json;

namespace {

game::GameConfig small_world() {
  game::GameConfig cfg;
  cfg.world_width = cfg.world_height = 2000;
  cfg.monster_count = 0;
  cfg.obstacle_count = 0;
  return cfg;
}

// The client side of the protocol: merge entities by id, drop removed ids.
struct ClientView {
  std::map<std::uint32_t, json> entities;
  std::uint64_t last_tick = 0;

  json apply(const std::string& payload) {
    json frame = json::parse(payload);
    if (frame.value("full", false)) entities.clear();
    for (const json& e : frame["entities"]) {
      json& mine = entities[e["id"].get<std::uint32_t>()];
      for (auto it = e.begin(); it != e.end(); ++it) mine[it.key()] = it.value();
    }
    for (const json& id : frame["removed"]) entities.erase(id.get<std::uint32_t>());
    last_tick = frame["tick"].get<std::uint64_t>();
    return frame;
  }
};

// What the client should hold: every visible entity within the radius, fields rounded as sent.
void require_matches_server(const ClientView& view, const game::World& world, float cx, float cy, float r) {
  std::vector<game::EntityId> visible;
  world.query_visible(cx, cy, r, visible);
  REQUIRE(view.entities.size() == visible.size());
  for (const game::EntityId id : visible) {
    const game::Entity* e = world.find(id);
    REQUIRE(view.entities.count(id) == 1);
    const json& mine = view.entities.at(id);
    CHECK(mine["x"].get<double>() == Approx(e->x).margin(0.051));
    CHECK(mine["y"].get<double>() == Approx(e->y).margin(0.051));
    CHECK(mine["hp"].get<int>() == e->hp);
    CHECK(mine["max_hp"].get<int>() == e->max_hp);
    CHECK(mine["state"].get<std::string>() == game::state_name(e->state));
    CHECK(mine["score"].get<int>() == e->score);
    CHECK(mine["facing"].get<double>() == Approx(e->facing).margin(0.051));
  }
}

}  // namespace

TEST_CASE("a client that applies every frame holds exactly the server's view", "[server][interest]") {
  game::World world(small_world(), 7);
  server::GameBridge bridge(world, 400);
  const game::EntityId me = world.add_player_at("me", 1000, 1000);
  const game::EntityId near_monster = world.add_monster_at(0, 1200, 1000);
  const game::EntityId far_monster = world.add_monster_at(1, 1800, 1800);
  ClientView view;
  std::vector<game::EntityId> known;
  std::uint64_t last = 0;
  std::string payload;

  auto tick = [&](std::vector<game::PlayerInput> inputs = {}) {
    world.step(inputs);
    bridge.encode_tick(1000 + static_cast<std::int64_t>(world.tick()), world.player_count());
    bridge.prepare_views();
    const game::Entity* self = world.find(me);
    bridge.build_frame(self->x, self->y, known, last, payload);
    last = bridge.stamp();
    json frame = view.apply(payload);
    require_matches_server(view, world, self->x, self->y, 400);
    return frame;
  };

  SECTION("entering, changing and leaving the view") {
    json first = tick();
    CHECK(first["tick"] == 1);
    CHECK(view.entities.count(near_monster) == 1);
    CHECK(view.entities.count(far_monster) == 0);

    // The far monster walks into view: sent in full (kind and max_hp included).
    world.set_position(far_monster, 1100, 1100);
    json entered = tick();
    bool full = false;
    for (const json& e : entered["entities"]) full = full || (e["id"] == far_monster && e.contains("kind"));
    CHECK(full);

    // A change is sent as a delta with the id and only what changed.
    world.set_hp(near_monster, 3);
    tick();
    CHECK(view.entities.at(near_monster)["hp"] == 3);

    // It leaves the view: listed in removed.
    world.set_position(far_monster, 1900, 100);
    json left = tick();
    CHECK(std::find(left["removed"].begin(), left["removed"].end(), json(far_monster)) != left["removed"].end());
    CHECK(view.entities.count(far_monster) == 0);

    // A killed monster vanishes from the view.
    world.set_hp(near_monster, 0);
    tick();
    CHECK(view.entities.count(near_monster) == 0);
  }

  SECTION("a moving player keeps a consistent view over many ticks") {
    for (int i = 0; i < 200; ++i) {
      const float angle = static_cast<float>(i) * 0.05f;
      tick({{me, std::cos(angle), std::sin(angle), i % 7 == 0}});
    }
    CHECK(view.last_tick == world.tick());
  }

  SECTION("a resync frame lists the whole view and replaces the client's copy") {
    tick();
    view.entities[999999] = json{{"id", 999999}};  // something stale the client still holds
    world.step({});
    bridge.encode_tick(5, world.player_count());
    bridge.prepare_views();
    bridge.build_frame(1000, 1000, known, last, payload, true);
    json frame = view.apply(payload);
    CHECK(frame["full"] == true);
    require_matches_server(view, world, 1000, 1000, 400);
  }
}

TEST_CASE("an entity moved by another's removal is not sent again when nothing about it changed",
          "[server][interest]") {
  // World::remove_player moves the last entity into the hole; the bridge's record of what
  // viewers were told follows it, so it is not re-sent in full to everyone as if new.
  game::World world(small_world(), 5);
  server::GameBridge bridge(world, 400);
  const game::EntityId a = world.add_player_at("a", 1000, 1000);
  world.add_player_at("b", 1010, 1000);
  const game::EntityId c = world.add_player_at("c", 1020, 1000);
  ClientView view;
  std::vector<game::EntityId> known;
  std::uint64_t last = 0;
  std::string payload;
  auto tick = [&] {
    world.step({});
    bridge.encode_tick(1000 + static_cast<std::int64_t>(world.tick()), world.player_count());
    bridge.prepare_views();
    bridge.build_frame(1000, 1000, known, last, payload);
    last = bridge.stamp();
    json frame = view.apply(payload);
    require_matches_server(view, world, 1000, 1000, 400);
    return frame;
  };
  tick();
  tick();
  REQUIRE(world.remove_player(a));
  REQUIRE(world.entities().front().id == c);  // c now stands where a was
  const json frame = tick();
  for (const json& e : frame["entities"]) CHECK(e["id"] != c);
  CHECK(std::find(frame["removed"].begin(), frame["removed"].end(), json(a)) != frame["removed"].end());
  // And it is still followed: a change after the move is sent as the change alone.
  world.set_hp(c, 40);
  const json changed = tick();
  REQUIRE(changed["entities"].size() == 1);
  CHECK(changed["entities"][0]["id"] == c);
  CHECK(changed["entities"][0]["hp"] == 40);
  CHECK_FALSE(changed["entities"][0].contains("x"));
}

TEST_CASE("events reach only the clients whose view contains them", "[server][interest]") {
  game::World world(small_world(), 3);
  server::GameBridge bridge(world, 300);
  const game::EntityId a = world.add_player_at("a", 300, 300);
  world.add_monster_at(0, 330, 300);  // right next to a: it will attack
  std::vector<game::EntityId> known_near, known_far;
  std::string near_payload, far_payload;
  for (int i = 0; i < 200; ++i) {
    const auto& events = world.step({});
    bridge.encode_tick(i, world.player_count());
    bridge.prepare_views();
    bridge.build_frame(300, 300, known_near, bridge.stamp() - 1, near_payload);
    bridge.build_frame(1700, 1700, known_far, bridge.stamp() - 1, far_payload);
    const json near_frame = json::parse(near_payload);
    const json far_frame = json::parse(far_payload);
    CHECK(far_frame["events"].empty());
    CHECK(near_frame["events"].size() == events.size());
    if (!events.empty()) {
      CHECK(near_frame["events"][0]["target"] == a);
      return;
    }
  }
  FAIL("the monster never attacked");
}

TEST_CASE("a viewer served every k-th tick holds exactly the server's view after each of its frames",
          "[server][interest][send_rate]") {
  for (const int k : {2, 3, 4, 7}) {
    INFO("k = " << k);
    game::GameConfig cfg = small_world();
    cfg.monster_count = 40;  // wandering, chasing and dying monsters: every kind of change
    game::World world(cfg, 11);
    server::GameBridge bridge(world, 400);
    const game::EntityId me = world.add_player_at("me", 1000, 1000);
    // Another player's view is served every tick: pieces encoded for it must not leak into
    // the k-th-tick viewer's frames (and the other way round).
    const game::EntityId other = world.add_player_at("other", 1100, 1000);
    ClientView slow, fast;
    std::vector<game::EntityId> slow_known, fast_known;
    std::uint64_t slow_last = 0, fast_last = 0;
    std::string payload;
    std::size_t events_seen = 0, events_expected = 0;
    std::vector<std::size_t> events_since_slow;  // events near the slow viewer in ticks it skipped
    for (int i = 0; i < 300; ++i) {
      const float angle = static_cast<float>(i) * 0.03f;
      std::vector<game::PlayerInput> inputs = {{me, std::cos(angle), std::sin(angle), i % 5 == 0},
                                               {other, -std::sin(angle), std::cos(angle), i % 3 == 0}};
      // A jump (the whole view changes) right after a tick every k serves: events before it
      // were delivered near the old place.
      if (i == 169) world.set_position(me, 300, 1700);
      const auto& events = world.step(inputs);
      bridge.encode_tick(i, world.player_count());
      const game::Entity* self = world.find(me);
      // Events that fall inside the view where the slow viewer will be at its next frame
      // are what it must get; count those near its position now (it moves slowly).
      for (const auto& ev : events) {
        const float dx = ev.x - self->x, dy = ev.y - self->y;
        if (dx * dx + dy * dy <= 400.0f * 400.0f * 0.5f) events_expected++;
      }
      bridge.prepare_views();
      const game::Entity* o = world.find(other);
      bridge.build_frame(o->x, o->y, fast_known, fast_last, payload);
      fast_last = bridge.stamp();
      fast.apply(payload);
      require_matches_server(fast, world, o->x, o->y, 400);
      if (i % k != 0) continue;
      bridge.build_frame(self->x, self->y, slow_known, slow_last, payload);
      slow_last = bridge.stamp();
      const json frame = slow.apply(payload);
      events_seen += frame["events"].size();
      require_matches_server(slow, world, self->x, self->y, 400);
    }
    // Every event close to the slow viewer, skipped ticks included, reached it.
    CHECK(events_expected > 0);
    CHECK(events_seen >= events_expected);
  }
}

TEST_CASE("viewers at one point share a view query within a tick, and a new tick asks again",
          "[server][interest]") {
  game::GameConfig cfg = small_world();
  cfg.monster_count = 40;  // they wander in and out of the spot's view
  game::World world(cfg, 5);
  server::GameBridge bridge(world, 400);
  const game::EntityId walker = world.add_player_at("walker", 1300, 1000);
  // Three spectators of one spot and a player elsewhere, built in an order that hits the shared
  // answer (b right after a) and misses it (d after the walker's view).
  ClientView a, b, d, w;
  std::vector<game::EntityId> a_known, b_known, d_known, w_known;
  std::uint64_t last = 0;
  std::string payload;
  for (int i = 0; i < 200; ++i) {
    const float angle = static_cast<float>(i) * 0.05f;
    world.step({{walker, std::cos(angle), std::sin(angle), false}});
    bridge.encode_tick(i, world.player_count());
    bridge.prepare_views();
    bridge.build_frame(1000, 1000, a_known, last, payload);
    a.apply(payload);
    require_matches_server(a, world, 1000, 1000, 400);
    bridge.build_frame(1000, 1000, b_known, last, payload);
    b.apply(payload);
    require_matches_server(b, world, 1000, 1000, 400);
    const game::Entity* me = world.find(walker);
    bridge.build_frame(me->x, me->y, w_known, last, payload);
    w.apply(payload);
    require_matches_server(w, world, me->x, me->y, 400);
    bridge.build_frame(1000, 1000, d_known, last, payload);
    d.apply(payload);
    require_matches_server(d, world, 1000, 1000, 400);
    last = bridge.stamp();
    if (i == 100) world.add_player_at("newcomer", 1010, 1000);  // enters the spot's view next tick
  }
}
