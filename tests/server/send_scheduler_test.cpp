// The send-rate levels: watchers give up rate before players, one step at a time, back down
// with hysteresis; without a budget every viewer is due exactly once per k ticks, under one
// every viewer waits its turn in line; the cgroup quota is read.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "server/cpu_allowance.h"
#include "server/send_scheduler.h"

using skirmish::server::SendScheduler;

namespace {
// Runs `ticks` ticks at a load that follows the plan: `cost` is the load of one frame a tick
// (the loop's CPU per frame against what it may use), plus `base` for everything else, which
// has been `steady_base` over the last seconds (by default: `base`, it has not changed).
void run_at_cost(SendScheduler& s, double cost, double base, std::size_t players, std::size_t watchers, int ticks,
                 double steady_base = -1) {
  if (steady_base < 0) steady_base = base;
  for (int i = 0; i < ticks; ++i) {
    const double served = s.limited() ? s.player_frames() + s.watcher_frames() : double(players + watchers);
    // The loop measures the load and, from the fan-out's CPU per frame, what would fit.
    s.update({base + cost * served, 0.0, (SendScheduler::kTargetLoad - base) / cost,
              (SendScheduler::kTargetLoad - steady_base) / cost},
             players, watchers);
  }
}
}  // namespace

TEST_CASE("under load watchers lose send rate first, then players, then viewers are shed", "[server][send_rate]") {
  SendScheduler s;
  s.update({0.3, 0.0, 1e18}, 20, 3000);
  CHECK(s.level() == 0);
  CHECK_FALSE(s.limited());
  // Capacity for about 900 frames a tick: watchers every 3rd to 4th tick, players every tick.
  run_at_cost(s, 0.85 / 900, 0.02, 20, 3000, 400);
  CHECK(s.limited());
  CHECK(s.k_players() == 1);
  CHECK(s.player_frames() == Approx(20));
  CHECK(s.k_watchers() >= 3);
  CHECK(s.level() >= 2);
  CHECK(s.level() <= 3);
  // Capacity for about 500: watchers below every 4th tick (a share of them, the longest
  // waiting), players untouched.
  SendScheduler t;
  run_at_cost(t, 0.85 / 500, 0.02, 20, 3000, 400);
  CHECK(t.level() == SendScheduler::kShedWatchersLevel);
  CHECK(t.k_players() == 1);
  CHECK(t.player_frames() == Approx(20));
  CHECK(t.k_watchers() == 4);
  CHECK(t.watcher_frames() < 3000 / 4.0);
  CHECK(t.watcher_frames() >= 3000 / 4.0 * SendScheduler::kWatcherFloor);
  // Capacity for about 450 with 1,000 players and 1,000 watchers: players give up rate,
  // watchers sit at their floor.
  SendScheduler u;
  run_at_cost(u, 0.85 / 450, 0.02, 1000, 1000, 400);
  CHECK(u.level() > SendScheduler::kShedWatchersLevel);
  CHECK(u.k_players() > 1);
  CHECK(u.watcher_frames() == Approx(1000 / 4.0 * SendScheduler::kWatcherFloor));
  // Capacity for 20 frames a tick: everything is shed, but never to nothing, and the
  // watchers' floor takes no more than half of it.
  SendScheduler v;
  run_at_cost(v, 0.85 / 20, 0.02, 1000, 1000, 400);
  CHECK(v.level() == SendScheduler::kShedLevel);
  CHECK(v.player_frames() > 0);
  CHECK(v.watcher_frames() > 0);
  CHECK(v.watcher_frames() <= v.player_frames() + 1e-9);
  CHECK(v.player_frames() + v.watcher_frames() < 60);
}

TEST_CASE("the plan settles inside the load band and comes back when the load goes", "[server][send_rate]") {
  SendScheduler s;
  const double cost = 0.85 / 1000;
  run_at_cost(s, cost, 0.02, 20, 3000, 400);
  const int settled = s.level();
  CHECK(settled >= 2);
  // Settled: the load it sees is inside [low, high] and the level no longer moves.
  for (int i = 0; i < 100; ++i) {
    run_at_cost(s, cost, 0.02, 20, 3000, 1);
    CHECK(s.level() == settled);
  }
  // The viewers leave: back to everyone every tick, no budget.
  run_at_cost(s, cost, 0.02, 20, 100, 400);
  CHECK(s.level() == 0);
  CHECK(s.budget() > 1e17);
}

TEST_CASE("at every send interval each viewer is due once every k ticks, phases spread evenly", "[server][send_rate]") {
  // No budget, a configured interval (game.send_every_ticks = k): phases place the viewers.
  for (int k : {1, 2, 3, 4}) {
    SendScheduler s;
    s.set_min_k(k);
    s.update({0.3, 0.0, 1e18}, 0, 12);
    REQUIRE_FALSE(s.limited());
    REQUIRE(s.k_watchers() == k);
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

namespace {
// What the world's tick does with the plan, for one class: each tick the due viewers, of them
// the budget's count (its fractions carried) that waited longest. Returns each viewer's frames
// over the last `measured` ticks and checks the gaps and the frames a tick as it goes.
std::vector<int> serve_under_budget(SendScheduler& s, bool players, std::size_t n, int ticks, int measured,
                                    std::uint64_t& largest_gap, std::size_t& most_a_tick) {
  std::vector<std::uint64_t> last(n, 0), turn(n, 0);
  std::vector<int> frames(n, 0);
  std::vector<SendScheduler::Due> due;
  std::uint64_t next_turn = 0;
  double carry = 0;
  largest_gap = 0;
  most_a_tick = 0;
  for (int t = 1; t <= ticks; ++t) {
    const auto tick = static_cast<std::uint64_t>(t);
    due.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t waited = last[i] == 0 ? UINT64_MAX : tick - last[i];
      if (s.due(tick, static_cast<std::uint8_t>(i % SendScheduler::kPhases), players, waited)) {
        due.push_back({last[i], turn[i], i});
      }
    }
    const double want = (players ? s.player_frames() : s.watcher_frames()) + carry;
    const auto budget = static_cast<std::size_t>(want);
    carry = want - static_cast<double>(budget);
    const std::size_t served = SendScheduler::pick_longest_waiting(due, budget);
    for (std::size_t j = 0; j < served; ++j) {
      const std::uint32_t i = due[j].index;
      if (t > ticks - measured) {
        frames[i]++;
        largest_gap = std::max(largest_gap, tick - last[i]);
        most_a_tick = std::max(most_a_tick, served);
      }
      last[i] = tick;
      turn[i] = ++next_turn;
    }
  }
  return frames;
}
}  // namespace

TEST_CASE("under a budget every viewer is served in turn: gaps of k or k + 1 ticks, one rate for all",
          "[server][send_rate]") {
  // 1,000 players, capacity for about 220 frames a tick (the budget settles near 235: every
  // 4.25th tick, shed past k = 4), and about 300 (near 321: every 3.1st, k = 3). Viewers served
  // a tick late must not stay late.
  for (double capacity : {220.0, 300.0}) {
    SendScheduler s;
    run_at_cost(s, 0.85 / capacity, 0.02, 1000, 0, 400);
    REQUIRE(s.limited());
    const double per_tick = s.player_frames();
    REQUIRE(per_tick < 1000.0 / 3);
    std::uint64_t largest_gap = 0;
    std::size_t most_a_tick = 0;
    const std::vector<int> frames = serve_under_budget(s, true, 1000, 400, 200, largest_gap, most_a_tick);
    const auto [fewest, most] = std::minmax_element(frames.begin(), frames.end());
    INFO("capacity " << capacity << ", " << per_tick << " frames a tick, k " << s.k_players());
    // The same rate for everyone: 200 ticks give each viewer the same count, give or take one.
    CHECK(*most - *fewest <= 1);
    CHECK(static_cast<double>(*fewest) >= 200 * per_tick / 1000 - 1);
    CHECK(largest_gap <= static_cast<std::uint64_t>(std::ceil(1000 / per_tick)));
    // Everyone due is served each tick the budget allows it (the line is never short of due).
    CHECK(most_a_tick == static_cast<std::size_t>(std::ceil(per_tick)));
  }
}

TEST_CASE("a viewer skipped past its turn is due at once", "[server][send_rate]") {
  SendScheduler s;
  run_at_cost(s, 0.85 / 650, 0.0, 20, 3000, 400);
  REQUIRE(s.k_watchers() == 4);
  CHECK(s.due(1001, 0, false, 5));
  CHECK_FALSE(s.due(1001, 0, false, 3));
  // Under a budget the phase does not matter: k ticks waited is due, fewer is not, at any tick.
  REQUIRE(s.limited());
  for (std::uint64_t tick = 1000; tick < 1012; ++tick) {
    CHECK(s.due(tick, 0, false, 4));
    CHECK_FALSE(s.due(tick, 0, false, 3));
  }
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

TEST_CASE("game.send_every_ticks serves everyone every k-th tick when nothing is loaded", "[server][send_rate]") {
  SendScheduler s;
  s.set_min_k(3);
  s.update({0.2, 0.0, 1e18}, 10, 10);
  CHECK(s.k_players() == 3);
  CHECK(s.k_watchers() == 3);
  CHECK_FALSE(s.limited());
  CHECK(s.level() == 0);
  s.set_min_k(9);  // clamped to 4
  s.update({0.2, 0.0, 1e18}, 10, 10);
  CHECK(s.k_players() == 4);
}

TEST_CASE("a heavy base load (the simulation) does not drive the budget to nothing", "[server][send_rate]") {
  // 10,000 players: the simulation alone takes half of what the loop may use; each frame a tick
  // costs 0.00005, so all of them would be 1.0. What is left at the target load fits
  // (kTargetLoad - 0.5) / 0.00005 frames a tick: most players every tick, the longest waiting first.
  SendScheduler s;
  run_at_cost(s, 0.00005, 0.5, 10000, 0, 400);
  const double fits = (SendScheduler::kTargetLoad - 0.5) / 0.00005;
  CHECK(s.limited());
  CHECK(s.player_frames() > fits * 0.9);
  CHECK(s.player_frames() < 10000);
  CHECK(s.k_players() == 1);
}

TEST_CASE("a storm of handshakes does not take a few players' rate, and the budget is back soon after",
          "[server][send_rate]") {
  // 10 players and 1,500 watchers, about 600 frames a tick fit. Then for 2 s something that is
  // not the fan-out (a storm of handshakes) takes more than the whole CPU: the spare CPU reads
  // as nothing, so the budget is cut step after step. The loop's base load over the last
  // seconds (smoothed as WorldTick does, 1 % a tick) rises much more slowly.
  SendScheduler s;
  const double cost = 0.85 / 600;
  run_at_cost(s, cost, 0.02, 10, 1500, 200);
  const double settled = s.player_frames() + s.watcher_frames();
  CHECK(settled > 500);
  double steady = 0.02;
  for (int i = 0; i < 40; ++i) {
    steady = steady * 0.99 + 1.2 * 0.01;
    run_at_cost(s, cost, 1.2, 10, 1500, 1, steady);
    // Every player every tick; the watchers give up their rate down to their floor, and
    // below it 5 % a step (8 steps in 2 s).
    CHECK(s.k_players() == 1);
    CHECK(s.player_frames() == Approx(10));
    CHECK(s.watcher_frames() >= 1500 / 4.0 * SendScheduler::kWatcherFloor * 0.6);
  }
  CHECK(s.watcher_frames() < settled / 2);
  // The storm is over: within a second (the smoothed load falls over a few ticks) the budget
  // is back.
  int ticks = 0;
  while (s.player_frames() + s.watcher_frames() < settled * 0.9 && ticks < 20) {
    steady = steady * 0.99 + 0.02 * 0.01;
    run_at_cost(s, cost, ticks < 5 ? 0.6 : 0.02, 10, 1500, 1, steady);
    ++ticks;
    CHECK(s.player_frames() == Approx(10));
  }
  CHECK(ticks < 20);

  // A storm that lasts (the base load stays over the whole CPU): what the players and the
  // watchers' floor need is more than the steady capacity too, and the budget goes on down.
  for (int i = 0; i < 400; ++i) run_at_cost(s, cost, 1.2, 10, 1500, 1, steady = steady * 0.99 + 1.2 * 0.01);
  CHECK(s.player_frames() + s.watcher_frames() < 20);
  CHECK(s.player_frames() >= s.watcher_frames());
}

TEST_CASE("a loop that keeps running late is over, however idle its CPU looks", "[server][send_rate]") {
  SendScheduler s;
  for (int i = 0; i < 50; ++i) s.update({0.3, 0.8, 500.0}, 20, 3000);
  CHECK(s.limited());
  CHECK(s.player_frames() + s.watcher_frames() <= 501);
}

TEST_CASE("a budget cut by one noisy reading creeps back while the load is under the target", "[server][send_rate]") {
  SendScheduler s;
  const double cost = 0.85 / 1000, base = 0.02;
  const double capacity = (SendScheduler::kTargetLoad - base) / cost;
  run_at_cost(s, cost, base, 4000, 0, 400);
  REQUIRE(s.limited());
  CHECK(s.budget() == Approx(capacity).epsilon(0.02));
  // One reading over the band (a hiccup that is not the fan-out's): the budget is cut 5 %, and
  // the load that follows (about 0.88) is inside the band, under the target.
  for (int i = 0; i < 5; ++i) s.update({0.99, 0.0, capacity, capacity}, 4000, 0);
  const double cut = s.budget();
  CHECK(cut < capacity * 0.96);
  CHECK(base + cost * cut > 0.85);
  // It comes back to the capacity, at most 2 % a step.
  run_at_cost(s, cost, base, 4000, 0, 5);
  CHECK(s.budget() <= cut * 1.02 + 1e-9);
  run_at_cost(s, cost, base, 4000, 0, 200);
  CHECK(s.budget() == Approx(capacity).epsilon(0.02));
}

TEST_CASE("inside the band, a budget that everyone fits in is dropped", "[server][send_rate]") {
  // A heavy base load: the budget settles for 4,000 players, then most of them leave and the
  // load, everyone served every tick, stays inside the band (0.2 + 800 * 0.00085 = 0.88).
  SendScheduler s;
  const double cost = 0.85 / 1000, base = 0.2;
  run_at_cost(s, cost, base, 4000, 0, 400);
  REQUIRE(s.limited());
  run_at_cost(s, cost, base, 800, 0, 20);
  CHECK_FALSE(s.limited());
  CHECK(s.level() == 0);
  CHECK(s.k_players() == 1);
}

TEST_CASE("a simulation that takes all the CPU leaves the fan-out its floor", "[server][send_rate]") {
  // Everything that is not the fan-out already takes more than the target load: the spare CPU
  // reads as nothing, and without a floor the budget sank to a frame or two a tick (viewers
  // got a frame in 20-40 s). The floor is what kFloorShare of the CPU affords.
  SendScheduler s;
  for (int i = 0; i < 400; ++i) {
    SendScheduler::Measure m;
    m.load = 1.2;
    m.capacity = 0;
    m.steady_capacity = 0;
    m.floor = 40;
    s.update(m, 6, 4);
  }
  CHECK(s.limited());
  CHECK(s.budget() >= 40);
  CHECK(s.player_frames() + s.watcher_frames() == Approx(10));  // 10 viewers: all of them, every tick
}
