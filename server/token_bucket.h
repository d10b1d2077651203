// A token bucket on a millisecond clock the caller passes in: `per_second` tokens a second,
// holding at most one second's worth. It meters the messages a client may send, so that a
// client flooding us costs one read now and then, not the core every other player needs.
// The rate is passed to each call rather than stored: it is the same for every connection.
#pragma once

#include <algorithm>
#include <cstdint>

namespace skirmish::server {

class TokenBucket {
 public:
  TokenBucket() = default;
  // Starts full.
  TokenBucket(double per_second, std::uint64_t now_ms) : tokens_(per_second), at_ms_(now_ms) {}

  // Takes one token; false (and nothing taken) when there is none.
  bool take(double per_second, std::uint64_t now_ms) {
    refill(per_second, now_ms);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }
  // Tokens there to take now (fractional).
  double level(double per_second, std::uint64_t now_ms) {
    refill(per_second, now_ms);
    return tokens_;
  }
  // True when a token is there to take.
  bool ready(double per_second, std::uint64_t now_ms) {
    refill(per_second, now_ms);
    return tokens_ >= 1;
  }

 private:
  void refill(double per_second, std::uint64_t now_ms) {
    if (now_ms <= at_ms_) return;
    tokens_ = std::min(per_second, tokens_ + static_cast<double>(now_ms - at_ms_) * per_second / 1000.0);
    at_ms_ = now_ms;
  }

  double tokens_ = 0;
  std::uint64_t at_ms_ = 0;
};

}  // namespace skirmish::server
