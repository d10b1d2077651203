#include "server/player_directory.h"

#include <algorithm>

namespace skirmish::server {

void PlayerDirectory::add(const std::string& token, game::EntityId player) {
  const auto [it, inserted] = players_by_token_.emplace(token, player);
  token_by_player_[player] = &it->first;
}

game::EntityId PlayerDirectory::find(std::string_view token) const {
  const auto it = players_by_token_.find(std::string(token));
  return it == players_by_token_.end() ? 0 : it->second;
}

const std::string* PlayerDirectory::token_of(game::EntityId player) const {
  const auto it = token_by_player_.find(player);
  return it == token_by_player_.end() ? nullptr : it->second;
}

ViewerId PlayerDirectory::attach(game::EntityId player, ViewerId viewer) {
  stop_waiting(player);
  ViewerId& slot = owner_[player];
  const ViewerId previous = slot == viewer ? 0 : slot;
  slot = viewer;
  holds_[player] = ++holds_given_;
  return previous;
}

std::uint64_t PlayerDirectory::hold(game::EntityId player) const {
  const auto it = holds_.find(player);
  return it == holds_.end() ? 0 : it->second;
}

ViewerId PlayerDirectory::owner(game::EntityId player) const {
  const auto it = owner_.find(player);
  return it == owner_.end() ? 0 : it->second;
}

void PlayerDirectory::detach(game::EntityId player, std::uint64_t expires_ms, std::string_view from,
                             std::size_t max_away_per_address) {
  owner_.erase(player);
  stop_waiting(player);
  holds_[player] = ++holds_given_;
  const bool counted = max_away_per_address > 0 && !from.empty();
  detached_[player] = Away{expires_ms, counted ? std::string(from) : std::string()};
  if (!counted) return;
  std::deque<game::EntityId>& away = away_from_[std::string(from)];
  away.push_back(player);
  while (away.size() > max_away_per_address) {
    Away& oldest = detached_.at(away.front());
    oldest.expires_ms = 0;  // its place goes back at the next take_expired
    oldest.from.clear();
    away.pop_front();
  }
}

void PlayerDirectory::stop_waiting(game::EntityId player) {
  const auto it = detached_.find(player);
  if (it == detached_.end()) return;
  if (!it->second.from.empty()) {
    const auto list = away_from_.find(it->second.from);
    auto& away = list->second;
    away.erase(std::find(away.begin(), away.end(), player));
    if (away.empty()) away_from_.erase(list);
  }
  detached_.erase(it);
}

std::vector<game::EntityId> PlayerDirectory::take_expired(std::uint64_t now_ms) {
  std::vector<game::EntityId> expired;
  for (const auto& [player, away] : detached_) {
    if (away.expires_ms <= now_ms) expired.push_back(player);
  }
  for (const game::EntityId p : expired) forget(p);
  return expired;
}

void PlayerDirectory::forget(game::EntityId player) {
  owner_.erase(player);
  holds_.erase(player);
  stop_waiting(player);
  if (const auto it = token_by_player_.find(player); it != token_by_player_.end()) {
    players_by_token_.erase(players_by_token_.find(*it->second));  // by iterator: the key is the node's own
    token_by_player_.erase(it);
  }
}

SavedState PlayerDirectory::snapshot(const game::World& world, std::int64_t now_wall_ms) const {
  SavedState state;
  state.saved_at_ms = now_wall_ms;
  for (const auto& [player, token] : token_by_player_) {
    const game::Entity* e = world.find(player);
    if (!e) continue;
    state.players.push_back({*token, e->id, e->name, e->x, e->y, e->hp, e->score, {}, hold(player)});
  }
  return state;
}

std::optional<SavedPlayer> PlayerDirectory::record(const game::World& world, game::EntityId player) const {
  const auto it = token_by_player_.find(player);
  const game::Entity* e = world.find(player);
  if (it == token_by_player_.end() || !e) return std::nullopt;
  return SavedPlayer{*it->second, e->id, e->name, e->x, e->y, e->hp, e->score, {}, hold(player)};
}

std::size_t PlayerDirectory::restore(const SavedState& state, game::World& world, std::uint64_t expires_ms) {
  std::size_t restored = 0;
  for (const auto& p : state.players) {
    if (players_by_token_.count(p.token)) continue;
    const game::EntityId id = world.restore_player(p.name, p.x, p.y, p.hp, p.score);
    if (id == 0) continue;
    add(p.token, id);
    world.set_away(id, true);
    detached_[id] = Away{expires_ms, {}};
    restored++;
  }
  return restored;
}

}  // namespace skirmish::server
