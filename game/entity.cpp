#include "game/entity.h"

namespace skirmish::game {

const char* state_name(EntityState state) {
  switch (state) {
    case EntityState::Idle: return "idle";
    case EntityState::Wander: return "wander";
    case EntityState::Chase: return "chase";
    case EntityState::Attack: return "attack";
    case EntityState::Return: return "return";
    case EntityState::Dead: return "dead";
  }
  return "unknown";
}

}  // namespace skirmish::game
