#include "game/game_config.h"

#include <cmath>
#include <cstdint>

namespace skirmish::game {

std::vector<MonsterKind> default_monster_kinds() {
  return {
      // name, speed, max_hp, damage, attack_range, aggro, leash, cooldown, respawn, weight,
      // camp_distance. In the default 3200 x 3200 world the camp's edge is 250 from its
      // centre: a wolf wandering 150 from a spawn 850 away notices a player 220 from it, so
      // the first 200 or so beyond the edge belong to slimes; ogres keep beyond 1100.
      {"slime", 60, 40, 5, 50, 120, 400, 1200, 8000, 5, 0},
      {"wolf", 170, 60, 8, 60, 220, 700, 800, 10000, 3, 850},
      {"ogre", 90, 250, 25, 80, 160, 500, 2000, 20000, 2, 1100},
  };
}

namespace {

bool positive_finite(float v) { return std::isfinite(v) && v > 0; }
bool non_negative_finite(float v) { return std::isfinite(v) && v >= 0; }

}  // namespace

std::optional<std::string> validate_config(const GameConfig& cfg) {
  // Tick counts are 64-bit, but ms * tick_rate must not overflow an int64 either.
  if (cfg.tick_rate <= 0 || cfg.tick_rate > 1000) return "tick_rate must be in 1..1000";
  if (!positive_finite(cfg.world_width) || !positive_finite(cfg.world_height))
    return "world_width and world_height must be positive";
  if (cfg.monster_count < 0) return "monster_count must be >= 0";
  if (cfg.monster_kinds.size() > UINT16_MAX) return "too many monster_kinds";
  int64_t total_weight = 0;
  for (const MonsterKind& k : cfg.monster_kinds) {
    if (!non_negative_finite(k.speed) || k.max_hp <= 0 || k.damage < 0 ||
        !non_negative_finite(k.attack_range) || !non_negative_finite(k.aggro_radius) ||
        !non_negative_finite(k.leash_range) || k.attack_cooldown_ms < 0 ||
        k.respawn_ms < 0 || k.weight < 0 || !non_negative_finite(k.camp_distance))
      return "monster kind '" + k.name + "' has a negative or invalid field";
    total_weight += k.weight;
  }
  if (cfg.monster_count > 0 && total_weight <= 0)
    return "monster_count > 0 needs at least one monster kind with weight > 0";
  if (total_weight > INT32_MAX) return "monster kind weights are too large";
  if (!non_negative_finite(cfg.player_speed)) return "player_speed must be >= 0";
  if (cfg.player_max_hp <= 0) return "player_max_hp must be > 0";
  if (cfg.player_damage < 0) return "player_damage must be >= 0";
  if (!non_negative_finite(cfg.player_attack_range)) return "player_attack_range must be >= 0";
  if (cfg.player_attack_cooldown_ms < 0 || cfg.player_respawn_ms < 0)
    return "player cooldown and respawn delay must be >= 0";
  if (cfg.player_regen_per_second < 0 || cfg.player_regen_delay_ms < 0 || cfg.spawn_protection_ms < 0)
    return "player regeneration and spawn protection must be >= 0";
  if (!non_negative_finite(cfg.safe_zone_radius)) return "safe_zone_radius must be >= 0";
  if (cfg.max_players < 0) return "max_players must be >= 0";
  if (cfg.obstacle_count < 0) return "obstacle_count must be >= 0";
  for (const Obstacle& o : cfg.obstacles)
    if (!std::isfinite(o.x) || !std::isfinite(o.y) || !positive_finite(o.w) || !positive_finite(o.h))
      return "obstacles need finite positions and positive sizes";
  if (!positive_finite(cfg.grid_cell_size)) return "grid_cell_size must be > 0";
  if (!non_negative_finite(cfg.monster_wander_radius)) return "monster_wander_radius must be >= 0";
  return std::nullopt;
}

}  // namespace skirmish::game
