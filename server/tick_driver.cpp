#include "server/tick_driver.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace skirmish::server {

TickDriver::TickDriver(uv_loop_t* loop, int rate_hz, int max_catch_up, OnTick on_tick,
                       std::recursive_mutex* stats_mutex)
    : loop_(loop),
      period_ns_(1'000'000'000ULL / static_cast<std::uint64_t>(rate_hz)),
      max_catch_up_(max_catch_up),
      on_tick_(std::move(on_tick)),
      stats_mutex_(stats_mutex) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

void TickDriver::start() {
  running_ = true;
  start_ns_ = uv_hrtime();
  schedule_next();
}

void TickDriver::stop() {
  if (!running_ && uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) return;
  running_ = false;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }
}

void TickDriver::on_timer(uv_timer_t* t) { static_cast<TickDriver*>(t->data)->run_due_ticks(); }

void TickDriver::run_due_ticks() {
  std::unique_lock<std::recursive_mutex> lock;
  if (stats_mutex_) lock = std::unique_lock<std::recursive_mutex>(*stats_mutex_);
  const std::uint64_t now = uv_hrtime();
  // Tick k (1-based) is due at start + k * period.
  const std::uint64_t due_total = (now - start_ns_) / period_ns_;
  std::uint64_t owed = due_total > ticks_run_ ? due_total - ticks_run_ : 0;
  if (owed > static_cast<std::uint64_t>(max_catch_up_)) {
    const std::uint64_t drop = owed - static_cast<std::uint64_t>(max_catch_up_);
    dropped_ticks_ += drop;
    ticks_run_ += drop;
    owed = static_cast<std::uint64_t>(max_catch_up_);
    if (dropped_ticks_ >= warn_at_dropped_) {
      spdlog::warn("tick loop fell behind: {} tick(s) dropped so far", dropped_ticks_);
      warn_at_dropped_ = dropped_ticks_ * 2;
    }
  }
  if (owed > 0 && running_) {
    if (lock) lock.unlock();
    // Steps it has no time for stay owed: the next turn runs them, or drops them if the loop
    // keeps falling behind. The counts are of ticks run (read elsewhere, they only grow).
    const std::uint64_t ran = std::clamp<std::uint64_t>(on_tick_(static_cast<std::uint32_t>(owed)), 1, owed);
    if (stats_mutex_) lock.lock();
    for (std::uint64_t i = 0; i < ran; ++i) {
      const std::uint64_t due_ns = start_ns_ + (ticks_run_ + 1 + i) * period_ns_;
      if (now > due_ns + period_ns_) late_ticks_++;
    }
    ticks_run_ += ran;
    catch_up_ticks_ += ran - 1;
    durations_.observe(static_cast<double>(uv_hrtime() - now) / 1e9);
  }
  if (running_) schedule_next();
}

void TickDriver::schedule_next() {
  const std::uint64_t next_due = start_ns_ + (ticks_run_ + 1) * period_ns_;
  const std::uint64_t now = uv_hrtime();
  // Round up: a timer that fires a little early would find nothing due and cost a wake-up.
  // Never 0: a 0 ms timer started from a timer callback is due in the same timer phase, so
  // a loop that is behind would run ticks back to back and never read a socket.
  const std::uint64_t delay_ms = next_due > now ? (next_due - now + 999'999) / 1'000'000 : 1;
  // Timers count from the loop's cached time; refresh it so a slow tick does not shorten the wait.
  uv_update_time(loop_);
  uv_timer_start(&timer_, on_timer, delay_ms, 0);
}

}  // namespace skirmish::server
