// The monster state machine:
//   Idle --pause over--> Wander --goal reached or deadline--> Idle
//   Idle/Wander --living player in aggro radius (or hit by one)--> Chase <--> Attack
//   Chase/Attack --target dead, gone, or beyond leash range of the spawn--> Return
//   Return --home (full heal) or deadline (teleported home)--> Idle
//   any --hp 0--> Dead --respawn delay--> Idle at the spawn (world_spawn.cpp)
#include <algorithm>
#include <cmath>

#include "game/world.h"

namespace skirmish::game {

namespace {

// Chasers stop this far inside their attack range, so one step of the target does not
// immediately break contact.
constexpr float kStopFraction = 0.75f;
// Squared distance from the spawn that counts as "home".
constexpr float kHomeEpsilon2 = 1e-4f;

float dist2(float ax, float ay, float bx, float by) {
  const float dx = ax - bx, dy = ay - by;
  return dx * dx + dy * dy;
}

}  // namespace

void World::update_monster(uint32_t index) {
  Entity& m = entities_[index];
  const KindTicks& kt = kind_ticks_[m.monster_kind];
  switch (m.state) {
    case EntityState::Dead:
      return;
    case EntityState::Chase:
    case EntityState::Attack:
      chase(index);
      return;
    case EntityState::Idle:
      if (try_aggro(index)) return chase(index);
      if (tick_ < m.state_until_tick_) return;
      if (cfg_.monster_wander_radius <= 0 || kt.wander_step <= 0) return start_idle(m);
      {
        // A uniform point in the wander disc by rejection (no trigonometry, so nothing
        // depends on the libm); after a few misses it settles for the spawn itself.
        const float r = cfg_.monster_wander_radius;
        m.goal_x_ = m.spawn_x_;
        m.goal_y_ = m.spawn_y_;
        for (int t = 0; t < 8; ++t) {
          const float ox = rng_.uniform(-r, r), oy = rng_.uniform(-r, r);
          if (ox * ox + oy * oy > r * r) continue;
          m.goal_x_ = std::clamp(m.spawn_x_ + ox, 0.0f, cfg_.world_width);
          m.goal_y_ = std::clamp(m.spawn_y_ + oy, 0.0f, cfg_.world_height);
          break;
        }
        // Deadline: twice the time to cross the disc plus a second, in case a wall
        // stops it short of the goal.
        const double ticks = 4.0 * r / kt.wander_step + cfg_.tick_rate;
        m.state_until_tick_ = tick_ + static_cast<uint64_t>(std::min(ticks, 1e9));
        set_state(m, EntityState::Wander);
      }
      return;
    case EntityState::Wander: {
      if (try_aggro(index)) return chase(index);
      const float dx = m.goal_x_ - m.x, dy = m.goal_y_ - m.y;
      const float d = std::sqrt(dx * dx + dy * dy);
      if (d <= kt.wander_step) {
        move_entity(index, dx, dy);
        return start_idle(m);
      }
      set_facing(m, dx, dy);
      move_entity(index, dx / d * kt.wander_step, dy / d * kt.wander_step);
      if (tick_ >= m.state_until_tick_) start_idle(m);
      return;
    }
    case EntityState::Return: {
      const float dx = m.spawn_x_ - m.x, dy = m.spawn_y_ - m.y;
      const float d = std::sqrt(dx * dx + dy * dy);
      const float travel = std::min(d, kt.step);
      if (d > 0) {
        set_facing(m, dx, dy);
        move_entity(index, dx / d * travel, dy / d * travel);
      }
      // Close enough counts as home (float steps need not land exactly on the spawn).
      // Walled off from home past the deadline: reset there anyway (an "evade").
      if (dist2(m.x, m.y, m.spawn_x_, m.spawn_y_) <= kHomeEpsilon2 || tick_ >= m.state_until_tick_) {
        relocate(index, m.spawn_x_, m.spawn_y_);
        arrive_home(m);
      }
      return;
    }
  }
}

bool World::try_aggro(uint32_t index) {
  Entity& m = entities_[index];
  const MonsterKind& k = cfg_.monster_kinds[m.monster_kind];
  const float r2 = k.aggro_radius * k.aggro_radius;
  const float leash2 = k.leash_range * k.leash_range;
  uint32_t best = kNoIndex;
  float best_d2 = 0;
  grid_.for_each_near(m.x, m.y, k.aggro_radius, [&](uint32_t i) {
    const Locator& p = locators_[i];
    if (p.kind != EntityKind::Player || !p.alive || !attackable(entities_[i])) return;
    const float d2 = dist2(p.x, p.y, m.x, m.y);
    if (d2 > r2) return;
    // A player already beyond the leash would be dropped on the next tick: ignore it
    // rather than flicker between Chase and Return.
    if (dist2(p.x, p.y, m.spawn_x_, m.spawn_y_) > leash2) return;
    if (best == kNoIndex || d2 < best_d2 || (d2 == best_d2 && p.id < locators_[best].id)) {
      best = i;
      best_d2 = d2;
    }
  });
  if (best == kNoIndex) return false;
  m.target_ = entities_[best].id;
  set_state(m, EntityState::Chase);
  return true;
}

void World::chase(uint32_t index) {
  Entity& m = entities_[index];
  const MonsterKind& k = cfg_.monster_kinds[m.monster_kind];
  const KindTicks& kt = kind_ticks_[m.monster_kind];
  const uint32_t t = m.target_ == 0 ? kNoIndex : index_of(m.target_);
  if (t == kNoIndex || !attackable(entities_[t]) ||
      dist2(entities_[t].x, entities_[t].y, m.spawn_x_, m.spawn_y_) > k.leash_range * k.leash_range)
    return begin_return(m);

  Entity& p = entities_[t];
  float dx = p.x - m.x, dy = p.y - m.y;
  float d = std::sqrt(dx * dx + dy * dy);
  if (d > k.attack_range) {
    const float travel = std::min(kt.step, d - k.attack_range * kStopFraction);
    set_facing(m, dx, dy);
    move_entity(index, dx / d * travel, dy / d * travel);
    dx = p.x - m.x;
    dy = p.y - m.y;
    d = std::sqrt(dx * dx + dy * dy);
  }
  if (d > k.attack_range) return set_state(m, EntityState::Chase);

  set_state(m, EntityState::Attack);
  set_facing(m, dx, dy);
  if (tick_ >= m.next_attack_tick_) {
    hit(m, p, k.damage);
    m.next_attack_tick_ = tick_ + kt.cooldown;
  }
}

void World::begin_return(Entity& m) {
  m.target_ = 0;
  set_state(m, EntityState::Return);
  const KindTicks& kt = kind_ticks_[m.monster_kind];
  const double d = std::sqrt(dist2(m.x, m.y, m.spawn_x_, m.spawn_y_));
  // Twice the straight-line time plus a second; a monster that cannot walk waits a second.
  const double ticks = (kt.step > 0 ? 2.0 * d / kt.step : 0.0) + cfg_.tick_rate;
  m.state_until_tick_ = tick_ + static_cast<uint64_t>(std::min(ticks, 1e9));
}

void World::arrive_home(Entity& m) {
  // Back home it heals fully, so pulling a monster and running away resets the fight.
  if (m.hp != m.max_hp) {
    m.hp = m.max_hp;
    m.dirty |= kDirtyHp;
  }
  start_idle(m);
}

void World::start_idle(Entity& m) {
  set_state(m, EntityState::Idle);
  // Pause 1 to 4 seconds before the next wander, each monster on its own rhythm.
  const auto rate = static_cast<uint32_t>(cfg_.tick_rate);
  m.state_until_tick_ = tick_ + rate + rng_.below(3 * rate);
}

}  // namespace skirmish::game
