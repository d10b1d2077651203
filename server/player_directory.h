// Who owns which player: the reconnect token of each player, the viewer it is attached to,
// and the players whose viewer went away and who wait for their token until a deadline.
// Pure bookkeeping (times are passed in; no loop, no sockets), so it is unit-tested alone;
// it touches the world only to save and restore players.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "game/world.h"
#include "server/saved_players.h"
#include "server/viewer_id.h"

namespace skirmish::server {

class PlayerDirectory {
 public:
  // A new player with its token.
  void add(const std::string& token, game::EntityId player);
  // The player a token names, or 0.
  game::EntityId find(std::string_view token) const;
  // The token of a player (nullptr: not in the directory).
  const std::string* token_of(game::EntityId player) const;

  // `viewer` controls `player` from now on (a join or a resume); the player is no longer
  // waiting for its token. Returns the viewer that controlled it until now, or 0: the newest
  // connection wins, and the one it replaced is told so by the caller.
  ViewerId attach(game::EntityId player, ViewerId viewer);
  // The viewer that controls `player`, or 0.
  ViewerId owner(game::EntityId player) const;
  // Which hold of the player this is: a number that changes each time a viewer takes it or
  // lets it go, never the same twice (0: not held since it was added or restored). A fleet
  // answer about a copy as it was held then applies only while this has not changed.
  std::uint64_t hold(game::EntityId player) const;
  // The player's viewer is gone: it can be reclaimed with its token until `expires_ms`.
  // `from` is its client's address: one address keeps at most `max_away_per_address` players
  // away (0: any number), and past that its player away the longest expires at once (at the
  // next take_expired). Else one client that joins and drops in a loop fills the world with
  // away players nobody will reclaim, and locks everyone else out for the reconnect window.
  void detach(game::EntityId player, std::uint64_t expires_ms, std::string_view from = {},
              std::size_t max_away_per_address = 0);
  bool is_detached(game::EntityId player) const { return detached_.count(player) != 0; }
  // Players whose reconnect window has ended at `now_ms`, taken out of the directory.
  std::vector<game::EntityId> take_expired(std::uint64_t now_ms);
  // Forgets the player (it left, or the world removed it).
  void forget(game::EntityId player);

  // Players attached to a viewer: what frames report as online.
  std::size_t online() const { return owner_.size(); }
  std::size_t size() const { return token_by_player_.size(); }

  // Every player of the directory still in `world`, as the state file holds them.
  SavedState snapshot(const game::World& world, std::int64_t now_wall_ms) const;
  // One player of the directory as the state file holds it (its world left empty), or nullopt.
  std::optional<SavedPlayer> record(const game::World& world, game::EntityId player) const;
  // Puts saved players back into `world` as away players, reclaimable until `expires_ms`;
  // a token already known is skipped. Returns how many came back.
  std::size_t restore(const SavedState& state, game::World& world, std::uint64_t expires_ms);

 private:
  std::unordered_map<std::string, game::EntityId> players_by_token_;
  // Points at the key in players_by_token_ (map keys never move): one copy of each token.
  std::unordered_map<game::EntityId, const std::string*> token_by_player_;
  struct Away {
    std::uint64_t expires_ms = 0;  // loop ms
    std::string from;              // counted in away_from_ under this address; empty: not counted
  };
  // Ends a player's wait: it is no longer counted against its address.
  void stop_waiting(game::EntityId player);

  std::unordered_map<game::EntityId, ViewerId> owner_;  // attached players
  std::unordered_map<game::EntityId, std::uint64_t> holds_;
  std::uint64_t holds_given_ = 0;
  std::unordered_map<game::EntityId, Away> detached_;
  // Per address, its counted away players, the longest away first.
  std::unordered_map<std::string, std::deque<game::EntityId>> away_from_;
};

}  // namespace skirmish::server
