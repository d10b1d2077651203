// How long connections were open in each interval, summed over connections (client-seconds,
// kept in microseconds). The daemon sends a tick frame to every open connection, so what a
// window should have delivered is the tick rate times this sum: a count of connections taken
// once a second would miss the ones that opened or dropped within the second (a daemon
// killed mid-second, a flood closed with 1008) and give ratios far off 100 %.
//
// O(1) per event, no pass over the clients: the open ones each add (cut - their start in the
// interval), so it keeps their number and the sum of those starts. The sum may wrap around
// (64-bit microseconds times a million clients); unsigned arithmetic is exact modulo 2^64 and
// the result, under the client count times the interval, fits, so the wrap cancels out.
#pragma once

#include <algorithm>
#include <cstdint>

namespace skirmish::loadtest {

class ConnectedTime {
 public:
  // A connection opened at now_us (any clock in microseconds, the same for every call).
  void opened(std::uint64_t now_us) {
    open_++;
    starts_us_ += now_us;
  }
  // The connection opened at opened_us (what opened() was given) closed at now_us.
  void closed(std::uint64_t opened_us, std::uint64_t now_us) {
    const std::uint64_t start = std::max(opened_us, cut_us_);
    open_--;
    starts_us_ -= start;
    closed_us_ += now_us > start ? now_us - start : 0;
  }
  // The client-microseconds since the previous take (or the first connection), and the next
  // interval starts at now_us.
  std::uint64_t take(std::uint64_t now_us) {
    const std::uint64_t total = closed_us_ + (open_ * now_us - starts_us_);
    closed_us_ = 0;
    starts_us_ = open_ * now_us;
    cut_us_ = now_us;
    return total;
  }
  std::uint64_t open() const { return open_; }

 private:
  std::uint64_t open_ = 0;
  std::uint64_t starts_us_ = 0;  // the open connections' starts within this interval, summed
  std::uint64_t closed_us_ = 0;  // time of the connections that closed in this interval
  std::uint64_t cut_us_ = 0;     // when this interval started
};

}  // namespace skirmish::loadtest
