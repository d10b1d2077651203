// Counts a client's tick frames and the ones it never got. The daemon numbers its ticks,
// so a jump from tick 7 to tick 10 means the client got no frame for ticks 8 and 9: lost,
// skipped for a slow reader, or (a daemon that serves some viewers only every k-th tick
// under overload) never meant for it. `missing` counts those ticks whatever the reason;
// TickWindow below tells a viewer served at a lower rate from one falling behind. The first
// frame a client receives starts the count; a tick at or below the last one (a duplicate,
// or out of order, which TCP should never produce) is counted as stale and does not move
// the count.
#pragma once

#include <algorithm>
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

// A client's tick frames within one window (the measured one): how many arrived, the first
// and the last tick number with the moment each was read (any clock in microseconds; the
// worker uses a monotonic one), and the largest step between consecutive tick numbers
// (1 = every tick). Only frames inside the window count, so the step into the window's
// first frame is not a gap of the window. A stale tick (at or below the last) counts as a
// frame and changes nothing else. Fixed size, no allocation: one per client, updated per frame.
class TickWindow {
 public:
  void on_tick(std::uint64_t tick, std::uint64_t now_us) {
    if (frames_++ == 0) {
      first_tick_ = last_tick_ = tick;
      first_us_ = last_us_ = now_us;
      return;
    }
    if (tick <= last_tick_) return;
    max_gap_ = std::max(max_gap_, tick - last_tick_);
    last_tick_ = tick;
    last_us_ = now_us;
  }
  void reset() { *this = TickWindow{}; }

  std::uint64_t frames() const { return frames_; }
  std::uint64_t first_tick() const { return first_tick_; }
  std::uint64_t last_tick() const { return last_tick_; }
  std::uint64_t first_us() const { return first_us_; }
  std::uint64_t last_us() const { return last_us_; }
  // The largest step between consecutive ticks; 0 until two different ticks arrived.
  std::uint64_t max_gap() const { return max_gap_; }
  // Game time: ticks advanced per second between reading the first frame and the last
  // (the daemon's tick rate for a client that keeps up, however few of the ticks it is
  // sent). Defined once the two were read at different moments.
  bool has_game_rate() const { return frames_ > 1 && last_us_ > first_us_; }
  // Game ticks a second from the first frame to the last; or, when nothing came for the last
  // stretch of the window (`end_us`: its end), to the window's end: a server that froze for
  // the end of the window advanced no ticks there, and the rate says so. A stretch counts once
  // it is over a second and ten of this client's usual frame intervals.
  double game_rate(std::uint64_t end_us = 0) const {
    if (!has_game_rate()) return 0.0;
    std::uint64_t until = last_us_;
    const std::uint64_t usual = (last_us_ - first_us_) / (frames_ - 1);
    if (end_us > last_us_ && end_us - last_us_ > std::max<std::uint64_t>(1'000'000, 10 * usual)) until = end_us;
    return static_cast<double>(last_tick_ - first_tick_) * 1e6 / static_cast<double>(until - first_us_);
  }

 private:
  std::uint64_t frames_ = 0;
  std::uint64_t first_tick_ = 0, last_tick_ = 0;
  std::uint64_t first_us_ = 0, last_us_ = 0;
  std::uint64_t max_gap_ = 0;
};

}  // namespace skirmish::loadtest
