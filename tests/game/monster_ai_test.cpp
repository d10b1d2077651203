#include <catch2/catch.hpp>

#include <cmath>

#include "game/world.h"
#include "game_test_support.h"

using namespace skirmish::game;
using namespace skirmish::game::test;

// dummy_kind(): aggro 200, leash 400, 5 units/tick, attack range 50.

TEST_CASE("a monster aggroes a living player inside its aggro radius", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  w.add_player_at("a", 1200, 1000);  // exactly on the radius: inclusive
  w.step({});
  CHECK(w.find(m)->state == EntityState::Chase);
  CHECK(w.find(m)->x == Approx(1005));
}

TEST_CASE("a monster ignores a player just outside its aggro radius", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  w.add_player_at("a", 1000, 1201);
  for (int i = 0; i < 100; ++i) {
    w.step({});
    REQUIRE(w.find(m)->state == EntityState::Idle);
  }
  CHECK(w.find(m)->x == 1000);
  CHECK(w.find(m)->y == 1000);
}

TEST_CASE("a monster ignores dead players", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1100, 1000);
  w.set_hp(p, 0);
  w.step({});
  CHECK(w.find(m)->state == EntityState::Idle);
}

TEST_CASE("a monster chases the nearest of several players", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  w.add_player_at("far", 1150, 1000);
  w.add_player_at("near", 900, 1000);
  w.step({});
  CHECK(w.find(m)->x == Approx(995));
}

TEST_CASE("a chasing monster closes the distance at its speed, then attacks", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1190, 1000);
  float last = distance(*w.find(m), *w.find(p));
  int steps = 0;
  while (w.find(m)->state != EntityState::Attack && steps < 100) {
    w.step({});
    ++steps;
    const float now = distance(*w.find(m), *w.find(p));
    if (w.find(m)->state == EntityState::Chase) CHECK(now == Approx(last - 5));
    CHECK(now < last);
    last = now;
  }
  CHECK(w.find(m)->state == EntityState::Attack);
  CHECK(last <= 50);
  CHECK(steps == 28);  // 190 -> 50 at 5 per tick
}

TEST_CASE("a monster gives up and walks home when its target leaves the leash range", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1150, 1000);
  w.step({});
  REQUIRE(w.find(m)->state == EntityState::Chase);
  w.set_hp(m, 10);
  // The player (10/tick) outruns the monster (5/tick) and crosses x = 1400 (leash 400).
  while (w.find(p)->x <= 1400) {
    CHECK(w.find(m)->state == EntityState::Chase);
    w.step(input(p, 1, 0));
  }
  w.step({});
  CHECK(w.find(m)->state == EntityState::Return);
  CHECK(w.find(m)->x > 1000);
  for (int i = 0; i < 200 && w.find(m)->state == EntityState::Return; ++i) w.step({});
  CHECK(w.find(m)->state == EntityState::Idle);
  CHECK(w.find(m)->x == 1000);
  CHECK(w.find(m)->y == 1000);
  CHECK(w.find(m)->hp == 50);  // healed at home
}

TEST_CASE("a returning monster ignores players until it is home", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1500, 1000);  // beyond the leash
  w.set_position(m, 1300, 1000);                         // pulled away, target lost
  w.step({});
  // Within aggro but beyond leash: not a valid target, so nothing to chase.
  CHECK(w.find(m)->state == EntityState::Idle);
  w.set_position(p, 1200, 1000);  // now within leash and aggro, not yet in reach
  w.step({});
  REQUIRE(w.find(m)->state == EntityState::Chase);
  w.set_position(p, 1500, 1000);
  w.step({});
  REQUIRE(w.find(m)->state == EntityState::Return);
  w.set_position(p, 1250, 1000);
  for (int i = 0; i < 10; ++i) {
    w.step({});
    CHECK(w.find(m)->state == EntityState::Return);
  }
}

TEST_CASE("a monster hit by a player it has not noticed fights back", "[game]") {
  GameConfig cfg = open_field();
  cfg.monster_kinds[0].aggro_radius = 10;
  World w(cfg, 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1070, 1000);
  w.step(input(p, 0, 0, true));
  CHECK(w.find(m)->hp == 30);
  CHECK(w.find(m)->state == EntityState::Chase);
}

TEST_CASE("wandering monsters stay within the wander radius of their spawn", "[game]") {
  GameConfig cfg;
  cfg.monster_count = 60;
  cfg.obstacle_count = 0;
  World w(cfg, 99);
  float farthest = 0;
  bool wandered = false;
  for (int t = 0; t < 1500; ++t) {
    w.step({});
    for (const Entity& e : w.entities()) {
      const float d = distance(e, e.spawn_x_, e.spawn_y_);
      farthest = std::max(farthest, d);
      wandered = wandered || e.state == EntityState::Wander;
      REQUIRE(d <= cfg.monster_wander_radius + 0.01f);
    }
  }
  CHECK(wandered);
  CHECK(farthest > cfg.monster_wander_radius / 2);
}
