#include "loadtest/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace skirmish::loadtest {

std::size_t Histogram::bucket_index(std::uint64_t value) {
  constexpr std::uint64_t kLargest = (std::uint64_t{1} << kMaxBits) - 1;
  value = std::min(value, kLargest);
  if (value < kSubCount) return static_cast<std::size_t>(value);
  const int top = std::bit_width(value) - 1;  // >= kSubBits
  const int shift = top - kSubBits;
  const std::uint64_t mantissa = value >> shift;  // in [kSubCount, 2 * kSubCount)
  return static_cast<std::size_t>(kSubCount + static_cast<std::uint64_t>(shift) * kSubCount + (mantissa - kSubCount));
}

std::uint64_t Histogram::bucket_lower(std::size_t index) {
  if (index < kSubCount) return index;
  const std::uint64_t shift = (index - kSubCount) / kSubCount;
  const std::uint64_t mantissa = (index - kSubCount) % kSubCount + kSubCount;
  return mantissa << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t index) {
  if (index < kSubCount) return 1;
  return std::uint64_t{1} << ((index - kSubCount) / kSubCount);
}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  counts_[bucket_index(value)] += count;
  count_ += count;
  sum_ += value * count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() { *this = Histogram{}; }

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_lower(i) + (bucket_width(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace skirmish::loadtest
