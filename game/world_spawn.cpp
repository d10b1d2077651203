// Placement: obstacles, monster spawns, safe spots for players, and respawns.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "game/collision.h"
#include "game/world.h"

namespace skirmish::game {

namespace {

// Random placement gives up after this many candidates (a crowded or walled-in map);
// the bound keeps add_player's cost predictable.
constexpr int kOpenSpotTries = 64;
constexpr int kSafeSpotTries = 32;
// Spawns keep this distance from obstacle edges, and players this much beyond each
// monster's aggro radius, so a spawn is not instantly stuck or instantly attacked.
constexpr float kSpawnMargin = 20;
// Players (re)spawn in the camp while it holds fewer than this many: a crowd of thousands
// (a load test, a busy server) is spread over the map instead, or everyone in the camp
// would see everyone else and every frame would grow with the crowd.
constexpr int kCampCapacity = 32;
// A kind's camp_distance reaches at most this share of the way from the camp to the nearest
// edge, so that a ring always leaves a band of the map to spawn in.
constexpr float kRingShare = 0.75f;

bool near_obstacle(const std::vector<Obstacle>& obstacles, float x, float y, float margin) {
  for (const Obstacle& o : obstacles)
    if (inside_obstacle({o.x - margin, o.y - margin, o.w + 2 * margin, o.h + 2 * margin}, x, y))
      return true;
  return false;
}

}  // namespace

void World::generate_obstacles() {
  std::vector<Obstacle> obstacles = cfg_.obstacles;
  if (obstacles.empty()) random_obstacles(obstacles);
  obstacle_map_ = ObstacleMap(std::move(obstacles), cfg_.world_width, cfg_.world_height, cfg_.grid_cell_size);
}

void World::random_obstacles(std::vector<Obstacle>& out) {
  // Sizes scale with the map: walls of 1/32 to 3/32 of its shorter side, at least that
  // far from the border and from each other, so there is always a way around them.
  const float base = std::min(cfg_.world_width, cfg_.world_height) / 32;
  const int tries = cfg_.obstacle_count * 20;
  for (int t = 0; t < tries && out.size() < static_cast<size_t>(cfg_.obstacle_count); ++t) {
    Obstacle o;
    o.w = rng_.uniform(base, 3 * base);
    o.h = rng_.uniform(base, 3 * base);
    o.x = rng_.uniform(base, cfg_.world_width - base - o.w);
    o.y = rng_.uniform(base, cfg_.world_height - base - o.h);
    const bool overlaps = std::any_of(out.begin(), out.end(), [&](const Obstacle& p) {
      return o.x < p.x + p.w + base && p.x < o.x + o.w + base && o.y < p.y + p.h + base &&
             p.y < o.y + o.h + base;
    });
    // The camp stays open: rocks keep a wall's width from its edge.
    const float nx = std::clamp(safe_zone_x(), o.x, o.x + o.w), ny = std::clamp(safe_zone_y(), o.y, o.y + o.h);
    if (safe_radius_ > 0 && std::hypot(nx - safe_zone_x(), ny - safe_zone_y()) < safe_radius_ + base) continue;
    if (!overlaps) out.push_back(o);
  }
}

uint16_t World::pick_monster_kind() {
  uint32_t total = 0;
  for (const MonsterKind& k : cfg_.monster_kinds) total += static_cast<uint32_t>(k.weight);
  uint32_t r = rng_.below(total);
  for (size_t i = 0; i < cfg_.monster_kinds.size(); ++i) {
    const auto w = static_cast<uint32_t>(cfg_.monster_kinds[i].weight);
    if (r < w) return static_cast<uint16_t>(i);
    r -= w;
  }
  return 0;  // unreachable: validate_config guarantees total > 0
}

void World::spawn_random_monsters() {
  // Far enough from the safe zone that wandering never takes a monster into it, and as far
  // as its kind's camp_distance, but never past kRingShare of the way to the nearest edge: in
  // a small world an absolute distance would leave no room, and every ogre would crowd into
  // the corners. Where no candidate is that far (an unlucky draw), the farthest one tried.
  const float keep_out = safe_radius_ > 0 ? safe_radius_ + cfg_.monster_wander_radius + kSpawnMargin : 0;
  const float ring_cap = kRingShare * std::min(cfg_.world_width, cfg_.world_height) / 2;
  for (int n = 0; n < cfg_.monster_count; ++n) {
    const uint16_t kind = pick_monster_kind();
    const float least =
        safe_radius_ > 0 ? std::max(keep_out, std::min(cfg_.monster_kinds[kind].camp_distance, ring_cap)) : 0;
    float x = 0, y = 0, best_x = 0, best_y = 0, best = -1;
    for (int t = 0; t < kOpenSpotTries; ++t) {
      random_open_spot(kSpawnMargin, x, y);
      const float d = std::hypot(x - safe_zone_x(), y - safe_zone_y());
      if (least == 0 || d > least) break;
      if (d > best) {
        best = d;
        best_x = x;
        best_y = y;
      }
      if (t + 1 == kOpenSpotTries) {
        x = best_x;
        y = best_y;
      }
    }
    add_monster_at(kind, x, y);
  }
}

bool World::random_open_spot(float margin, float& x, float& y) {
  const float mx = std::min(margin, cfg_.world_width / 4);
  const float my = std::min(margin, cfg_.world_height / 4);
  for (int t = 0; t < kOpenSpotTries; ++t) {
    x = rng_.uniform(mx, cfg_.world_width - mx);
    y = rng_.uniform(my, cfg_.world_height - my);
    if (!near_obstacle(obstacle_map_.obstacles(), x, y, margin)) return true;
  }
  return false;  // leaves the last candidate, which may touch an obstacle
}

void World::find_safe_spot(float& x, float& y) {
  x = cfg_.world_width / 2;
  y = cfg_.world_height / 2;
  int in_camp = 0;
  if (safe_radius_ > 0) {
    grid_.for_each_near(safe_zone_x(), safe_zone_y(), safe_radius_, [&](uint32_t i) {
      const Locator& p = locators_[i];
      if (p.kind == EntityKind::Player && in_safe_zone(p.x, p.y)) ++in_camp;
    });
  }
  if (safe_radius_ > 0 && in_camp < kCampCapacity) {
    // Somewhere in the camp, spread out so that players do not stack on one point.
    for (int t = 0; t < kOpenSpotTries; ++t) {
      const float angle = rng_.uniform(0, 6.2831853f);
      const float r = safe_radius_ * 0.8f * std::sqrt(rng_.uniform(0, 1));
      const float cx = safe_zone_x() + r * std::cos(angle), cy = safe_zone_y() + r * std::sin(angle);
      if (!near_obstacle(obstacle_map_.obstacles(), cx, cy, kSpawnMargin)) {
        x = cx;
        y = cy;
        return;
      }
    }
  }
  float best = -std::numeric_limits<float>::infinity();
  for (int t = 0; t < kSafeSpotTries; ++t) {
    float cx = 0, cy = 0;
    if (!random_open_spot(kSpawnMargin, cx, cy)) continue;
    if (in_camp >= kCampCapacity && in_safe_zone(cx, cy)) continue;  // full: elsewhere
    // Clearance: how far the spot is outside the nearest living monster's aggro radius.
    float clearance = std::numeric_limits<float>::infinity();
    grid_.for_each_near(cx, cy, max_aggro_radius_ + kSpawnMargin, [&](uint32_t i) {
      const Locator& m = locators_[i];
      if (m.kind != EntityKind::Monster || !m.alive) return;
      const float d = std::hypot(m.x - cx, m.y - cy);
      clearance = std::min(clearance, d - cfg_.monster_kinds[entities_[i].monster_kind].aggro_radius);
    });
    if (clearance > best) {
      best = clearance;
      x = cx;
      y = cy;
    }
    if (clearance > kSpawnMargin) return;
  }
}

void World::respawn_due() {
  const auto n = static_cast<uint32_t>(entities_.size());
  for (uint32_t i = 0; i < n; ++i) {
    const Entity& e = entities_[i];
    if (!e.alive() && tick_ >= e.respawn_tick_) respawn(i);
  }
}

void World::respawn(uint32_t index) {
  Entity& e = entities_[index];
  float x = e.spawn_x_, y = e.spawn_y_;
  if (e.kind == EntityKind::Player) {
    x = e.respawn_x_;  // chosen when it died (kill)
    y = e.respawn_y_;
    // It stands there this tick, as its respawn_x/y told clients: this tick's move and swing
    // are dropped (a held move goes on from the next input).
    e.input_dx_ = e.input_dy_ = 0;
    e.input_attack_ = false;
    e.protected_until_tick_ = tick_ + spawn_protection_ticks_;
    e.last_combat_tick_ = tick_;
  }
  relocate(index, x, y);
  e.hp = e.max_hp;
  e.target_ = 0;
  if (e.kind == EntityKind::Monster) {
    e.goal_x_ = e.spawn_x_;
    e.goal_y_ = e.spawn_y_;
    start_idle(e);
  } else {
    e.state = EntityState::Idle;
  }
  e.dirty = kDirtyAll;  // reappears: the server sends it whole
  sync(e);
  events_.push_back({EventType::Respawn, 0, e.id, 0, e.x, e.y});
}

}  // namespace skirmish::game
