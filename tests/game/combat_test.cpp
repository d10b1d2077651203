#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "game/world.h"
#include "game_test_support.h"

using namespace skirmish::game;
using namespace skirmish::game::test;

// Ticks (World::tick() before the step) on which `attacker` produced an Attack event.
static std::vector<uint64_t> attack_ticks(World& w, EntityId attacker,
                                          const std::vector<PlayerInput>& inputs, int steps) {
  std::vector<uint64_t> ticks;
  for (int i = 0; i < steps; ++i) {
    const uint64_t t = w.tick();
    for (const Event& e : w.step(inputs))
      if (e.type == EventType::Attack && e.attacker == attacker) ticks.push_back(t);
  }
  return ticks;
}

TEST_CASE("monster attacks are spaced exactly by the cooldown in ticks", "[game]") {
  GameConfig cfg = open_field();
  cfg.player_max_hp = 10000;
  World w(cfg, 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1030, 1000);
  const auto ticks = attack_ticks(w, m, {}, 200);
  REQUIRE(ticks.size() == 10);  // 1000 ms at 20 Hz = 20 ticks
  CHECK(ticks.front() == 0);
  for (size_t i = 1; i < ticks.size(); ++i) CHECK(ticks[i] - ticks[i - 1] == 20);
  CHECK(w.find(p)->hp == 10000 - 10 * 10);
}

TEST_CASE("a monster attack event names attacker, target, damage and the target's position", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1030, 1040);
  const auto events = w.step({});
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == EventType::Attack);
  CHECK(events[0].attacker == m);
  CHECK(events[0].target == p);
  CHECK(events[0].damage == 10);
  CHECK(events[0].x == 1030);
  CHECK(events[0].y == 1040);
  CHECK(w.find(p)->hp == 90);
  CHECK((w.find(p)->dirty & kDirtyHp) != 0);
  CHECK(w.find(m)->state == EntityState::Attack);
}

TEST_CASE("player attacks are spaced exactly by the cooldown in ticks", "[game]") {
  GameConfig cfg = open_field();
  cfg.monster_kinds[0].max_hp = 100000;
  cfg.monster_kinds[0].damage = 0;
  World w(cfg, 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1060, 1000);
  const auto ticks = attack_ticks(w, p, input(p, 0, 0, true), 100);
  REQUIRE(ticks.size() == 10);  // 500 ms at 20 Hz = 10 ticks
  for (size_t i = 1; i < ticks.size(); ++i) CHECK(ticks[i] - ticks[i - 1] == 10);
  CHECK(w.find(m)->hp == 100000 - 20 * 10);
}

TEST_CASE("a player attack hits the nearest living monster in range", "[game]") {
  World w(open_field(), 1);
  const EntityId far = w.add_monster_at(0, 1070, 1000);
  const EntityId near = w.add_monster_at(0, 1000, 960);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  const auto events = w.step(input(p, 0, 0, true));
  REQUIRE(count_events(events, EventType::Attack, p) == 1);
  CHECK(events[0].target == near);
  CHECK(w.find(near)->hp == 30);
  CHECK(w.find(far)->hp == 50);
}

TEST_CASE("a player attack with nothing in range does nothing and costs no cooldown", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1081, 1000);
  const EntityId p = w.add_player_at("a", 1000, 1000);
  CHECK(count_events(w.step(input(p, 0, 0, true)), EventType::Attack, p) == 0);
  CHECK(w.find(m)->hp == 50);
  w.set_position(m, 1080, 1000);  // range is inclusive
  CHECK(count_events(w.step(input(p, 0, 0, true)), EventType::Attack, p) == 1);
}

TEST_CASE("the killing blow emits Death, scores, and hides the monster", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1040, 1000);
  w.set_hp(m, 20);
  const auto events = w.step(input(p, 0, 0, true));
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == EventType::Attack);
  CHECK(events[1].type == EventType::Death);
  CHECK(events[1].attacker == p);
  CHECK(events[1].target == m);
  CHECK(events[1].damage == 20);
  CHECK(events[1].x == 1000);
  CHECK(events[1].y == 1000);
  const Entity& dead = *w.find(m);
  CHECK(dead.hp == 0);
  CHECK(dead.state == EntityState::Dead);
  CHECK_FALSE(dead.visible());
  CHECK(w.find(p)->score == 1);
  CHECK((w.find(p)->dirty & kDirtyScore) != 0);
  std::vector<EntityId> seen;
  w.query_visible(1000, 1000, 500, seen);
  CHECK(seen == std::vector<EntityId>{p});
}

TEST_CASE("a dead monster does not attack and is not attackable", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1040, 1000);
  w.set_hp(m, 0);
  for (int i = 0; i < 30; ++i) CHECK(w.step(input(p, 0, 0, true)).empty());
  CHECK(w.find(p)->hp == 100);
  CHECK(w.find(m)->state == EntityState::Dead);
}

TEST_CASE("a dead monster respawns at its spawn after the delay with full hp", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1300, 1000);
  w.set_position(m, 1250, 1000);  // dies away from home
  w.set_hp(m, 1);
  w.step(input(p, 0, 0, true));
  REQUIRE(w.find(m)->state == EntityState::Dead);
  w.set_position(p, 2000, 2000);  // out of its aggro when it returns
  const uint64_t died = w.tick() - 1;
  for (int i = 1; i < 40; ++i) {
    CHECK(count_events(w.step({}), EventType::Respawn) == 0);
    CHECK_FALSE(w.find(m)->visible());
  }
  const uint64_t t = w.tick();
  const auto events = w.step({});
  CHECK(t - died == 40);  // 2000 ms at 20 Hz
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == EventType::Respawn);
  CHECK(events[0].target == m);
  CHECK(events[0].x == 1000);
  CHECK(events[0].y == 1000);
  const Entity& back = *w.find(m);
  CHECK(back.visible());
  CHECK(back.hp == back.max_hp);
  CHECK(back.state == EntityState::Idle);
  CHECK(back.x == 1000);
  CHECK(back.y == 1000);
  CHECK(back.dirty == kDirtyAll);
}

TEST_CASE("a score at the top of its range stays there on a kill", "[game]") {
  // A restored record (the state file, or Redis: anyone who can write there) may say so.
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.restore_player("top", 1040, 1000, 100, std::numeric_limits<int>::max());
  REQUIRE(p != 0);
  w.set_hp(m, 20);
  const auto events = w.step(input(p, 0, 0, true));
  REQUIRE(count_events(events, EventType::Death, p) == 1);
  CHECK(w.find(p)->score == std::numeric_limits<int>::max());
}

TEST_CASE("only the player dealing the killing blow scores", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId first = w.add_player_at("first", 1040, 1000);
  const EntityId second = w.add_player_at("second", 960, 1000);
  w.set_hp(m, 30);
  // Players act in join order: first leaves 10 hp, second finishes it.
  w.step({PlayerInput{second, 0, 0, true}, PlayerInput{first, 0, 0, true}});
  CHECK(w.find(m)->state == EntityState::Dead);
  CHECK(w.find(first)->score == 0);
  CHECK(w.find(second)->score == 1);
}

TEST_CASE("a player at 0 hp dies with a Death event and stays visible", "[game]") {
  GameConfig cfg = open_field();
  cfg.player_max_hp = 30;
  World w(cfg, 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1030, 1000);
  std::vector<Event> deaths;
  for (int i = 0; i < 60 && w.find(p)->alive(); ++i)
    for (const Event& e : w.step({}))
      if (e.type == EventType::Death) deaths.push_back(e);
  REQUIRE(deaths.size() == 1);
  CHECK(deaths[0].attacker == m);
  CHECK(deaths[0].target == p);
  CHECK(deaths[0].damage == 10);
  CHECK(w.tick() == 41);  // hits on ticks 0, 20, 40
  w.step({});
  const Entity& dead = *w.find(p);
  CHECK(dead.hp == 0);
  CHECK(dead.state == EntityState::Dead);
  CHECK(dead.visible());
  CHECK(w.find(m)->state == EntityState::Return);  // noticed its target is gone
  std::vector<EntityId> seen;
  w.query_visible(1030, 1000, 0, seen);
  CHECK(seen == std::vector<EntityId>{p});
}

TEST_CASE("a dead player can neither move nor attack", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1040, 1000);
  w.set_hp(p, 0);
  for (int i = 0; i < 20; ++i) {
    CHECK(count_events(w.step(input(p, 1, 1, true)), EventType::Attack, p) == 0);
  }
  CHECK(w.find(p)->x == 1040);
  CHECK(w.find(p)->y == 1000);
  CHECK(w.find(m)->hp == 50);
}

TEST_CASE("a dead player respawns after the delay at a safe spot with full hp", "[game]") {
  World w(open_field(), 1);
  const EntityId m = w.add_monster_at(0, 1000, 1000);
  const EntityId p = w.add_player_at("a", 1040, 1000);
  w.set_hp(p, 0);  // dies before step 0, so it comes back in step 60 (3000 ms at 20 Hz)
  for (int i = 0; i < 60; ++i) CHECK(count_events(w.step({}), EventType::Respawn) == 0);
  CHECK(w.find(p)->state == EntityState::Dead);
  const auto respawn = w.step({});
  REQUIRE(count_events(respawn, EventType::Respawn) == 1);
  const Entity& back = *w.find(p);
  CHECK(back.state == EntityState::Idle);
  CHECK(back.hp == 100);
  CHECK(back.dirty == kDirtyAll);
  CHECK(respawn[0].x == back.x);
  CHECK(respawn[0].y == back.y);
  CHECK_FALSE(w.blocked(back.x, back.y));
  CHECK(distance(back, *w.find(m)) > 200);  // outside the monster's aggro radius
}
