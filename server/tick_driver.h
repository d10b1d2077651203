// Runs a fixed-timestep callback from the event loop without drift: tick N is due at
// start + N / rate, measured with uv_hrtime(), because a repeating uv_timer_t drifts by the
// time each callback takes. Each wake-up hands the callback every tick now due, so a loop
// that fell behind steps its game as many times (game time stays real) but sends once. Only
// debt past max_catch_up (a stalled machine) is dropped (counted, and logged once per doubling).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <mutex>

#include "server/duration_histogram.h"

namespace skirmish::server {

class TickDriver {
 public:
  // `on_tick(steps)`: `steps` >= 1 ticks are due now; it returns how many it ran (at least
  // one): the rest stay due, for the next turn of the loop, after its I/O. `stats_mutex`, when
  // given, is held while the counters below change (others read them from other threads
  // holding it); never around on_tick, which takes what it needs itself.
  using OnTick = std::function<std::uint32_t(std::uint32_t)>;
  TickDriver(uv_loop_t* loop, int rate_hz, int max_catch_up, OnTick on_tick,
             std::recursive_mutex* stats_mutex = nullptr);
  TickDriver(const TickDriver&) = delete;
  TickDriver& operator=(const TickDriver&) = delete;

  void start();
  // Closes the timer handle; the loop can end once its close callback has run.
  void stop();

  std::uint64_t ticks_run() const { return ticks_run_; }
  // Ticks that ran later than one period after they were due.
  std::uint64_t late_ticks() const { return late_ticks_; }
  // Ticks stepped in a wake-up after the first (the loop was behind): game time kept, frames not sent.
  std::uint64_t catch_up_ticks() const { return catch_up_ticks_; }
  std::uint64_t period_ns() const { return period_ns_; }
  // Ticks never run because the loop was too far behind.
  std::uint64_t dropped_ticks() const { return dropped_ticks_; }
  // How long tick callbacks take (simulation, encoding and sending).
  const DurationHistogram& durations() const { return durations_; }

 private:
  static void on_timer(uv_timer_t* t);
  void run_due_ticks();
  void schedule_next();

  uv_loop_t* loop_;
  uv_timer_t timer_;
  std::uint64_t period_ns_;
  int max_catch_up_;
  OnTick on_tick_;
  std::recursive_mutex* stats_mutex_;
  std::uint64_t start_ns_ = 0;
  std::uint64_t ticks_run_ = 0;   // ticks counted from start_ns_ (dropped ones included)
  std::uint64_t late_ticks_ = 0;
  std::uint64_t dropped_ticks_ = 0;
  std::uint64_t catch_up_ticks_ = 0;
  std::uint64_t warn_at_dropped_ = 1;
  DurationHistogram durations_;
  bool running_ = false;
};

}  // namespace skirmish::server
