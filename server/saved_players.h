// Players carried across a restart: on shutdown the daemon writes every player that can
// still be reclaimed (its token, id and state) to a small JSON file; on start it puts them
// back in the world as disconnected players, so a browser that reconnects with its token
// gets its own player back after a restart or an upgrade.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skirmish::server {

struct SavedPlayer {
  std::string token;
  std::uint32_t id = 0;
  std::string name;
  float x = 0, y = 0;
  int hp = 0, score = 0;
};

struct SavedState {
  std::int64_t saved_at_ms = 0;  // wall clock
  std::vector<SavedPlayer> players;
};

// Writes atomically (a temporary file renamed over the old one). Returns an error message.
std::optional<std::string> save_state(const std::string& path, const SavedState& state);

// Reads a file written by save_state. nullopt (and `error` set) when absent or malformed.
std::optional<SavedState> load_state(const std::string& path, std::string& error);

}  // namespace skirmish::server
