#pragma once

#include <array>
#include <cstdint>

namespace skirmish::game {

// xoshiro256** seeded through splitmix64. The World owns one, so every random choice
// follows from the seed and the order of calls. We avoid <random>'s distributions:
// their algorithms are implementation-defined and would differ between standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) {
    uint64_t s = seed;
    for (uint64_t& word : s_) word = splitmix64(s);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) for n > 0, by multiply-shift (bias below n / 2^32, irrelevant here).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next_u64() >> 32) * n) >> 32); }

  // Uniform in [0, 1) from 24 random bits, so every value is exactly representable.
  float next_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

  // Uniform in [lo, hi] (hi only by rounding).
  float uniform(float lo, float hi) { return lo + (hi - lo) * next_float(); }

  const std::array<uint64_t, 4>& state() const { return s_; }

  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<uint64_t, 4> s_{};
};

}  // namespace skirmish::game
