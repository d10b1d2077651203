#include "server/world_placement.h"

namespace skirmish::server {

std::optional<std::size_t> place_player(const std::vector<WorldLoad>& worlds, std::size_t lively) {
  std::optional<std::size_t> liveliest;
  for (std::size_t i = 0; i < worlds.size(); ++i) {
    if (worlds[i].players >= lively || worlds[i].players >= worlds[i].capacity) continue;
    if (!liveliest || worlds[i].players > worlds[*liveliest].players) liveliest = i;
  }
  if (liveliest) return liveliest;
  std::optional<std::size_t> best;
  std::size_t best_room = 0;
  for (std::size_t i = 0; i < worlds.size(); ++i) {
    const std::size_t room = worlds[i].players < worlds[i].capacity ? worlds[i].capacity - worlds[i].players : 0;
    if (room > best_room) {
      best = i;
      best_room = room;
    }
  }
  return best;
}

}  // namespace skirmish::server
