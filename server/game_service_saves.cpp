// The players kept across restarts: every player's record (for the state file, and for the
// fleet's records in Redis), the save at a stop and the restore at start. Kept apart from
// game_service.cpp, which places, joins and routes viewers, so each file has one job.
#include "server/game_service.h"

#include <spdlog/spdlog.h>

#include <string>
#include <unordered_set>

#include "server/saved_players.h"
#include "server/wall_clock.h"

namespace skirmish::server {

std::vector<SavedPlayer> GameService::player_records(bool online_only, std::uint64_t now_ms) const {
  std::vector<SavedPlayer> out;
  for (const auto& w : worlds_) {
    for (auto& p : w->directory().snapshot(w->world(), now_ms).players) {
      if (online_only && w->directory().owner(p.id) == 0) continue;
      p.world = w->name();
      out.push_back(std::move(p));
    }
  }
  return out;
}

void GameService::restore_saved_players() {
  const std::string& path = config_.session.state_file;
  if (path.empty()) return;
  std::string error;
  const std::uintmax_t max_bytes =
      kMaxSavedPlayerBytes * static_cast<std::uintmax_t>(config_.game.max_players) * worlds_.size() + 4096;
  auto state = load_state(path, max_bytes, error);
  if (!state) {
    if (error == "no file") return;
    // Kept aside rather than overwritten by this run's save: an operator may want it back.
    const std::string aside = path + ".rejected";
    const bool kept = !move_aside(path, aside);
    spdlog::warn("ignoring saved players in {}: {}{}", path, error, kept ? " (kept as " + aside + ")" : "");
    return;
  }
  // Read once: a run that ends without saving (a crash, kill -9) must not bring these players
  // back again at its restart, as they were before this run (hp, score, players who left since).
  if (const auto why = move_aside(path, path + ".restored")) {
    spdlog::warn("{}: {}: a restart without a save in between would restore it again", path, *why);
  }
  if (state->skipped > 0) {
    spdlog::warn("{}: skipped {} saved player(s) that a join would refuse", path, state->skipped);
  }
  // Older than the reconnect window: nobody could have reclaimed these players anyway.
  const std::int64_t age_ms = wall_clock_ms() - state->saved_at_ms;
  if (age_ms < -60'000) {
    spdlog::warn("{}: saved {} s in the future by this machine's clock (was it set back?); restored all the same",
                 path, -age_ms / 1000);
  }
  if (age_ms > config_.session.reconnect_window_ms) {
    if (state->players.empty()) return;
    spdlog::warn("{}: {} saved player(s) not restored: saved {} s ago, past game.reconnect_window_ms ({} s)", path,
                 state->players.size(), age_ms / 1000, config_.session.reconnect_window_ms / 1000);
    return;
  }
  const std::uint64_t expires = server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms);
  // A token is one player: a file that names one twice (edited by hand, or two merged) gets
  // the first, or the second could never be reached and would hold a seat until it expired.
  std::unordered_set<std::string_view> tokens;
  std::size_t duplicates = 0;
  // Each back in its own world first; then those saved in a world this run does not have (it
  // runs fewer) are placed as a new player would be, so the worlds fill evenly and none past
  // its capacity.
  std::vector<SavedState> per_world(worlds_.size());
  std::vector<const SavedPlayer*> homeless;
  for (const auto& p : state->players) {
    if (!tokens.insert(p.token).second) {
      duplicates++;
      continue;
    }
    std::optional<std::size_t> at;
    for (std::size_t w = 0; w < worlds_.size(); ++w) {
      if (worlds_[w]->name() == p.world || (p.world.empty() && w == 0)) at = w;
    }
    if (at) {
      per_world[*at].players.push_back(p);
    } else {
      homeless.push_back(&p);
    }
  }
  std::size_t restored = 0;
  for (std::size_t w = 0; w < worlds_.size(); ++w) {
    restored += worlds_[w]->directory().restore(per_world[w], worlds_[w]->world(), expires);
  }
  std::vector<WorldLoad> loads;
  for (const auto& w : worlds_) loads.push_back(w->load());
  std::size_t placed_elsewhere = 0;
  for (const SavedPlayer* p : homeless) {
    const auto at = place_player(loads, static_cast<std::size_t>(config_.session.lively_players));
    if (!at) break;  // every world is full
    SavedState one;
    one.players.push_back(*p);
    if (worlds_[*at]->directory().restore(one, worlds_[*at]->world(), expires) == 0) continue;
    loads[*at].players++;
    placed_elsewhere++;
  }
  restored += placed_elsewhere;
  spdlog::info("restored {} player(s) saved in {}{}", restored, path,
               placed_elsewhere ? fmt::format(" ({} of them from worlds this run does not have, placed in others)",
                                              placed_elsewhere)
                                : std::string());
  if (duplicates > 0) {
    spdlog::warn("{}: {} saved player(s) with a token named earlier in the file were left out", path, duplicates);
  }
  if (const std::size_t lost = state->players.size() - duplicates - restored; lost > 0) {
    spdlog::warn("{}: {} saved player(s) did not fit (game.max_players) and are lost", path, lost);
  }
}

bool GameService::save_players() const {
  const std::string& path = config_.session.state_file;
  if (path.empty()) return true;
  SavedState state;
  state.saved_at_ms = wall_clock_ms();
  state.players = player_records(false, state.saved_at_ms);
  if (auto error = save_state(path, state)) {
    spdlog::error("could not save {} player(s): {}", state.players.size(), *error);
    return false;
  }
  spdlog::info("saved {} player(s) to {}", state.players.size(), path);
  return true;
}

}  // namespace skirmish::server
