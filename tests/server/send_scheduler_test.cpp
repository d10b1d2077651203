// The send-rate levels: watchers give up rate before players, one step at a time, back down
// with hysteresis; every viewer is due exactly once per k ticks; the cgroup quota is read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "server/cpu_allowance.h"
#include "server/send_scheduler.h"

using skirmish::server::SendScheduler;

namespace {
void run(SendScheduler& s, double load, double fanout, int ticks) {
  for (int i = 0; i < ticks; ++i) s.update(load, fanout);
}
}  // namespace

TEST_CASE("under load watchers lose send rate first, then players, then viewers are shed", "[server][send_rate]") {
  SendScheduler s;
  CHECK(s.level() == 0);
  CHECK(s.k_players() == 1);
  CHECK(s.k_watchers() == 1);
  run(s, 1.5, 1.2, 4);
  CHECK(s.level() == 1);
  CHECK(s.k_watchers() == 2);
  CHECK(s.k_players() == 1);
  run(s, 1.5, 1.2, 8);
  CHECK(s.level() == 3);
  CHECK(s.k_watchers() == 4);
  CHECK(s.k_players() == 1);  // players keep every tick while watchers can give
  run(s, 1.5, 1.2, 12);
  CHECK(s.level() == 6);
  CHECK(s.k_players() == 4);
  run(s, 1.5, 1.2, 4);
  CHECK(s.shedding());
  const double share = s.serve_share();
  run(s, 1.5, 1.2, 3);
  CHECK(s.serve_share() < share);
  CHECK(s.serve_share() >= 0.05);
}

TEST_CASE("the level comes back down only when one level less would fit", "[server][send_rate]") {
  SendScheduler s;
  run(s, 2.0, 1.8, 12);
  REQUIRE(s.level() == 3);
  // 0.6 now, and the fan-out (0.5) would grow by 4/3 at k = 3: 0.77, over the 0.65 mark.
  run(s, 0.6, 0.5, 100);
  CHECK(s.level() == 3);
  // Lighter: each level down fits, one every down_after_ticks.
  run(s, 0.3, 0.2, 20);
  CHECK(s.level() == 2);
  run(s, 0.3, 0.2, 40);
  CHECK(s.level() == 0);
  // Between the marks nothing moves.
  run(s, 0.8, 0.5, 100);
  CHECK(s.level() == 0);
}

TEST_CASE("at every k each viewer is due once every k ticks, phases spread evenly", "[server][send_rate]") {
  for (int level : {0, 1, 2, 3}) {
    SendScheduler s;
    run(s, 3.0, 2.0, level * 4);
    REQUIRE(s.level() == level);
    const int k = s.k_watchers();
    std::vector<int> served_per_tick(12, 0);
    for (std::uint8_t phase = 0; phase < SendScheduler::kPhases; ++phase) {
      int served = 0;
      std::uint64_t last = 0;
      // A new viewer (nothing sent yet) is served at once, then falls into its phase.
      for (std::uint64_t tick = 100; tick < 112 + 12 * 4; ++tick) {
        const std::uint64_t waited = last == 0 ? 1000 : tick - last;
        if (!s.due(tick, phase, false, waited)) continue;
        if (tick >= 112) {
          CHECK(tick - last == static_cast<std::uint64_t>(k));
          served++;
          served_per_tick[tick % 12]++;
        }
        last = tick;
      }
      CHECK(served == 48 / k);
    }
    // Twelve viewers with phases 0..11 put 12/k of them on each tick.
    for (int n : served_per_tick) CHECK(n == 4 * 12 / k);
  }
}

TEST_CASE("a viewer skipped past its turn is due at once", "[server][send_rate]") {
  SendScheduler s;
  run(s, 3.0, 2.0, 12);
  REQUIRE(s.k_watchers() == 4);
  CHECK(s.due(1001, 0, false, 5));
  CHECK_FALSE(s.due(1001, 0, false, 3));
}

TEST_CASE("the CPU quota comes from the process's cgroup, v1 or v2", "[server][send_rate]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / "skirmish-cgroup-test";
  fs::remove_all(root);
  fs::create_directories(root / "cpu" / "capped");
  fs::create_directories(root / "v2" / "slice");
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(root / "self-v1", "4:memory:/x\n1:cpu:/capped\n0::/\n");
  write(root / "cpu" / "capped" / "cpu.cfs_quota_us", "25000\n");
  write(root / "cpu" / "capped" / "cpu.cfs_period_us", "100000\n");
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "self-v1").string(), root.string()) == Approx(0.25));
  write(root / "self-v2", "0::/slice\n");
  write(root / "v2" / "slice" / "cpu.max", "150000 100000\n");
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "self-v2").string(), (root / "v2").string()) == Approx(1.0));
  write(root / "v2" / "slice" / "cpu.max", "max 100000\n");
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "self-v2").string(), (root / "v2").string()) == Approx(1.0));
  write(root / "v2" / "slice" / "cpu.max", "50000 100000\n");
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "self-v2").string(), (root / "v2").string()) == Approx(0.5));
  write(root / "cpu" / "capped" / "cpu.cfs_quota_us", "-1\n");
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "self-v1").string(), root.string()) == Approx(1.0));
  CHECK(skirmish::server::cgroup_cpu_cores(1.0, (root / "missing").string(), root.string()) == Approx(1.0));
  fs::remove_all(root);
}
