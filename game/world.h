#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "game/collision.h"
#include "game/entity.h"
#include "game/events.h"
#include "game/game_config.h"
#include "game/rng.h"
#include "game/spatial_grid.h"

namespace skirmish::game {

// The whole simulation: a plain value with no clock, I/O or globals. Time advances only
// through step(), randomness only through the seeded Rng it owns, so the same seed and
// the same calls give the same states, tick for tick. Copying a World forks it.
class World {
 public:
  // Throws std::invalid_argument if validate_config(cfg) reports a problem.
  World(GameConfig cfg, uint64_t seed);

  const GameConfig& config() const { return cfg_; }
  // Number of completed steps.
  uint64_t tick() const { return tick_; }

  // Adds a player with full hp at a safe spot: outside obstacles and, if any such spot
  // is found, outside every living monster's aggro radius. Returns 0 if max_players
  // players are already in the world. The entity is kDirtyAll until after the next step.
  EntityId add_player(std::string name);
  // Removes a player (it left); its id is listed in removed() and not reused until the
  // 32-bit id counter wraps.
  // Returns false if `id` is not a player in this world.
  bool remove_player(EntityId id);
  // A player carried over from an earlier run of the server (its saved state): the same
  // name, position (moved to a safe spot if that is now inside an obstacle), hp and score,
  // under a new id (the saved one may belong to a monster of this run). The caller checks
  // the name as a join would. Returns 0 when the world is full.
  EntityId restore_player(std::string name, float x, float y, int hp, int score);

  // Advances exactly one tick. Inputs are applied in order; with several inputs for one
  // player the direction of the last one moves it and attack is the OR of all. Inputs
  // for unknown ids or monsters are ignored. Inputs do not persist: a player without
  // input this tick stands still. Clears and refills dirty bits and events; the returned
  // events stay valid until the next step().
  const std::vector<Event>& step(const std::vector<PlayerInput>& inputs);
  // The events of the last step().
  const std::vector<Event>& events() const { return events_; }

  // nullptr if there is no such entity.
  const Entity* find(EntityId id) const;
  // The same, with an index the caller keeps between calls: while the entity stays at that
  // place in entities() (it moves only when another is removed) no hash lookup is made.
  const Entity* find(EntityId id, uint32_t& index_hint) const;
  // Every entity, monsters first in spawn order, then players in join order except that
  // a removal moves the last entity into the hole. The order is deterministic.
  const std::vector<Entity>& entities() const { return entities_; }
  // Ids removed by the last step() or by remove_player() since then (players who left).
  const std::vector<EntityId>& removed() const { return removed_; }

  // Appends to `out`, sorted ascending, the ids of visible entities whose position is
  // within Euclidean distance r of (x, y), inclusive. Visits only nearby grid cells.
  void query_visible(float x, float y, float r, std::vector<EntityId>& out) const;
  // The same query, with each entity's index in entities() (valid until the next change to
  // the world), sorted by id: callers that then read the entities skip an id lookup each.
  struct VisibleRef {
    EntityId id;
    uint32_t index;
    // A function object, not a function: std::sort inlines it (through a function pointer
    // every comparison was a call, 5 % of the daemon's CPU at 1,000 idle clients).
    struct ById {
      bool operator()(const VisibleRef& a, const VisibleRef& b) const { return a.id < b.id; }
    };
  };
  void query_visible(float x, float y, float r, std::vector<VisibleRef>& out) const;

  const std::vector<Obstacle>& obstacles() const { return obstacle_map_.obstacles(); }
  size_t player_count() const { return player_count_; }
  size_t monster_count() const { return entities_.size() - player_count_; }

  // A hash of every entity's full state (internal fields included), the tick and the
  // Rng, for determinism tests. Equal worlds hash equal on the same build.
  uint64_t state_hash() const;

  // True if (x, y) lies inside an obstacle.
  bool blocked(float x, float y) const;
  // The spawn camp (see GameConfig::safe_zone_radius): centre and effective radius (0: none).
  float safe_zone_x() const { return cfg_.world_width / 2; }
  float safe_zone_y() const { return cfg_.world_height / 2; }
  float safe_zone_radius() const { return safe_radius_; }
  bool in_safe_zone(float x, float y) const;

  // Marks a player as away (its client disconnected; it waits for its token) or back.
  // Monsters ignore an away player and it cannot be hurt. Returns false if `id` is not a
  // player.
  bool set_away(EntityId id, bool away);
  // Gives a player spawn protection again (from now, or longer if it has more left): its
  // client came back with its token, from away or taking it over from a connection that was
  // still open (another tab, a socket half-dead after a network change). Returns false if
  // `id` is not a player.
  bool protect(EntityId id);

  // --- Scenario and test helpers: place entities exactly, bypassing the random spawns.
  // Adds a player at (x, y) (clamped to the world); 0 if max_players is reached.
  EntityId add_player_at(std::string name, float x, float y);
  // Adds a monster of `kind` whose spawn (home) is (x, y); 0 if `kind` is out of range.
  EntityId add_monster_at(uint16_t kind, float x, float y);
  // Teleports an entity (clamped to the world; obstacles are not checked). For a
  // monster the spawn point stays where it was. Returns false if `id` is unknown.
  bool set_position(EntityId id, float x, float y);
  // Sets hp, clamped to [0, max_hp]; 0 kills the entity (no event, respawn timer runs).
  // Returns false if `id` is unknown or already dead.
  bool set_hp(EntityId id, int hp);

 private:
  // The few fields queries test, mirrored from entities_ (same index) in 16 bytes, so a
  // grid query reads one compact array instead of missing the cache on every ~150-byte
  // Entity it rejects. sync() must follow every change of position, state or index.
  struct Locator {
    float x, y;
    EntityId id;
    EntityKind kind;
    bool alive;
    bool visible;
  };

  // Config values converted to ticks once (see tick_rates.h).
  struct KindTicks {
    float step;            // chase distance per tick
    float wander_step;     // wander distance per tick
    uint64_t cooldown;     // ticks between hits
    uint64_t respawn;      // ticks dead
  };

  // world.cpp: bookkeeping.
  uint32_t index_of(EntityId id) const;  // kNoIndex if unknown
  EntityId allocate_id();
  EntityId push_entity(Entity e);
  Entity* find_mutable(EntityId id);
  void clear_dirty();
  void sync(const Entity& e);

  // world_spawn.cpp: placement of obstacles, monsters and players; respawns.
  void generate_obstacles();
  void random_obstacles(std::vector<Obstacle>& out);
  void spawn_random_monsters();
  uint16_t pick_monster_kind();
  bool random_open_spot(float margin, float& x, float& y);
  void find_safe_spot(float& x, float& y);
  void respawn_due();
  void respawn(uint32_t index);

  // player_control.cpp: inputs, player movement and attacks, regeneration.
  void apply_inputs(const std::vector<PlayerInput>& inputs);
  void update_player(uint32_t index);
  void regenerate(Entity& p);
  // Whether monsters may pick or keep `p` as a target now.
  bool attackable(const Entity& p) const;
  uint32_t nearest_living_monster(const Entity& from, float range) const;

  // monster_ai.cpp: the monster state machine.
  void update_monster(uint32_t index);
  bool try_aggro(uint32_t index);
  void chase(uint32_t index);
  void begin_return(Entity& m);
  void arrive_home(Entity& m);
  void start_idle(Entity& m);

  // combat.cpp: hits, deaths and the movement primitive they share.
  void hit(Entity& attacker, Entity& target, int damage);
  void kill(Entity& victim, Entity* killer, int damage);
  // Moves entity `index` by (dx, dy) with bounds and obstacles, keeping the grid and
  // the dirty bits in step. Returns whether the position changed.
  bool move_entity(uint32_t index, float dx, float dy);
  void relocate(uint32_t index, float x, float y);
  static void set_state(Entity& e, EntityState state);
  static void set_facing(Entity& e, float dx, float dy);

  static constexpr uint32_t kNoIndex = UINT32_MAX;

  GameConfig cfg_;
  Rng rng_;
  uint64_t tick_ = 0;
  EntityId next_id_ = 1;
  std::vector<KindTicks> kind_ticks_;
  float player_step_ = 0;
  uint64_t player_cooldown_ticks_ = 1;
  uint64_t player_respawn_ticks_ = 1;
  uint64_t regen_delay_ticks_ = 1;
  uint64_t regen_interval_ticks_ = 0;  // ticks per hp healed; 0: no regeneration
  uint64_t spawn_protection_ticks_ = 0;
  float safe_radius_ = 0;
  float max_aggro_radius_ = 0;

  ObstacleMap obstacle_map_;
  std::vector<Entity> entities_;
  std::vector<Locator> locators_;  // locators_[i] mirrors entities_[i]
  // Lookup only, never iterated, so its unspecified order cannot leak into results.
  std::unordered_map<EntityId, uint32_t> index_;
  size_t player_count_ = 0;
  SpatialGrid grid_;

  std::vector<Event> events_;
  std::vector<EntityId> removed_;
  size_t removed_published_ = 0;  // leading entries of removed_ already returned by a step
};

}  // namespace skirmish::game
