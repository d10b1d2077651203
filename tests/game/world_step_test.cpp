#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "game/world.h"
#include "game_test_support.h"

using namespace skirmish::game;
using namespace skirmish::game::test;

TEST_CASE("an input longer than 1 moves at most player_speed / tick_rate per tick", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  for (int i = 1; i <= 5; ++i) {
    w.step(input(p, 10, 0));
    CHECK(w.find(p)->x == Approx(1000 + 10 * i));
    CHECK(w.find(p)->y == 1000);
  }
}

TEST_CASE("a diagonal input is normalised to unit length", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.step(input(p, 1, 1));
  const Entity& e = *w.find(p);
  CHECK(distance(e, 1000, 1000) == Approx(10).epsilon(1e-5));
  CHECK(e.x - 1000 == Approx(10 / std::sqrt(2.0f)));
  CHECK(e.y - 1000 == Approx(10 / std::sqrt(2.0f)));
}

TEST_CASE("a short input moves proportionally slower", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.step(input(p, 0, -0.5f));
  CHECK(w.find(p)->x == 1000);
  CHECK(w.find(p)->y == Approx(995));
}

TEST_CASE("a player without input stands still", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.step(input(p, 1, 0));
  for (int i = 0; i < 10; ++i) w.step({});
  CHECK(w.find(p)->x == Approx(1010));
  CHECK(w.find(p)->state == EntityState::Idle);
  CHECK(w.find(p)->dirty == 0);
}

TEST_CASE("non-finite input is ignored", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.step(input(p, std::numeric_limits<float>::quiet_NaN(), 1));
  w.step(input(p, std::numeric_limits<float>::infinity(), 0));
  CHECK(w.find(p)->x == 1000);
  CHECK(w.find(p)->y == 1000);
}

TEST_CASE("the last input of a tick moves the player and attacks are OR-ed", "[game]") {
  GameConfig cfg = open_field();
  World w(cfg, 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.add_monster_at(0, 1060, 1000);  // in reach (80) from either end of the move
  const auto& events =
      w.step({PlayerInput{p, 1, 0, true}, PlayerInput{p, 0, 1, false}, PlayerInput{p, 0, 1, false}});
  CHECK(w.find(p)->x == 1000);
  CHECK(w.find(p)->y == Approx(1010));
  CHECK(count_events(events, EventType::Attack, p) == 1);
}

TEST_CASE("world bounds clamp movement", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 5, 3195);
  w.step(input(p, -1, 0));
  w.step(input(p, 0, 1));
  CHECK(w.find(p)->x == 0);
  CHECK(w.find(p)->y == 3200);
}

TEST_CASE("an obstacle stops a player flush against its edge", "[game]") {
  GameConfig cfg = open_field();
  cfg.obstacles = {{1025, 900, 100, 200}};
  World w(cfg, 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  for (int i = 0; i < 5; ++i) w.step(input(p, 1, 0));
  CHECK(w.find(p)->x == 1025);
  CHECK_FALSE(w.blocked(w.find(p)->x, w.find(p)->y));
}

TEST_CASE("a thin obstacle is not tunnelled through by a long step", "[game]") {
  GameConfig cfg = open_field();
  cfg.obstacles = {{1004, 900, 2, 200}};
  World w(cfg, 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  w.step(input(p, 1, 0));
  CHECK(w.find(p)->x == 1004);
}

TEST_CASE("a player slides along an obstacle it walks into diagonally", "[game]") {
  GameConfig cfg = open_field();
  cfg.obstacles = {{1000, 900, 100, 200}};
  World w(cfg, 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);  // flush with the left edge
  w.step(input(p, 1, 1));
  CHECK(w.find(p)->x == 1000);
  CHECK(w.find(p)->y == Approx(1000 + 10 / std::sqrt(2.0f)));
}

TEST_CASE("generated obstacles keep spawned monsters and players outside", "[game]") {
  World w(GameConfig{}, 42);
  CHECK(w.obstacles().size() == 12);
  for (int i = 0; i < 50; ++i) w.add_player("p");
  for (const Entity& e : w.entities()) CHECK_FALSE(w.blocked(e.x, e.y));
  for (const Obstacle& o : w.obstacles()) {
    CHECK(o.x >= 0);
    CHECK(o.y >= 0);
    CHECK(o.x + o.w <= 3200);
    CHECK(o.y + o.h <= 3200);
  }
}

TEST_CASE("the default world has 200 monsters of all three kinds", "[game]") {
  World w(GameConfig{}, 7);
  CHECK(w.monster_count() == 200);
  CHECK(w.player_count() == 0);
  int per_kind[3] = {0, 0, 0};
  for (const Entity& e : w.entities()) {
    REQUIRE(e.monster_kind < 3);
    ++per_kind[e.monster_kind];
    CHECK(e.hp == w.config().monster_kinds[e.monster_kind].max_hp);
  }
  CHECK(per_kind[0] > per_kind[1]);  // weights 5 : 3 : 2
  CHECK(per_kind[1] > per_kind[2]);
  CHECK(per_kind[2] > 0);
}

TEST_CASE("add_player spawns outside every monster's aggro radius when possible", "[game]") {
  World w(GameConfig{}, 3);
  for (int i = 0; i < 20; ++i) {
    const Entity& p = *w.find(w.add_player("p"));
    for (const Entity& m : w.entities()) {
      if (m.kind != EntityKind::Monster) continue;
      CHECK(distance(p, m) > w.config().monster_kinds[m.monster_kind].aggro_radius);
    }
  }
}

TEST_CASE("add_player returns 0 once max_players are in the world", "[game]") {
  GameConfig cfg = open_field();
  cfg.max_players = 2;
  World w(cfg, 1);
  CHECK(w.add_player("a") != 0);
  const EntityId b = w.add_player("b");
  CHECK(b != 0);
  CHECK(w.add_player("c") == 0);
  CHECK(w.remove_player(b));
  CHECK(w.add_player("c") != 0);
}

TEST_CASE("removed players vanish, are reported once, and ids are never reused", "[game]") {
  World w(open_field(), 1);
  const EntityId a = w.add_player("a");
  const EntityId b = w.add_player("b");
  const EntityId c = w.add_player("c");
  w.step({});
  CHECK(w.remove_player(a));
  CHECK_FALSE(w.remove_player(a));
  CHECK(w.find(a) == nullptr);
  REQUIRE(w.find(c) != nullptr);  // the swap-and-pop kept the moved entity findable
  CHECK(w.find(c)->name == "c");
  CHECK(w.find(b)->name == "b");
  w.step({});
  CHECK(w.removed() == std::vector<EntityId>{a});
  w.step({});
  CHECK(w.removed().empty());
  const EntityId d = w.add_player("a");
  CHECK(d > c);
  CHECK(w.player_count() == 3);
}

TEST_CASE("remove_player refuses monsters and unknown ids", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 100, 100);
  CHECK_FALSE(w.remove_player(m));
  CHECK_FALSE(w.remove_player(12345));
  CHECK(w.find(m) != nullptr);
}

TEST_CASE("dirty bits: all after joining, only what changed afterwards", "[game]") {
  World w(open_field(), 1);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  CHECK(w.find(p)->dirty == kDirtyAll);
  w.step({});
  CHECK(w.find(p)->dirty == kDirtyAll);  // published by the first step after joining
  w.step({});
  CHECK(w.find(p)->dirty == 0);
  w.step(input(p, 1, 0));
  CHECK(w.find(p)->dirty == (kDirtyPosition | kDirtyState));  // facing 0 is unchanged
  w.step(input(p, 0, 1));
  CHECK(w.find(p)->dirty == (kDirtyPosition | kDirtyFacing));
}

TEST_CASE("an invalid config is rejected", "[game]") {
  GameConfig cfg;
  cfg.tick_rate = 0;
  CHECK(validate_config(cfg).has_value());
  CHECK_THROWS_AS(World(cfg, 1), std::invalid_argument);
  CHECK_FALSE(validate_config(GameConfig{}).has_value());
}

TEST_CASE("state names match the wire names", "[game]") {
  CHECK(std::string(state_name(EntityState::Idle)) == "idle");
  CHECK(std::string(state_name(EntityState::Wander)) == "wander");
  CHECK(std::string(state_name(EntityState::Chase)) == "chase");
  CHECK(std::string(state_name(EntityState::Attack)) == "attack");
  CHECK(std::string(state_name(EntityState::Return)) == "return");
  CHECK(std::string(state_name(EntityState::Dead)) == "dead");
}

TEST_CASE("a restored player stands on the map whatever its record says", "[game]") {
  World world(open_field(), 7);
  const EntityId far = world.restore_player("far", 1e30f, -5e4f, 40, 0);
  REQUIRE(far != 0);
  const Entity* e = world.find(far);
  REQUIRE(e);
  CHECK(e->x >= 0);
  CHECK(e->x <= open_field().world_width);
  CHECK(e->y >= 0);
  CHECK(e->y <= open_field().world_height);
}

TEST_CASE("a restored player gets an id no other entity has", "[game]") {
  GameConfig cfg = open_field();
  cfg.monster_count = 20;
  World world(cfg, 7);
  std::vector<EntityId> ids;
  for (const Entity& e : world.entities()) ids.push_back(e.id);
  const EntityId restored = world.restore_player("back", 100, 100, 40, 9);
  REQUIRE(restored != 0);
  const EntityId joined = world.add_player("new");
  REQUIRE(joined != 0);
  CHECK(std::find(ids.begin(), ids.end(), restored) == ids.end());
  CHECK(std::find(ids.begin(), ids.end(), joined) == ids.end());
  CHECK(restored != joined);
  const Entity* e = world.find(restored);
  REQUIRE(e);
  CHECK(e->name == "back");
  CHECK(e->hp == 40);
  CHECK(e->score == 9);
}

TEST_CASE("find with an index hint answers like find, as entities move in the vector", "[game]") {
  GameConfig cfg;
  cfg.monster_count = 0;
  cfg.obstacle_count = 0;
  World world(cfg, 1);
  const EntityId a = world.add_player_at("a", 100, 100);
  const EntityId b = world.add_player_at("b", 200, 200);
  const EntityId c = world.add_player_at("c", 300, 300);
  std::uint32_t hint = 12345;  // nonsense at first
  REQUIRE(world.find(c, hint) == world.find(c));
  const std::uint32_t before = hint;
  CHECK(world.find(c, hint) == world.find(c));
  CHECK(hint == before);  // found where it was: no lookup needed
  world.remove_player(a);  // c may move into a's place
  CHECK(world.find(c, hint) == world.find(c));
  CHECK(world.find(c, hint)->name == "c");
  world.remove_player(c);
  CHECK(world.find(c, hint) == nullptr);
  std::uint32_t other = 0;
  CHECK(world.find(b, other)->name == "b");
}
