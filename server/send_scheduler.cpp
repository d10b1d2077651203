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

std::size_t SendScheduler::pick_longest_waiting(std::vector<Due>& due, std::size_t budget) {
  if (due.size() <= budget) {
    const bool one_batch = std::all_of(due.begin(), due.end(),
                                       [&](const Due& d) { return d.last_frame == due.front().last_frame; });
    if (!one_batch) std::sort(due.begin(), due.end());
    return due.size();
  }
  std::partial_sort(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(budget), due.end());
  return budget;
}

double SendScheduler::plan(double p_all, double w_all) {
  // A configured send interval: the frames a tick of everyone at that interval are "all".
  const double p = p_all / min_k_, w = w_all / min_k_;
  double fp = p, fw = w;
  if (p + w > budget_) {
    // Watchers keep half of them every 4th tick before players give anything up, but never
    // more than half the budget: at a budget cut deep (a storm of handshakes took the CPU),
    // a few players would otherwise wait many ticks for the sake of hundreds of watchers.
    const double watcher_floor = std::min(watcher_floor_of(w_all), budget_ * kWatcherBudgetShare);
    if (budget_ >= p + watcher_floor) {
      fw = budget_ - p;  // players whole, watchers what is left
    } else {
      fw = watcher_floor;  // players give up rate, past every 4th tick shed fairly too
      fp = budget_ - watcher_floor;
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

void SendScheduler::update(const Measure& m, std::size_t players, std::size_t watchers) {
  const auto p = static_cast<double>(players), w = static_cast<double>(watchers);
  const double all = (p + w) / min_k_;
  if (++since_adjust_ >= tuning_.adjust_every && m.load > 0) {
    const bool over = m.load > tuning_.high || m.late > tuning_.late;
    if (over) {
      // Down to what the measured cost of a frame says fits, and at least a step down (the
      // measure may lag), but at most by half a step. When the load is not the fan-out's (a
      // storm of handshakes) the spare CPU reads as nothing: below players whole and watchers
      // at their floor, while the steady capacity carries that, only a step at a time, or a
      // storm cuts the budget to nothing and players wait seconds for it to grow back.
      const double now = std::min(budget_, planned_);
      const double players_first = p / min_k_ + watcher_floor_of(w);
      budget_ = std::max({1.0, m.floor, now * 0.5, std::min(m.capacity, now * 0.95),
                          std::min({players_first, m.steady_capacity, now * 0.95})});
      since_adjust_ = 0;
    } else if (m.load < tuning_.low && m.late < tuning_.late / 2 && limited()) {
      const double now = std::max(budget_, planned_);
      // Far below the target the measured cost of a frame may be stale (a burst of joins
      // inflated it, so the capacity reads low): grow at the full step at least, or to the
      // capacity at once if that is more, or a budget cut in a burst takes many seconds to
      // come back. The check above cuts again if that overshoots.
      budget_ = m.load < tuning_.low / 2 ? std::max(now * 1.3, m.capacity)
                                         : std::clamp(m.capacity, now * 1.02, now * 1.3);
      if (budget_ >= all) budget_ = 1e18;  // everything fits: no budget at all
      since_adjust_ = 0;
    } else if (m.load < kTargetLoad && m.late < tuning_.late / 2 && limited()) {
      // In the band but under the load the capacity is measured for: creep towards it, 2 %
      // a step (never down: only a load over the band cuts). Holding here instead lets a
      // budget cut by a few noisy readings over the band stay cut, with a tenth of the CPU
      // idle while viewers are shed (seen at 10,000 players: the budget sank from 2,800 to
      // 1,900 frames a tick at a load of 0.87-0.90).
      const double crept = std::max(budget_, std::min(m.capacity, budget_ * 1.02));
      if (crept != budget_ || crept >= all) {
        budget_ = crept >= all ? 1e18 : crept;  // everything fits: no budget at all
        since_adjust_ = 0;
      }
    }
  }
  planned_ = plan(p, w);
}

}  // namespace skirmish::server
