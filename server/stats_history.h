// The last few minutes of the daemon's own numbers, one sample a second, for /stats.json
// and the live stats page. Counters are turned into per-second rates here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace skirmish::server {

struct StatsSample {
  std::int64_t t_ms = 0;  // wall clock
  std::size_t players = 0;
  std::size_t connections = 0;
  double tick_p50_ms = 0, tick_p99_ms = 0;
  double late_ticks = 0, frames_per_s = 0, bytes_per_s = 0, skipped_per_s = 0;
  // Game time and send rate: ticks stepped a second, the shedding level, every how many
  // ticks each class is served, the frames each player / watcher viewer actually got a
  // second, and frames shed a second.
  double game_ticks_per_s = 0;
  int send_level = 0, k_players = 1, k_watchers = 1;
  double send_rate_players = 0, send_rate_watchers = 0, shed_per_s = 0;
};

// The send scheduler as it stands at a sample.
struct SendState {
  int level = 0, k_players = 1, k_watchers = 1;
  std::size_t player_viewers = 0, watcher_viewers = 0;
};

// Totals as the counters stand at one moment; two of them a second apart make a sample.
struct StatsTotals {
  std::uint64_t late_ticks = 0, frames = 0, bytes = 0, skipped = 0;
  std::uint64_t steps = 0, player_frames = 0, shed = 0;
};

class StatsHistory {
 public:
  explicit StatsHistory(std::size_t capacity = 300) : capacity_(capacity) {}

  // Records one tick's duration; ticks since the last sample give its percentiles.
  void note_tick(double ms) { tick_ms_.push_back(ms); }
  // Closes the current second.
  void sample(std::int64_t now_ms, std::size_t players, std::size_t connections, const StatsTotals& totals,
              const SendState& send = {});
  std::string to_json() const;

 private:
  std::size_t capacity_;
  std::deque<StatsSample> samples_;
  std::vector<double> tick_ms_;
  StatsTotals last_{};
  std::int64_t last_ms_ = 0;
};

}  // namespace skirmish::server
