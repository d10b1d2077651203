#pragma once

#include <optional>
#include <string>
#include <vector>

namespace skirmish::game {

// One kind of monster. Speeds are in world units per second and times in milliseconds;
// the World converts them to per-tick values once, so the simulation only counts ticks.
struct MonsterKind {
  std::string name;
  float speed = 0;           // chase speed; wandering uses half of it
  int max_hp = 1;
  int damage = 0;            // per hit
  float attack_range = 0;    // hits a target within this distance
  float aggro_radius = 0;    // notices living players within this distance
  float leash_range = 0;     // gives up once its target is this far from the monster's spawn
  int attack_cooldown_ms = 1000;
  int respawn_ms = 10000;
  int weight = 1;            // relative share of the random spawns
  // Random spawns of this kind keep at least this far from the camp's centre (0: anywhere
  // outside the camp's margin), so that difficulty grows with the distance from the camp:
  // a newcomer stepping out meets slimes first, not a wolf pack or an ogre. Without a camp
  // (safe_zone_radius 0) it is not used.
  float camp_distance = 0;
};

// An axis-aligned rectangle no entity may enter. Its edges count as outside, so an
// entity can stand flush against a wall.
struct Obstacle {
  float x, y, w, h;
};

// Slime, wolf and ogre: a weak common one, a fast one the player can still outrun
// (170 < player_speed 200) and a rare tank that punishes standing still; wolves keep
// farther from the camp than slimes, ogres farther still.
std::vector<MonsterKind> default_monster_kinds();

struct GameConfig {
  int tick_rate = 20;  // Hz; every speed and delay below is converted with it
  float world_width = 3200, world_height = 3200;
  int monster_count = 200;  // random spawns; about 1 per 230x230 units at the default size
  std::vector<MonsterKind> monster_kinds = default_monster_kinds();
  float player_speed = 200;
  int player_max_hp = 100;
  int player_damage = 20;  // two hits kill a slime, three a wolf
  float player_attack_range = 80;
  int player_attack_cooldown_ms = 500;
  int player_respawn_ms = 3000;
  // Out of combat (no hit taken or dealt for player_regen_delay_ms) a player heals this
  // many hp a second: a careful newcomer recovers between fights instead of wearing down.
  int player_regen_per_second = 5;
  int player_regen_delay_ms = 4000;
  // After joining or respawning, monsters ignore a player this long (until it attacks):
  // time to look around before the first wolf arrives.
  int spawn_protection_ms = 3000;
  // A camp around the world's centre where players (re)spawn: no monster spawns or wanders
  // there, and none attacks a player inside it (a chase ends at its edge). At most an
  // eighth of the world's shorter side; 0 = none.
  float safe_zone_radius = 250;
  int max_players = 10000;
  int obstacle_count = 12;  // 0 = open field; ignored when `obstacles` is not empty
  // Explicit obstacle layout (scenarios, tests); when non-empty it replaces the random ones.
  std::vector<Obstacle> obstacles;
  // Cell edge of the spatial grid: about the largest aggro radius, so an aggro query
  // touches at most 3x3 cells.
  float grid_cell_size = 200;
  // Monsters pick wander goals within this distance of their spawn (0 = they stand still).
  float monster_wander_radius = 150;
};

// Returns a description of the first invalid field, or nullopt if the config is usable.
std::optional<std::string> validate_config(const GameConfig& cfg);

}  // namespace skirmish::game
