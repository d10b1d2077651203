// Players carried across a restart: on shutdown the daemon writes every player that can
// still be reclaimed (its token, id and state) to a small JSON file; on start it puts them
// back in the world as disconnected players, so a browser that reconnects with its token
// gets its own player back after a restart or an upgrade.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skirmish::server {

struct SavedPlayer {
  std::string token;
  std::uint32_t id = 0;  // written for readers of the file; a restored player gets a new id
  std::string name;
  float x = 0, y = 0;
  int hp = 0, score = 0;
  std::string world;  // the world it was in; empty (a file from before worlds): the first
  // Not saved: the directory's hold of the player when the record was taken
  // (PlayerDirectory::hold). A fleet refresh refused for this record drops the copy only if it
  // is still this one, held as it was then.
  std::uint64_t hold = 0;
};

struct SavedState {
  std::int64_t saved_at_ms = 0;  // wall clock
  std::vector<SavedPlayer> players;
  std::size_t skipped = 0;  // records that were not players as a join would make them
};

// Bytes a saved player takes at most (a 64-character token, a name of at most 96 bytes that
// JSON may escape to three bytes a byte, numbers and keys), so a file over max_players of these is
// not ours.
constexpr std::uintmax_t kMaxSavedPlayerBytes = 512;

// One player as the state file (and the fleet's player records) hold it.
nlohmann::json player_to_json(const SavedPlayer& p);
// One record, checked as a join is (see load_state); nullopt when it is not a player a join
// could make.
std::optional<SavedPlayer> player_from_json(const nlohmann::json& p);

// Writes atomically and durably: a temporary file, fsync'ed, renamed over the old one,
// and the folder fsync'ed so the rename survives a power cut. Returns an error message.
std::optional<std::string> save_state(const std::string& path, const SavedState& state);

// Renames `path` to `to` durably (the folder fsync'ed, so that after a power cut the old name
// does not come back). Returns the OS's reason when it could not.
std::optional<std::string> move_aside(const std::string& path, const std::string& to);

// Reads a file written by save_state, of at most `max_bytes`. Each record is checked as a
// `join` would be: a token of 1 to 64 characters, a name with something visible (cleaned
// and cut as a join's is), finite coordinates, hp and score from 0 to 2^31-1; others are
// skipped and counted. nullopt (and `error` set) when the file is absent ("no file"),
// unreadable, too large or malformed.
std::optional<SavedState> load_state(const std::string& path, std::uintmax_t max_bytes, std::string& error);

}  // namespace skirmish::server
