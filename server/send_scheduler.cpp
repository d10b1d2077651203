#include "server/send_scheduler.h"

#include <algorithm>

namespace skirmish::server {

double SendScheduler::plan(double p, double w) {
  level_ = 0;
  k_players_ = k_watchers_ = 1;
  watcher_share_ = serve_share_ = 1.0;
  if (p + w <= budget_) return p + w;
  for (int k = 2; k <= kMaxK; ++k) {
    level_ = k - 1;
    k_watchers_ = k;
    if (p + w / k <= budget_) return p + w / k;
  }
  const double quarter = w / kMaxK;  // watchers due a tick at k = 4
  level_ = kShedWatchersLevel;
  if (p + quarter * kWatcherFloor <= budget_) {
    watcher_share_ = std::clamp((budget_ - p) / quarter, kWatcherFloor, 1.0);
    return p + quarter * watcher_share_;
  }
  watcher_share_ = kWatcherFloor;
  for (int k = 2; k <= kMaxK; ++k) {
    level_ = kShedWatchersLevel + k - 1;
    k_players_ = k;
    if (p / k + quarter * kWatcherFloor <= budget_) return p / k + quarter * kWatcherFloor;
  }
  level_ = kShedLevel;
  const double all = p / kMaxK + quarter * kWatcherFloor;
  serve_share_ = std::clamp(budget_ / all, kMinShare, 1.0);
  return all * serve_share_;
}

void SendScheduler::count_frames(double p, double w) {
  player_frames_ = p / k_players_ * serve_share_;
  watcher_frames_ = w / k_watchers_ * watcher_share_ * serve_share_;
}

void SendScheduler::update(double load, std::size_t players, std::size_t watchers) {
  const auto p = static_cast<double>(players), w = static_cast<double>(watchers);
  if (++since_adjust_ >= tuning_.adjust_every && load > 0) {
    if (load > tuning_.high) {
      // Cut from what is served now, in proportion to how far over the load is.
      budget_ = std::max(1.0, std::min(budget_, planned_) * std::clamp(tuning_.high / load, 0.5, 0.95));
      since_adjust_ = 0;
    } else if (load < tuning_.low && budget_ < 1e17) {
      budget_ = std::max(budget_, planned_) * std::clamp(tuning_.low / load, 1.02, 1.15);
      if (budget_ >= p + w) budget_ = 1e18;  // everything fits: no budget at all
      since_adjust_ = 0;
    }
  }
  planned_ = plan(p, w);
  count_frames(p, w);
}

}  // namespace skirmish::server
