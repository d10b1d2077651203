#include "server/send_scheduler.h"

#include <algorithm>
#include <cmath>

namespace skirmish::server {

namespace {
// Every how many ticks a class of n viewers given f frames a tick is served (1 to kMaxK).
int k_for(double n, double f) {
  if (n <= 0 || f >= n) return 1;
  if (f <= 0) return SendScheduler::kMaxK;
  return std::clamp(static_cast<int>(std::floor(n / f)), 1, SendScheduler::kMaxK);
}
}  // namespace

double SendScheduler::plan(double p_all, double w_all) {
  // A configured send interval: the frames a tick of everyone at that interval are "all".
  const double p = p_all / min_k_, w = w_all / min_k_;
  double fp = p, fw = w;
  if (p + w > budget_) {
    const double watcher_floor = w_all / kMaxK * kWatcherFloor;
    const double player_floor = p_all / kMaxK;
    if (budget_ >= p + watcher_floor) {
      fw = budget_ - p;  // players whole, watchers what is left
    } else if (budget_ >= player_floor + watcher_floor) {
      fw = watcher_floor;
      fp = budget_ - watcher_floor;
    } else {
      // Both past their floors: shed in proportion, never to nothing.
      const double scale = std::max(budget_ / (player_floor + watcher_floor), kMinShare);
      fp = player_floor * scale;
      fw = watcher_floor * scale;
    }
  }
  player_frames_ = fp;
  watcher_frames_ = fw;
  k_players_ = std::min(kMaxK, min_k_ * k_for(p, fp));
  k_watchers_ = std::min(kMaxK, min_k_ * k_for(w, fw));
  // Levels name the stage: what a class gets between every k-th and every (k+1)-th tick
  // counts as the k-th stage of giving up.
  if (fp >= p) {
    level_ = fw >= w ? 0 : (fw >= w_all / kMaxK ? std::min(k_watchers_, 3) : kShedWatchersLevel);
  } else {
    level_ = fp >= p_all / kMaxK ? kShedWatchersLevel + std::min(k_players_, 3) : kShedLevel;
  }
  return fp + fw;
}

void SendScheduler::update(double load, std::size_t players, std::size_t watchers) {
  const auto p = static_cast<double>(players), w = static_cast<double>(watchers);
  if (++since_adjust_ >= tuning_.adjust_every && load > 0) {
    if (load > tuning_.high) {
      // Cut from what is served now, in proportion to how far over the load is.
      budget_ = std::max(1.0, std::min(budget_, planned_) * std::clamp(tuning_.high / load, 0.5, 0.95));
      since_adjust_ = 0;
    } else if (load < tuning_.low && limited()) {
      budget_ = std::max(budget_, planned_) * std::clamp(tuning_.low / load, 1.02, 1.15);
      if (budget_ >= (p + w) / min_k_) budget_ = 1e18;  // everything fits: no budget at all
      since_adjust_ = 0;
    }
  }
  planned_ = plan(p, w);
}

}  // namespace skirmish::server
