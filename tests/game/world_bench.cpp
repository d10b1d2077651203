// world_bench: times World::step at the scale the issue asks for (10,000 players and
// 1,000 monsters on a 32000 x 32000 map, every player sending input every tick) and,
// separately, one visibility query per player as the server's interest management does.
// Usage: world_bench [players] [monsters] [ticks]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "game/rng.h"
#include "game/world.h"

using namespace skirmish::game;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const int players = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int monsters = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int ticks = argc > 3 ? std::atoi(argv[3]) : 200;
  constexpr int kWarmupTicks = 20;
  constexpr float kViewRadius = 1000;

  GameConfig cfg;
  cfg.world_width = cfg.world_height = 32000;
  cfg.monster_count = monsters;
  cfg.max_players = players;
  cfg.obstacle_count = 100;

  const auto setup_start = Clock::now();
  World world(cfg, 1);
  std::vector<EntityId> ids;
  for (int i = 0; i < players; ++i) ids.push_back(world.add_player("bot"));
  const double setup_ms = ms_since(setup_start);

  // Each bot walks in a direction it changes now and then, and swings a quarter of the time.
  Rng script(7);
  std::vector<PlayerInput> inputs(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) inputs[i] = {ids[i], script.uniform(-1, 1), script.uniform(-1, 1), false};

  std::vector<double> step_ms;
  size_t events = 0;
  for (int t = 0; t < kWarmupTicks + ticks; ++t) {
    for (PlayerInput& in : inputs) {
      if (script.below(40) == 0) {
        in.dx = script.uniform(-1, 1);
        in.dy = script.uniform(-1, 1);
      }
      in.attack = script.below(4) == 0;
    }
    const auto start = Clock::now();
    const auto& ev = world.step(inputs);
    const double ms = ms_since(start);
    if (t >= kWarmupTicks) {
      step_ms.push_back(ms);
      events += ev.size();
    }
  }

  std::vector<double> view_ms;
  std::vector<EntityId> visible;
  size_t seen = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = Clock::now();
    seen = 0;
    for (EntityId id : ids) {
      const Entity* p = world.find(id);
      visible.clear();
      world.query_visible(p->x, p->y, kViewRadius, visible);
      seen += visible.size();
    }
    view_ms.push_back(ms_since(start));
  }

  double total = 0;
  for (double ms : step_ms) total += ms;
  std::printf("world %gx%g, %zu entities (%zu players, %zu monsters), %zu obstacles, grid cell %g\n",
              cfg.world_width, cfg.world_height, world.entities().size(), world.player_count(),
              world.monster_count(), world.obstacles().size(), cfg.grid_cell_size);
  std::printf("setup (world + %d add_player): %.1f ms\n", players, setup_ms);
  std::printf("step over %d ticks: median %.3f ms, p99 %.3f ms, max %.3f ms, mean %.3f ms, %zu events\n",
              ticks, percentile(step_ms, 0.5), percentile(step_ms, 0.99),
              *std::max_element(step_ms.begin(), step_ms.end()), total / static_cast<double>(ticks), events);
  std::printf("query_visible r=%g for every player: median %.3f ms per pass, %.1f ids per query\n",
              kViewRadius, percentile(view_ms, 0.5), static_cast<double>(seen) / static_cast<double>(ids.size()));
  return 0;
}
