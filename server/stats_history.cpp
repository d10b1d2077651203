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
                          const StatsTotals& totals) {
  StatsSample s;
  s.t_ms = now_ms;
  s.players = players;
  s.connections = connections;
  s.tick_p50_ms = percentile(tick_ms_, 0.5);
  s.tick_p99_ms = percentile(tick_ms_, 0.99);
  tick_ms_.clear();
  if (last_ms_ != 0 && now_ms > last_ms_) {
    const double secs = static_cast<double>(now_ms - last_ms_) / 1000.0;
    s.late_ticks = static_cast<double>(totals.late_ticks - last_.late_ticks);
    s.frames_per_s = static_cast<double>(totals.frames - last_.frames) / secs;
    s.bytes_per_s = static_cast<double>(totals.bytes - last_.bytes) / secs;
    s.skipped_per_s = static_cast<double>(totals.skipped - last_.skipped) / secs;
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
                       {"skipped_per_s", s.skipped_per_s}});
  }
  return nlohmann::json{{"interval_s", 1}, {"samples", samples}}.dump();
}

}  // namespace skirmish::server
