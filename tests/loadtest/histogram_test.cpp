#include "loadtest/histogram.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using skirmish::loadtest::Histogram;

namespace {

// The exact value at rank ceil(p/100 * n) of the sorted samples (the histogram's definition).
std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

// Within one bucket: the bucket's width is at most value / 128.
void check_percentiles(const std::vector<std::uint64_t>& samples, const Histogram& h) {
  for (const double p : {0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const std::uint64_t exact = exact_percentile(samples, p);
    const std::uint64_t got = h.percentile(p);
    const double tolerance = std::max(1.0, static_cast<double>(exact) / static_cast<double>(Histogram::kSubCount));
    INFO("p" << p << " exact " << exact << " got " << got);
    CHECK(std::abs(static_cast<double>(got) - static_cast<double>(exact)) <= tolerance);
  }
}

}  // namespace

TEST_CASE("small values get a bucket each and are exact", "[loadtest]") {
  Histogram h;
  for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.min() == 0);
  CHECK(h.max() == 99);
  CHECK(h.percentile(50) == 49);
  CHECK(h.percentile(99) == 98);
  CHECK(h.percentile(100) == 99);
  CHECK(h.mean() == Approx(49.5));
}

TEST_CASE("bucket layout covers every value once and stays within 1/128", "[loadtest]") {
  std::size_t prev = 0;
  for (std::uint64_t v = 1; v < (std::uint64_t{1} << 22); v = v + 1 + v / 300) {
    const std::size_t i = Histogram::bucket_index(v);
    CHECK(i >= prev);
    prev = i;
    REQUIRE(Histogram::bucket_lower(i) <= v);
    REQUIRE(v < Histogram::bucket_lower(i) + Histogram::bucket_width(i));
    REQUIRE(Histogram::bucket_width(i) * Histogram::kSubCount <= std::max<std::uint64_t>(v, Histogram::kSubCount));
  }
  CHECK(Histogram::bucket_index(~std::uint64_t{0}) == Histogram::kBucketCount - 1);
}

TEST_CASE("percentiles of a uniform distribution are within the bucket precision", "[loadtest]") {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> dist(0, 1000000);
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    samples.push_back(dist(rng));
    h.record(samples.back());
  }
  check_percentiles(samples, h);
}

TEST_CASE("percentiles of a long-tailed distribution are within the bucket precision", "[loadtest]") {
  // Delays look like this: most around a millisecond, a few hundred times longer.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.2);
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    samples.push_back(static_cast<std::uint64_t>(dist(rng)));
    h.record(samples.back());
  }
  check_percentiles(samples, h);
  CHECK(h.max() == *std::max_element(samples.begin(), samples.end()));
  CHECK(h.min() == *std::min_element(samples.begin(), samples.end()));
}

TEST_CASE("a single value is reported exactly", "[loadtest]") {
  Histogram h;
  h.record(123456789);
  CHECK(h.percentile(0) == 123456789);
  CHECK(h.percentile(50) == 123456789);
  CHECK(h.percentile(100) == 123456789);
}

TEST_CASE("merged histograms equal one histogram of all samples", "[loadtest]") {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> dist(1.0 / 5000);
  std::vector<std::uint64_t> samples;
  Histogram parts[4], whole;
  for (int i = 0; i < 40000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    parts[i % 4].record(v);
    whole.record(v);
  }
  Histogram merged;
  for (const auto& p : parts) merged.merge(p);
  CHECK(merged.count() == whole.count());
  CHECK(merged.min() == whole.min());
  CHECK(merged.max() == whole.max());
  CHECK(merged.mean() == Approx(whole.mean()));
  for (const double p : {50.0, 90.0, 99.0, 99.9}) CHECK(merged.percentile(p) == whole.percentile(p));
  check_percentiles(samples, merged);
}

TEST_CASE("merging an empty histogram changes nothing, and reset empties", "[loadtest]") {
  Histogram h, empty;
  h.record(10);
  h.record(1000);
  h.merge(empty);
  CHECK(h.count() == 2);
  CHECK(h.min() == 10);
  empty.merge(h);
  CHECK(empty.count() == 2);
  CHECK(empty.min() == 10);
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.percentile(99) == 0);
  CHECK(h.max() == 0);
  CHECK(h.min() == 0);
}

TEST_CASE("huge values are clamped into the last bucket but max stays exact", "[loadtest]") {
  Histogram h;
  const std::uint64_t huge = std::uint64_t{1} << 50;
  h.record(huge);
  h.record(5);
  CHECK(h.max() == huge);
  CHECK(h.percentile(100) <= huge);
  CHECK(h.percentile(100) >= (std::uint64_t{1} << 39));
}
