#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "game/rng.h"
#include "game/spatial_grid.h"
#include "game/visibility_index.h"
#include "game/world.h"

using namespace skirmish::game;

namespace {

std::vector<EntityId> brute_force(const World& w, float x, float y, float r) {
  std::vector<EntityId> ids;
  for (const Entity& e : w.entities()) {
    const float dx = e.x - x, dy = e.y - y;
    if (e.visible() && dx * dx + dy * dy <= r * r) ids.push_back(e.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Random queries, including radius 0 on an entity, huge radii and centres off the map.
void check_queries(const World& w, Rng& rng, int n) {
  std::vector<EntityId> got;
  for (int i = 0; i < n; ++i) {
    float x = rng.uniform(-500, 3700), y = rng.uniform(-500, 3700);
    float r = rng.below(10) == 0 ? rng.uniform(0, 5000) : rng.uniform(0, 600);
    if (i % 17 == 0) {
      const Entity& e = w.entities()[rng.below(static_cast<uint32_t>(w.entities().size()))];
      x = e.x;
      y = e.y;
      r = 0;
    }
    got.clear();
    w.query_visible(x, y, r, got);
    INFO("query " << i << " at (" << x << ", " << y << ") r " << r);
    REQUIRE(got == brute_force(w, x, y, r));
  }
}

}  // namespace

TEST_CASE("query_visible equals a brute-force scan for random positions and radii", "[game]") {
  GameConfig cfg;
  cfg.monster_count = 300;
  World w(cfg, 11);
  Rng rng(99);
  std::vector<EntityId> players;
  for (int i = 0; i < 200; ++i) players.push_back(w.add_player("p"));
  for (const Entity& e : std::vector<Entity>(w.entities()))
    w.set_position(e.id, rng.uniform(0, 3200), rng.uniform(0, 3200));
  for (int i = 0; i < 40; ++i) w.set_hp(w.entities()[rng.below(300)].id, 0);  // some invisible
  check_queries(w, rng, 400);

  // After movement, deaths, respawns and removals the grid must still be exact.
  std::vector<PlayerInput> inputs;
  for (int t = 0; t < 100; ++t) {
    if (t == 50)
      for (int i = 0; i < 20; ++i) w.remove_player(players[static_cast<size_t>(i * 7)]);
    inputs.clear();
    for (EntityId id : players) inputs.push_back({id, rng.uniform(-1, 1), rng.uniform(-1, 1), true});
    w.step(inputs);
  }
  check_queries(w, rng, 400);
}

TEST_CASE("query_visible appends sorted ids after what out already holds", "[game]") {
  GameConfig cfg;
  cfg.monster_count = 50;
  World w(cfg, 3);
  std::vector<EntityId> out{1000000};
  w.query_visible(1600, 1600, 5000, out);
  REQUIRE(out.size() == 51);
  CHECK(out[0] == 1000000);
  CHECK(std::is_sorted(out.begin() + 1, out.end()));
}

TEST_CASE("a negative or NaN radius finds nothing", "[game]") {
  World w(GameConfig{}, 3);
  std::vector<EntityId> out;
  w.query_visible(1600, 1600, -1, out);
  w.query_visible(1600, 1600, std::numeric_limits<float>::quiet_NaN(), out);
  CHECK(out.empty());
}

TEST_CASE("the grid clamps positions to its border cells", "[game]") {
  SpatialGrid g(1000, 500, 100);
  CHECK(g.cols() == 10);
  CHECK(g.rows() == 5);
  CHECK(g.cell_of(-50, -50) == 0);
  CHECK(g.cell_of(1000, 500) == 49);  // the far edge belongs to the last cell
  CHECK(g.cell_of(5000, 0) == 9);
}

TEST_CASE("the grid erases and renames items within a cell", "[game]") {
  SpatialGrid g(1000, 1000, 100);
  const uint32_t c = g.cell_of(150, 150);
  g.insert(c, 1);
  g.insert(c, 2);
  g.insert(c, 3);
  g.erase(c, 2);
  g.replace(c, 3, 7);
  std::vector<uint32_t> seen;
  g.for_each_near(150, 150, 0, [&](uint32_t i) { seen.push_back(i); });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<uint32_t>{1, 7});
}

TEST_CASE("a huge world with tiny cells keeps the cell count bounded", "[game]") {
  SpatialGrid g(1e7f, 1e7f, 1);
  CHECK(static_cast<int64_t>(g.cols()) * g.rows() <= SpatialGrid::kMaxCells);
  CHECK(g.cell_size() > 1);
}

TEST_CASE("VisibilityIndex answers exactly as World::query_visible, tick after tick", "[game]") {
  GameConfig cfg;
  cfg.monster_count = 300;
  World w(cfg, 5);
  Rng rng(7);
  for (int i = 0; i < 200; ++i) w.add_player("p");
  for (int i = 0; i < 40; ++i) w.set_hp(w.entities()[rng.below(300)].id, 0);  // some invisible
  VisibilityIndex index(w.config());
  std::vector<World::VisibleRef> got, want;
  std::vector<PlayerInput> inputs;
  for (int t = 0; t < 60; ++t) {
    inputs.clear();
    for (const Entity& e : w.entities())
      if (e.kind == EntityKind::Player) inputs.push_back({e.id, rng.uniform(-1, 1), rng.uniform(-1, 1), t % 3 == 0});
    if (t == 30)
      for (int i = 0; i < 20; ++i) w.remove_player(inputs[static_cast<std::size_t>(i)].player);
    w.step(inputs);
    index.rebuild(w);
    for (int q = 0; q < 30; ++q) {
      float x = rng.uniform(-500, 3700), y = rng.uniform(-500, 3700);
      const float r = q == 0 ? 5000 : rng.uniform(0, 900);
      if (q % 7 == 0) {
        const Entity& e = w.entities()[rng.below(static_cast<uint32_t>(w.entities().size()))];
        x = e.x;
        y = e.y;
      }
      got.assign(1, {0, 0});  // appends after what `out` holds
      want.assign(1, {0, 0});
      index.query(x, y, r, got);
      w.query_visible(x, y, r, want);
      INFO("tick " << t << " query at (" << x << ", " << y << ") r " << r);
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].id == want[i].id);
        REQUIRE(got[i].index == want[i].index);
      }
    }
  }
  got.clear();
  index.query(100, 100, -1, got);
  REQUIRE(got.empty());
}
