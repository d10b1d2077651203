#include "server/send_scheduler.h"

#include <algorithm>

namespace skirmish::server {

void SendScheduler::update(double load, double fanout_load) {
  held_++;
  if (load > tuning_.high) {
    if (level_ < kShedLevel) {
      if (held_ >= tuning_.up_after_ticks) {
        level_++;
        held_ = 0;
        share_ = 1.0;
      }
    } else {
      // Serve fewer of the due viewers, in proportion to how far over the load is.
      share_ = std::max(0.05, share_ * std::clamp(tuning_.high / load, 0.5, 0.95));
    }
    return;
  }
  if (level_ >= kShedLevel && share_ < 1.0) {
    if (load < tuning_.low) share_ = std::min(1.0, share_ * 1.1);
    if (share_ < 1.0) return;
  }
  if (level_ == 0 || held_ < tuning_.down_after_ticks) return;
  if (level_ == kShedLevel) {  // serving every due viewer again: that is level 6
    level_--;
    held_ = 0;
    return;
  }
  // What the load would be one level down: the frames of one class grow by k / (k - 1).
  // Counting the whole fan-out (not only that class's part) errs on the side of staying.
  const int k = level_ > 3 ? k_players() : k_watchers();
  const double projected = load + fanout_load * (static_cast<double>(k) / std::max(1, k - 1) - 1.0);
  if (projected < tuning_.low) {
    level_--;
    held_ = 0;
  }
}

}  // namespace skirmish::server
