#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "game/rng.h"
#include "game/world.h"

using namespace skirmish::game;

namespace {

struct Run {
  std::vector<uint64_t> hashes;  // after every step
  size_t events = 0;
};

// 30 players with scripted inputs (from their own generator, independent of the world
// seed), attacks, one leaving and one joining midway, over the default 200-monster map.
Run scripted_run(uint64_t seed, int steps = 500) {
  World w(GameConfig{}, seed);
  std::vector<EntityId> players;
  for (int i = 0; i < 30; ++i) players.push_back(w.add_player("p" + std::to_string(i)));
  Rng script(12345);
  std::vector<PlayerInput> inputs;
  Run run;
  for (int t = 0; t < steps; ++t) {
    if (t == 100) w.remove_player(players[5]);
    if (t == 200) players.push_back(w.add_player("late"));
    inputs.clear();
    for (EntityId id : players) {
      const float dx = script.uniform(-1.5f, 1.5f), dy = script.uniform(-1.5f, 1.5f);
      inputs.push_back({id, dx, dy, script.below(3) == 0});
    }
    run.events += w.step(inputs).size();
    run.hashes.push_back(w.state_hash());
  }
  return run;
}

}  // namespace

TEST_CASE("the same seed and inputs give the same state hash on every step", "[game]") {
  const Run a = scripted_run(2024);
  const Run b = scripted_run(2024);
  REQUIRE(a.hashes.size() == 500);
  CHECK(a.hashes == b.hashes);
  CHECK(a.events > 0);  // the script really fights, so the hash covers combat
}

TEST_CASE("different seeds give different states", "[game]") {
  const Run a = scripted_run(1, 50);
  const Run b = scripted_run(2, 50);
  CHECK(a.hashes.back() != b.hashes.back());
  CHECK(World(GameConfig{}, 1).state_hash() != World(GameConfig{}, 2).state_hash());
}

TEST_CASE("the same seed builds the same obstacles and monster spawns", "[game]") {
  const World a(GameConfig{}, 77), b(GameConfig{}, 77);
  REQUIRE(a.obstacles().size() == b.obstacles().size());
  for (size_t i = 0; i < a.obstacles().size(); ++i) {
    CHECK(a.obstacles()[i].x == b.obstacles()[i].x);
    CHECK(a.obstacles()[i].h == b.obstacles()[i].h);
  }
  REQUIRE(a.entities().size() == b.entities().size());
  for (size_t i = 0; i < a.entities().size(); ++i) {
    CHECK(a.entities()[i].x == b.entities()[i].x);
    CHECK(a.entities()[i].monster_kind == b.entities()[i].monster_kind);
  }
}

TEST_CASE("a copied world evolves exactly like the original", "[game]") {
  World a(GameConfig{}, 5);
  const EntityId p = a.add_player("p");
  for (int i = 0; i < 50; ++i) a.step({{p, 1, 0, true}});
  World b = a;
  for (int i = 0; i < 200; ++i) {
    const std::vector<PlayerInput> in{{p, i % 7 - 3.0f, i % 5 - 2.0f, i % 2 == 0}};
    a.step(in);
    b.step(in);
    REQUIRE(a.state_hash() == b.state_hash());
  }
}
