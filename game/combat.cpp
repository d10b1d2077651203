// Hits and deaths, plus the movement primitives every actor shares.
#include <algorithm>
#include <cmath>
#include <limits>

#include "game/collision.h"
#include "game/world.h"

namespace skirmish::game {

void World::hit(Entity& attacker, Entity& target, int damage) {
  // Fighting ends a player's spawn protection and pauses its regeneration.
  attacker.last_combat_tick_ = target.last_combat_tick_ = tick_;
  if (attacker.kind == EntityKind::Player) attacker.protected_until_tick_ = 0;
  target.hp = std::max(0, target.hp - damage);
  if (damage != 0) target.dirty |= kDirtyHp;
  events_.push_back({EventType::Attack, attacker.id, target.id, damage, target.x, target.y});
  if (target.hp == 0) {
    kill(target, &attacker, damage);
    return;
  }
  // A monster minding its own business fights back; one already chasing keeps its
  // target, and one returning home ignores hits (otherwise it could be kited forever).
  if (target.kind == EntityKind::Monster && attacker.kind == EntityKind::Player &&
      (target.state == EntityState::Idle || target.state == EntityState::Wander)) {
    target.target_ = attacker.id;
    set_state(target, EntityState::Chase);
  }
}

void World::kill(Entity& victim, Entity* killer, int damage) {
  victim.hp = 0;
  victim.dirty |= kDirtyHp;
  set_state(victim, EntityState::Dead);
  victim.target_ = 0;
  victim.respawn_tick_ = tick_ + (victim.kind == EntityKind::Monster
                                      ? kind_ticks_[victim.monster_kind].respawn
                                      : player_respawn_ticks_);
  // A player's respawn spot is chosen now, so its client can show where it will be back.
  if (victim.kind == EntityKind::Player) find_safe_spot(victim.respawn_x_, victim.respawn_y_);
  sync(victim);
  if (killer == nullptr) return;
  events_.push_back({EventType::Death, killer->id, victim.id, damage, victim.x, victim.y});
  // A score restored from a record may stand at the top already: it stays there.
  if (killer->kind == EntityKind::Player && victim.kind == EntityKind::Monster &&
      killer->score < std::numeric_limits<int>::max()) {
    ++killer->score;
    killer->dirty |= kDirtyScore;
  }
}

bool World::move_entity(uint32_t index, float dx, float dy) {
  Entity& e = entities_[index];
  const float old_x = e.x, old_y = e.y;
  obstacle_map_.move(e.x, e.y, dx, dy);
  if (e.x == old_x && e.y == old_y) return false;
  e.dirty |= kDirtyPosition;
  sync(e);
  const uint32_t cell = grid_.cell_of(e.x, e.y);
  if (cell != e.cell_) {
    grid_.erase(e.cell_, index);
    grid_.insert(cell, index);
    e.cell_ = cell;
  }
  return true;
}

void World::relocate(uint32_t index, float x, float y) {
  Entity& e = entities_[index];
  x = clamp_coord(x, cfg_.world_width);
  y = clamp_coord(y, cfg_.world_height);
  if (x == e.x && y == e.y) return;
  e.x = x;
  e.y = y;
  e.dirty |= kDirtyPosition;
  sync(e);
  const uint32_t cell = grid_.cell_of(x, y);
  if (cell != e.cell_) {
    grid_.erase(e.cell_, index);
    grid_.insert(cell, index);
    e.cell_ = cell;
  }
}

void World::set_state(Entity& e, EntityState state) {
  if (e.state == state) return;
  e.state = state;
  e.dirty |= kDirtyState;
}

void World::set_facing(Entity& e, float dx, float dy) {
  if (dx == 0 && dy == 0) return;  // no direction: keep the old facing
  // A player holding a key sends the same vector every tick: skip the atan2.
  if (dx == e.facing_dx_ && dy == e.facing_dy_) return;
  e.facing_dx_ = dx;
  e.facing_dy_ = dy;
  const float facing = std::atan2(dy, dx);
  if (facing == e.facing) return;
  e.facing = facing;
  e.dirty |= kDirtyFacing;
}

}  // namespace skirmish::game
