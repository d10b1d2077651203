#pragma once
// Shared setup for the game tests: a small, fully controlled world.

#include <cmath>
#include <vector>

#include "game/world.h"

namespace skirmish::game::test {

// One monster kind with round numbers. At 20 Hz: moves 5 units/tick, hits every
// 20 ticks, stays dead 40 ticks.
inline MonsterKind dummy_kind() {
  MonsterKind k;
  k.name = "dummy";
  k.speed = 100;
  k.max_hp = 50;
  k.damage = 10;
  k.attack_range = 50;
  k.aggro_radius = 200;
  k.leash_range = 400;
  k.attack_cooldown_ms = 1000;
  k.respawn_ms = 2000;
  k.weight = 1;
  return k;
}

// No random monsters, no obstacles, no wandering: entities are placed by the test.
// Players at 20 Hz: 10 units/tick, hit for 20 every 10 ticks, dead for 60 ticks.
inline GameConfig open_field() {
  GameConfig cfg;
  cfg.monster_count = 0;
  cfg.obstacle_count = 0;
  cfg.monster_kinds = {dummy_kind()};
  cfg.monster_wander_radius = 0;
  // Scenarios count hp and aggro exactly: no healing, no grace period (tested on their own).
  cfg.player_regen_per_second = 0;
  cfg.spawn_protection_ms = 0;
  return cfg;
}

inline std::vector<PlayerInput> input(EntityId id, float dx, float dy, bool attack = false) {
  return {PlayerInput{id, dx, dy, attack}};
}

inline float distance(const Entity& a, float x, float y) { return std::hypot(a.x - x, a.y - y); }
inline float distance(const Entity& a, const Entity& b) { return distance(a, b.x, b.y); }

inline int count_events(const std::vector<Event>& events, EventType type, EntityId attacker = 0) {
  int n = 0;
  for (const Event& e : events)
    if (e.type == type && (attacker == 0 || e.attacker == attacker)) ++n;
  return n;
}

}  // namespace skirmish::game::test
