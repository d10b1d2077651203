#include "server/duration_histogram.h"

namespace skirmish::server {

void DurationHistogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < std::size(kBounds) && seconds > kBounds[i]) ++i;
  counts[i]++;
  total++;
  sum += seconds;
}

void DurationHistogram::merge(const DurationHistogram& other) {
  for (std::size_t i = 0; i < std::size(counts); ++i) counts[i] += other.counts[i];
  total += other.total;
  sum += other.sum;
}

double DurationHistogram::quantile(double q) const {
  if (total == 0) return 0;
  const auto want = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    seen += counts[i];
    if (seen >= want) return kBounds[i];
  }
  return kBounds[std::size(kBounds) - 1];
}

}  // namespace skirmish::server
