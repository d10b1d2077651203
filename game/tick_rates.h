#pragma once

#include <cstdint>

namespace skirmish::game {

// Config speaks in units/second and milliseconds; the simulation only counts ticks.
// A delay rounds up to whole ticks and is at least one tick, so "500 ms at 20 Hz" is
// exactly 10 ticks and a zero cooldown still means "at most once per tick".
inline uint64_t ms_to_ticks(int ms, int tick_rate) {
  const int64_t ticks = (static_cast<int64_t>(ms) * tick_rate + 999) / 1000;
  return ticks < 1 ? 1 : static_cast<uint64_t>(ticks);
}

inline float per_tick(float per_second, int tick_rate) {
  return per_second / static_cast<float>(tick_rate);
}

}  // namespace skirmish::game
