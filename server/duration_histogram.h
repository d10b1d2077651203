// A fixed-bucket histogram of durations (the tick's, the fan-out's, a frame's send delay):
// observed every tick, written to /metrics by MetricsText.
#pragma once

#include <cstdint>
#include <iterator>

namespace skirmish::server {

// Fixed-bucket histogram of durations in seconds; cheap enough to observe every tick.
struct DurationHistogram {
  static constexpr double kBounds[] = {0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005,
                                       0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0};
  std::uint64_t counts[std::size(kBounds) + 1] = {};  // the last one is +Inf
  std::uint64_t total = 0;
  double sum = 0;

  void observe(double seconds);
  void merge(const DurationHistogram& other);
};

}  // namespace skirmish::server
