#include "game/world.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "game/collision.h"
#include "game/tick_rates.h"

namespace skirmish::game {

World::World(GameConfig cfg, uint64_t seed) : cfg_(std::move(cfg)), rng_(seed) {
  if (auto error = validate_config(cfg_)) throw std::invalid_argument("GameConfig: " + *error);

  const int rate = cfg_.tick_rate;
  for (const MonsterKind& k : cfg_.monster_kinds) {
    kind_ticks_.push_back({per_tick(k.speed, rate), per_tick(k.speed, rate) * 0.5f,
                           ms_to_ticks(k.attack_cooldown_ms, rate), ms_to_ticks(k.respawn_ms, rate)});
    max_aggro_radius_ = std::max(max_aggro_radius_, k.aggro_radius);
  }
  player_step_ = per_tick(cfg_.player_speed, rate);
  player_cooldown_ticks_ = ms_to_ticks(cfg_.player_attack_cooldown_ms, rate);
  player_respawn_ticks_ = ms_to_ticks(cfg_.player_respawn_ms, rate);
  regen_delay_ticks_ = ms_to_ticks(cfg_.player_regen_delay_ms, rate);
  regen_interval_ticks_ = cfg_.player_regen_per_second > 0
                              ? std::max<uint64_t>(1, static_cast<uint64_t>(rate / cfg_.player_regen_per_second))
                              : 0;
  spawn_protection_ticks_ = cfg_.spawn_protection_ms > 0 ? ms_to_ticks(cfg_.spawn_protection_ms, rate) : 0;
  safe_radius_ = std::min(cfg_.safe_zone_radius, std::min(cfg_.world_width, cfg_.world_height) / 8);

  grid_ = SpatialGrid(cfg_.world_width, cfg_.world_height, cfg_.grid_cell_size);
  generate_obstacles();
  entities_.reserve(static_cast<size_t>(cfg_.monster_count) + static_cast<size_t>(cfg_.max_players));
  locators_.reserve(entities_.capacity());
  index_.reserve(entities_.capacity());
  spawn_random_monsters();
}

uint32_t World::index_of(EntityId id) const {
  auto it = index_.find(id);
  return it == index_.end() ? kNoIndex : it->second;
}

const Entity* World::find(EntityId id) const {
  const uint32_t i = index_of(id);
  return i == kNoIndex ? nullptr : &entities_[i];
}

const Entity* World::find(EntityId id, uint32_t& index_hint) const {
  if (index_hint < entities_.size() && entities_[index_hint].id == id) return &entities_[index_hint];
  index_hint = index_of(id);
  return index_hint == kNoIndex ? nullptr : &entities_[index_hint];
}

Entity* World::find_mutable(EntityId id) {
  const uint32_t i = index_of(id);
  return i == kNoIndex ? nullptr : &entities_[i];
}

EntityId World::allocate_id() {
  // 32-bit ids wrap after 2^32 - 1 entities; a wrapped counter skips 0 and every id still
  // in use, so two entities never share one.
  for (;;) {
    const EntityId id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    if (id != 0 && index_.find(id) == index_.end()) return id;
  }
}

EntityId World::push_entity(Entity e) {
  e.id = allocate_id();
  e.x = clamp_coord(e.x, cfg_.world_width);
  e.y = clamp_coord(e.y, cfg_.world_height);
  e.dirty = kDirtyAll;
  e.pending_dirty_ = kDirtyAll;
  const auto index = static_cast<uint32_t>(entities_.size());
  e.cell_ = grid_.cell_of(e.x, e.y);
  grid_.insert(e.cell_, index);
  index_.emplace(e.id, index);
  if (e.kind == EntityKind::Player) ++player_count_;
  entities_.push_back(std::move(e));
  locators_.emplace_back();
  sync(entities_.back());
  return entities_.back().id;
}

EntityId World::add_player(std::string name) {
  if (player_count_ >= static_cast<size_t>(cfg_.max_players)) return 0;
  float x = 0, y = 0;
  find_safe_spot(x, y);
  return add_player_at(std::move(name), x, y);
}

EntityId World::add_player_at(std::string name, float x, float y) {
  if (player_count_ >= static_cast<size_t>(cfg_.max_players)) return 0;
  Entity e;
  e.kind = EntityKind::Player;
  e.x = x;
  e.y = y;
  e.hp = e.max_hp = cfg_.player_max_hp;
  e.name = std::move(name);
  e.protected_until_tick_ = tick_ + spawn_protection_ticks_;
  e.last_combat_tick_ = tick_;
  return push_entity(std::move(e));
}

EntityId World::restore_player(std::string name, float x, float y, int hp, int score) {
  if (player_count_ >= static_cast<size_t>(cfg_.max_players)) return 0;
  Entity e;
  e.kind = EntityKind::Player;
  // The map may differ from the one the player was saved on (smaller, or with a rock there).
  e.x = std::clamp(x, 0.0f, cfg_.world_width);
  e.y = std::clamp(y, 0.0f, cfg_.world_height);
  if (blocked(e.x, e.y)) find_safe_spot(e.x, e.y);
  e.max_hp = cfg_.player_max_hp;
  e.hp = hp > 0 ? std::min(hp, e.max_hp) : e.max_hp;
  e.score = std::max(score, 0);
  e.name = std::move(name);
  e.protected_until_tick_ = tick_ + spawn_protection_ticks_;
  e.last_combat_tick_ = tick_;
  return push_entity(std::move(e));
}

EntityId World::add_monster_at(uint16_t kind, float x, float y) {
  if (kind >= cfg_.monster_kinds.size()) return 0;
  Entity e;
  e.kind = EntityKind::Monster;
  e.monster_kind = kind;
  e.x = clamp_coord(x, cfg_.world_width);
  e.y = clamp_coord(y, cfg_.world_height);
  e.spawn_x_ = e.goal_x_ = e.x;
  e.spawn_y_ = e.goal_y_ = e.y;
  e.hp = e.max_hp = cfg_.monster_kinds[kind].max_hp;
  // Spawned monsters pause first, each for its own random time, so they do not all
  // start wandering on the same tick.
  e.state_until_tick_ = tick_ + 1 + rng_.below(static_cast<uint32_t>(2 * cfg_.tick_rate));
  return push_entity(std::move(e));
}

bool World::remove_player(EntityId id) {
  const uint32_t i = index_of(id);
  if (i == kNoIndex || entities_[i].kind != EntityKind::Player) return false;
  grid_.erase(entities_[i].cell_, i);
  index_.erase(id);
  const auto last = static_cast<uint32_t>(entities_.size() - 1);
  if (i != last) {
    // Swap-and-pop keeps removal O(1); the moved entity's grid entry and index follow it.
    entities_[i] = std::move(entities_[last]);
    locators_[i] = locators_[last];
    grid_.replace(entities_[i].cell_, last, i);
    index_[entities_[i].id] = i;
  }
  entities_.pop_back();
  locators_.pop_back();
  --player_count_;
  removed_.push_back(id);
  // Monsters chasing this player notice the missing target on their next update.
  return true;
}

bool World::set_position(EntityId id, float x, float y) {
  const uint32_t i = index_of(id);
  if (i == kNoIndex) return false;
  relocate(i, x, y);
  entities_[i].pending_dirty_ |= entities_[i].dirty;
  return true;
}

bool World::set_hp(EntityId id, int hp) {
  Entity* e = find_mutable(id);
  if (e == nullptr || !e->alive()) return false;
  e->hp = std::clamp(hp, 0, e->max_hp);
  e->dirty |= kDirtyHp;
  if (e->hp == 0) kill(*e, nullptr, 0);
  e->pending_dirty_ |= e->dirty;
  return true;
}

bool World::set_away(EntityId id, bool away) {
  Entity* e = find_mutable(id);
  if (e == nullptr || e->kind != EntityKind::Player) return false;
  if (e->away == away) return true;
  e->away = away;
  e->pending_dirty_ |= kDirtyAway;
  // Back from away: the monsters that were ignoring it do not pounce that same tick.
  if (!away) e->protected_until_tick_ = std::max(e->protected_until_tick_, tick_ + spawn_protection_ticks_);
  return true;
}

bool World::protect(EntityId id) {
  Entity* e = find_mutable(id);
  if (e == nullptr || e->kind != EntityKind::Player) return false;
  e->protected_until_tick_ = std::max(e->protected_until_tick_, tick_ + spawn_protection_ticks_);
  return true;
}

bool World::in_safe_zone(float x, float y) const {
  const float dx = x - safe_zone_x(), dy = y - safe_zone_y();
  return safe_radius_ > 0 && dx * dx + dy * dy <= safe_radius_ * safe_radius_;
}

bool World::blocked(float x, float y) const { return obstacle_map_.blocked(x, y); }

void World::sync(const Entity& e) {
  locators_[static_cast<size_t>(&e - entities_.data())] = {e.x, e.y, e.id, e.kind, e.alive(), e.visible()};
}

void World::clear_dirty() {
  for (Entity& e : entities_) {
    e.dirty = e.pending_dirty_;
    e.pending_dirty_ = 0;
  }
}

const std::vector<Event>& World::step(const std::vector<PlayerInput>& inputs) {
  events_.clear();
  // Removals made between steps are published by this step; older ones were already.
  removed_.erase(removed_.begin(), removed_.begin() + static_cast<ptrdiff_t>(removed_published_));
  clear_dirty();
  apply_inputs(inputs);
  respawn_due();
  // Players act first (in entity order), then monsters: a monster killed by a player
  // this tick does not strike back in the same tick.
  const auto n = static_cast<uint32_t>(entities_.size());
  for (uint32_t i = 0; i < n; ++i)
    if (entities_[i].kind == EntityKind::Player) {
      update_player(i);
      regenerate(entities_[i]);
    }
  for (uint32_t i = 0; i < n; ++i)
    if (entities_[i].kind == EntityKind::Monster) update_monster(i);
  ++tick_;
  removed_published_ = removed_.size();
  return events_;
}

void World::query_visible(float x, float y, float r, std::vector<EntityId>& out) const {
  const size_t first = out.size();
  const float r2 = r * r;
  grid_.for_each_near(x, y, r, [&](uint32_t i) {
    const Locator& e = locators_[i];
    const float dx = e.x - x, dy = e.y - y;
    if (e.visible && dx * dx + dy * dy <= r2) out.push_back(e.id);
  });
  std::sort(out.begin() + static_cast<ptrdiff_t>(first), out.end());
}

void World::query_visible(float x, float y, float r, std::vector<VisibleRef>& out) const {
  const size_t first = out.size();
  const float r2 = r * r;
  grid_.for_each_near(x, y, r, [&](uint32_t i) {
    const Locator& e = locators_[i];
    const float dx = e.x - x, dy = e.y - y;
    if (e.visible && dx * dx + dy * dy <= r2) out.push_back({e.id, i});
  });
  std::sort(out.begin() + static_cast<ptrdiff_t>(first), out.end(), VisibleRef::ById{});
}

namespace {

// FNV-1a over explicit fields (never whole structs: padding bytes are indeterminate).
class Hasher {
 public:
  template <class T>
  void add(const T& v) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    add_bytes(bytes, sizeof(T));
  }
  void add(const std::string& s) {
    add(s.size());
    add_bytes(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  }
  uint64_t value() const { return h_; }

 private:
  void add_bytes(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ULL;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

uint64_t World::state_hash() const {
  Hasher h;
  h.add(tick_);
  h.add(next_id_);
  for (uint64_t word : rng_.state()) h.add(word);
  h.add(entities_.size());
  for (const Entity& e : entities_) {
    h.add(e.id);
    h.add(static_cast<uint8_t>(e.kind));
    h.add(e.monster_kind);
    h.add(e.x);
    h.add(e.y);
    h.add(e.facing);
    h.add(e.hp);
    h.add(e.max_hp);
    h.add(static_cast<uint8_t>(e.state));
    h.add(e.score);
    h.add(e.name);
    h.add(e.dirty);
    h.add(e.spawn_x_);
    h.add(e.spawn_y_);
    h.add(e.goal_x_);
    h.add(e.goal_y_);
    h.add(e.target_);
    h.add(e.next_attack_tick_);
    h.add(e.respawn_tick_);
    h.add(e.state_until_tick_);
    h.add(e.away);
    h.add(e.respawn_x_);
    h.add(e.respawn_y_);
    h.add(e.protected_until_tick_);
    h.add(e.last_combat_tick_);
  }
  for (const Event& ev : events_) {
    h.add(static_cast<uint8_t>(ev.type));
    h.add(ev.attacker);
    h.add(ev.target);
    h.add(ev.damage);
    h.add(ev.x);
    h.add(ev.y);
  }
  return h.value();
}

}  // namespace skirmish::game
