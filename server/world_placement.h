// Where a player who names no world goes: to company first. Worlds under a lively size are
// filled before the next one gets anyone (a fight needs company), the fullest of them first,
// so that an empty world does not get a newcomer while another has a fight going; once all
// are lively, evenly, never past a world's capacity. Pure (counts in, an index out), so it is
// unit-tested alone.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace skirmish::server {

struct WorldLoad {
  std::size_t players = 0;   // in the world now (away ones too: their seats are taken)
  std::size_t capacity = 0;  // game.max_players
};

// Of the worlds with fewer than `lively` players and room, the one with the most players (the
// first of equals: all empty, the first); else the one with the most room left (the first of
// equals); nullopt when every world is full.
std::optional<std::size_t> place_player(const std::vector<WorldLoad>& worlds, std::size_t lively);

}  // namespace skirmish::server
