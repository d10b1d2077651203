#pragma once

#include <cstdint>
#include <string>

namespace skirmish::game {

// Never reused within a World's lifetime; 0 means "none".
using EntityId = uint32_t;

enum class EntityKind : uint8_t { Player, Monster };

// Monsters use all of them. Players use Idle (standing), Wander (moved this tick),
// Attack (swung and the attack cooldown is still running) and Dead.
enum class EntityState : uint8_t { Idle, Wander, Chase, Attack, Return, Dead };

// "idle", "wander", "chase", "attack", "return", "dead".
const char* state_name(EntityState state);

// What changed during the last step(), so the server sends only changes.
enum DirtyBits : uint8_t {
  kDirtyPosition = 1,
  kDirtyHp = 2,
  kDirtyState = 4,
  kDirtyFacing = 8,
  kDirtyScore = 16,
  kDirtyAway = 32,
  kDirtyAll = 63,
};

struct Entity {
  EntityId id = 0;
  EntityKind kind = EntityKind::Player;
  uint16_t monster_kind = 0;  // index into GameConfig::monster_kinds (monsters only)
  float x = 0, y = 0;
  float facing = 0;  // radians, atan2 convention: 0 = +x, pi/2 = +y
  int hp = 0, max_hp = 0;
  EntityState state = EntityState::Idle;
  int score = 0;     // players: monsters killed (killing blows)
  std::string name;  // players only
  // Players: no client is connected to it (it waits for its token). Monsters ignore it and
  // it cannot be hurt; set by World::set_away.
  bool away = false;
  uint8_t dirty = 0; // DirtyBits set during the last step(); kDirtyAll when added or respawned

  // A dead monster vanishes until it respawns; a dead player stays visible (as a corpse).
  bool visible() const { return !(kind == EntityKind::Monster && state == EntityState::Dead); }
  bool alive() const { return state != EntityState::Dead; }

  // Internal state, written only by World (everyone else sees a const Entity).
  float spawn_x_ = 0, spawn_y_ = 0;  // monsters: home, where they respawn and return to
  float goal_x_ = 0, goal_y_ = 0;    // monsters: current wander destination
  EntityId target_ = 0;              // monsters: the player being chased
  uint64_t next_attack_tick_ = 0;    // first tick on which this entity may hit again
  uint64_t respawn_tick_ = 0;        // Dead: the tick on which it comes back
  float respawn_x_ = 0, respawn_y_ = 0;  // Dead players: where they come back (chosen at death)
  uint64_t protected_until_tick_ = 0;  // players: monsters ignore them before this tick
  uint64_t last_combat_tick_ = 0;      // players: last hit taken or dealt (regeneration waits)
  uint64_t state_until_tick_ = 0;    // Idle: end of the pause; Wander, Return: give-up deadline
  float facing_dx_ = 0, facing_dy_ = 0;  // the direction `facing` was computed from
  uint32_t cell_ = 0;                // the spatial grid cell that lists this entity
  float input_dx_ = 0, input_dy_ = 0;  // players: this tick's movement input (raw)
  bool input_attack_ = false;          // players: this tick's attack input
  // Changes made between steps (added, set_hp, set_position): step() starts from these bits
  // instead of zero, so the next step reports them.
  uint8_t pending_dirty_ = 0;
};

}  // namespace skirmish::game
