#include "server/stats_history.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace skirmish::server {

namespace {
double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
}  // namespace

void StatsHistory::sample(std::int64_t now_ms, std::size_t players, std::size_t connections,
                          const StatsTotals& totals, const SendState& send) {
  StatsSample s;
  s.t_ms = now_ms;
  s.players = players;
  s.connections = connections;
  s.tick_p50_ms = percentile(tick_ms_, 0.5);
  s.tick_p99_ms = percentile(tick_ms_, 0.99);
  tick_ms_.clear();
  s.send_level = send.level;
  s.k_players = send.k_players;
  s.k_watchers = send.k_watchers;
  if (last_ms_ != 0 && now_ms > last_ms_) {
    const double secs = static_cast<double>(now_ms - last_ms_) / 1000.0;
    s.late_ticks = static_cast<double>(totals.late_ticks - last_.late_ticks);
    s.frames_per_s = static_cast<double>(totals.frames - last_.frames) / secs;
    s.bytes_per_s = static_cast<double>(totals.bytes - last_.bytes) / secs;
    s.skipped_per_s = static_cast<double>(totals.skipped - last_.skipped) / secs;
    s.game_ticks_per_s = static_cast<double>(totals.steps - last_.steps) / secs;
    s.shed_per_s = static_cast<double>(totals.shed - last_.shed) / secs;
    const double player_frames = static_cast<double>(totals.player_frames - last_.player_frames) / secs;
    const double watcher_frames = s.frames_per_s - player_frames;
    if (send.player_viewers > 0) s.send_rate_players = player_frames / static_cast<double>(send.player_viewers);
    if (send.watcher_viewers > 0) s.send_rate_watchers = watcher_frames / static_cast<double>(send.watcher_viewers);
  }
  last_ = totals;
  last_ms_ = now_ms;
  samples_.push_back(s);
  while (samples_.size() > capacity_) samples_.pop_front();
}

std::string StatsHistory::to_json() const {
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : samples_) {
    samples.push_back({{"t", s.t_ms},
                       {"players", s.players},
                       {"connections", s.connections},
                       {"tick_p50_ms", s.tick_p50_ms},
                       {"tick_p99_ms", s.tick_p99_ms},
                       {"late_ticks", s.late_ticks},
                       {"frames_per_s", s.frames_per_s},
                       {"bytes_per_s", s.bytes_per_s},
                       {"skipped_per_s", s.skipped_per_s},
                       {"game_ticks_per_s", s.game_ticks_per_s},
                       {"send_level", s.send_level},
                       {"k_players", s.k_players},
                       {"k_watchers", s.k_watchers},
                       {"send_rate_players", s.send_rate_players},
                       {"send_rate_watchers", s.send_rate_watchers},
                       {"viewers_shed_per_s", s.shed_per_s}});
  }
  return nlohmann::json{{"interval_s", 1}, {"samples", samples}}.dump();
}

}  // namespace skirmish::server
