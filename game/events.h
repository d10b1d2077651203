#pragma once

#include <cstdint>

#include "game/entity.h"

namespace skirmish::game {

// One player's intent for one tick. The direction is normalised to length <= 1 by the
// World; positions are never taken from clients.
struct PlayerInput {
  EntityId player = 0;
  float dx = 0, dy = 0;
  bool attack = false;
};

enum class EventType : uint8_t { Attack, Death, Respawn };

// Attack:  attacker hit target for `damage`.
// Death:   target died; attacker dealt the killing blow, damage is that blow's damage.
// Respawn: target came back (attacker 0, damage 0).
// x, y is always the target's position at that moment (for Respawn: the new position).
struct Event {
  EventType type = EventType::Attack;
  EntityId attacker = 0;
  EntityId target = 0;
  int damage = 0;
  float x = 0, y = 0;
};

}  // namespace skirmish::game
