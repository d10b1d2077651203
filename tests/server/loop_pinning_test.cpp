#include "server/loop_pinning.h"

#include <catch2/catch.hpp>

using skirmish::server::loop_cpus;

TEST_CASE("loops keep to a CPU each only when there is one CPU per loop", "[server]") {
  const std::vector<int> two = {0, 1}, sparse = {2, 5, 7};
  CHECK(loop_cpus("auto", 2, two) == two);
  CHECK(loop_cpus("auto", 3, sparse) == sparse);  // the k-th CPU the process may run on
  // More loops than CPUs: they take turns wherever the scheduler puts them.
  CHECK(loop_cpus("auto", 3, two).empty());
  // Fewer (a cgroup quota, or --io-threads 1 on a bigger machine): two daemons of one loop
  // each would otherwise both be kept to the first CPU.
  CHECK(loop_cpus("auto", 1, two).empty());
  CHECK(loop_cpus("auto", 2, sparse).empty());
  CHECK(loop_cpus("off", 2, two).empty());
  CHECK(loop_cpus("auto", 1, {3}).empty());  // one loop on one CPU: already where it can be
}
