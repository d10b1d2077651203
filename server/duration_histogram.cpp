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

}  // namespace skirmish::server
