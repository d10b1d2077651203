// Players: inputs (normalised, never trusted), movement, attacks, and their state.
#include <cmath>

#include "game/world.h"

namespace skirmish::game {

void World::apply_inputs(const std::vector<PlayerInput>& inputs) {
  for (const PlayerInput& in : inputs) {
    const uint32_t i = index_of(in.player);
    if (i == kNoIndex) continue;
    Entity& p = entities_[i];
    if (p.kind != EntityKind::Player) continue;
    // A non-finite component would poison the position for good: treat it as no move.
    const bool finite = std::isfinite(in.dx) && std::isfinite(in.dy);
    p.input_dx_ = finite ? in.dx : 0;
    p.input_dy_ = finite ? in.dy : 0;
    p.input_attack_ = p.input_attack_ || in.attack;
  }
}

void World::update_player(uint32_t index) {
  Entity& p = entities_[index];
  // Inputs count for one tick only: with no input next tick the player stands still.
  double dx = p.input_dx_, dy = p.input_dy_;
  const bool attack = p.input_attack_;
  p.input_dx_ = p.input_dy_ = 0;
  p.input_attack_ = false;
  if (!p.alive()) return;

  // In double, so that even FLT_MAX squared does not overflow to infinity.
  const double len2 = dx * dx + dy * dy;
  if (len2 > 1) {
    const double len = std::sqrt(len2);
    dx /= len;
    dy /= len;
  }
  bool moved = false;
  if (len2 > 0) {
    set_facing(p, static_cast<float>(dx), static_cast<float>(dy));
    moved = move_entity(index, static_cast<float>(dx * player_step_),
                        static_cast<float>(dy * player_step_));
  }

  // A swing with nothing in range costs no cooldown, so holding attack while walking
  // up to a monster hits it on the first tick it is in range.
  if (attack && tick_ >= p.next_attack_tick_) {
    const uint32_t t = nearest_living_monster(p, cfg_.player_attack_range);
    if (t != kNoIndex) {
      Entity& m = entities_[t];
      set_facing(p, m.x - p.x, m.y - p.y);
      hit(p, m, cfg_.player_damage);
      p.next_attack_tick_ = tick_ + player_cooldown_ticks_;
    }
  }

  if (tick_ < p.next_attack_tick_) set_state(p, EntityState::Attack);
  else set_state(p, moved ? EntityState::Wander : EntityState::Idle);
}

void World::regenerate(Entity& p) {
  if (regen_interval_ticks_ == 0 || !p.alive() || p.hp >= p.max_hp) return;
  const uint64_t calm = tick_ - p.last_combat_tick_;
  if (calm < regen_delay_ticks_ || (calm - regen_delay_ticks_) % regen_interval_ticks_ != 0) return;
  p.hp++;
  p.dirty |= kDirtyHp;
}

bool World::attackable(const Entity& p) const {
  return p.alive() && !p.away && tick_ >= p.protected_until_tick_ && !in_safe_zone(p.x, p.y);
}

uint32_t World::nearest_living_monster(const Entity& from, float range) const {
  const float r2 = range * range;
  uint32_t best = kNoIndex;
  float best_d2 = 0;
  grid_.for_each_near(from.x, from.y, range, [&](uint32_t i) {
    const Locator& m = locators_[i];
    if (m.kind != EntityKind::Monster || !m.alive) return;
    const float dx = m.x - from.x, dy = m.y - from.y;
    const float d2 = dx * dx + dy * dy;
    if (d2 > r2) return;
    // Ties go to the lower id: the grid's visiting order must not decide anything.
    if (best == kNoIndex || d2 < best_d2 || (d2 == best_d2 && m.id < locators_[best].id)) {
      best = i;
      best_d2 = d2;
    }
  });
  return best;
}

}  // namespace skirmish::game
