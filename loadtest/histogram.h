// A log-linear histogram of non-negative integers (HdrHistogram's bucket layout, simplified):
// values below 128 get one bucket each; above that, every power of two is split into 128
// equal buckets, so a bucket is never wider than 1/128 (0.8 %) of the values it holds.
// Recording is an index computation and one increment, memory is fixed (about 34 KiB), and
// two histograms merge by adding counts: each load-test thread keeps its own and the
// reporter adds them up, instead of sorting every sample.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace skirmish::loadtest {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSubCount = std::uint64_t{1} << kSubBits;  // 128
  // Values from 2^kMaxBits up are recorded as 2^kMaxBits - 1 (about 12.7 days in
  // microseconds): far beyond any delay we measure, and max() still keeps the exact value.
  static constexpr int kMaxBits = 40;
  static constexpr std::size_t kBucketCount = kSubCount + (kMaxBits - kSubBits) * kSubCount;

  void record(std::uint64_t value, std::uint64_t count = 1);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The value at rank ceil(p/100 * count) (1-based) of the sorted samples, to within one
  // bucket: the middle of the bucket holding that rank, clamped to [min, max]. 0 when empty.
  std::uint64_t percentile(double p) const;

  // Bucket layout, public for the tests.
  static std::size_t bucket_index(std::uint64_t value);
  static std::uint64_t bucket_lower(std::size_t index);
  static std::uint64_t bucket_width(std::size_t index);

 private:
  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace skirmish::loadtest
