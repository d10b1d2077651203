// Counts a client's tick frames and the ones it never got. The daemon numbers its ticks
// and sends every connection one frame per tick, so a jump from tick 7 to tick 10 means
// frames 8 and 9 were lost (or skipped by the daemon for a slow reader). The first frame a
// client receives starts the count; a tick at or below the last one (a duplicate, or out of
// order, which TCP should never produce) is counted as stale and does not move the count.
#pragma once

#include <cstdint>

namespace skirmish::loadtest {

class TickTracker {
 public:
  // Returns how many frames this one shows were missed (0 in order).
  std::uint64_t on_tick(std::uint64_t tick) {
    received_++;
    if (!started_) {
      started_ = true;
      first_ = last_ = tick;
      return 0;
    }
    if (tick <= last_) {
      stale_++;
      return 0;
    }
    const std::uint64_t gap = tick - last_ - 1;
    missing_ += gap;
    last_ = tick;
    return gap;
  }

  bool started() const { return started_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t missing() const { return missing_; }
  std::uint64_t stale() const { return stale_; }
  std::uint64_t first() const { return first_; }
  std::uint64_t last() const { return last_; }
  // Ticks from the first frame to the last one, both included: what an ideal client got.
  std::uint64_t span() const { return started_ ? last_ - first_ + 1 : 0; }

 private:
  bool started_ = false;
  std::uint64_t first_ = 0, last_ = 0;
  std::uint64_t received_ = 0, missing_ = 0, stale_ = 0;
};

}  // namespace skirmish::loadtest
