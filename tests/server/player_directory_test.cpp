// The player directory on its own: tokens, attach and takeover, detach and reclaim within
// the window, expiry, and a save that restores the same players. No loop, no sockets.
#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "game/world.h"
#include "server/player_directory.h"
#include "server/saved_players.h"

using namespace skirmish;
using server::PlayerDirectory;

namespace {
game::GameConfig quiet_world() {
  game::GameConfig cfg;
  cfg.monster_count = 0;
  cfg.obstacle_count = 0;
  return cfg;
}
}  // namespace

TEST_CASE("tokens name their players until they are forgotten", "[server][directory]") {
  PlayerDirectory d;
  d.add("tok-a", 7);
  d.add("tok-b", 9);
  CHECK(d.find("tok-a") == 7);
  CHECK(d.find("tok-b") == 9);
  CHECK(d.find("nope") == 0);
  REQUIRE(d.token_of(9) != nullptr);
  CHECK(*d.token_of(9) == "tok-b");
  d.forget(7);
  CHECK(d.find("tok-a") == 0);
  CHECK(d.token_of(7) == nullptr);
  CHECK(d.size() == 1);
}

TEST_CASE("the newest viewer wins a player, and the one it replaced is named", "[server][directory]") {
  PlayerDirectory d;
  d.add("t", 5);
  CHECK(d.attach(5, 100) == 0);
  CHECK(d.owner(5) == 100);
  CHECK(d.online() == 1);
  CHECK(d.attach(5, 100) == 0);  // the same viewer again: nobody to tell
  CHECK(d.attach(5, 200) == 100);
  CHECK(d.owner(5) == 200);
  CHECK(d.online() == 1);
}

TEST_CASE("a detached player waits for its token until its deadline", "[server][directory]") {
  PlayerDirectory d;
  d.add("t1", 1);
  d.add("t2", 2);
  d.attach(1, 10);
  d.attach(2, 20);
  d.detach(1, 5000);
  d.detach(2, 8000);
  CHECK(d.online() == 0);
  CHECK(d.is_detached(1));
  CHECK(d.take_expired(4999).empty());
  // Reclaimed in time: no longer waiting, so it does not expire.
  CHECK(d.attach(2, 30) == 0);
  CHECK_FALSE(d.is_detached(2));
  const auto expired = d.take_expired(9000);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0] == 1);
  CHECK(d.find("t1") == 0);   // an expired player's token names nobody
  CHECK(d.find("t2") == 2);
  CHECK(d.take_expired(100000).empty());
}

TEST_CASE("one address keeps at most so many players away: its longest away expires at once", "[server][directory]") {
  PlayerDirectory d;
  for (game::EntityId p = 1; p <= 6; ++p) {
    d.add("t" + std::to_string(p), p);
    d.attach(p, 10 * p);
  }
  d.detach(1, 5000, "10.0.0.1", 2);
  d.detach(2, 5000, "10.0.0.1", 2);
  d.detach(3, 5000, "10.0.0.2", 2);  // another address counts on its own
  CHECK(d.take_expired(10).empty());
  d.detach(4, 5000, "10.0.0.1", 2);  // a third away from 10.0.0.1: player 1 goes
  CHECK(d.take_expired(10) == std::vector<game::EntityId>{1});
  CHECK(d.find("t1") == 0);
  // A player reclaimed in time no longer counts against its address.
  CHECK(d.attach(2, 99) == 0);
  d.detach(5, 5000, "10.0.0.1", 2);
  CHECK(d.take_expired(10).empty());
  CHECK(d.is_detached(4));
  CHECK(d.is_detached(5));
  // Away again later: counted once, as the newest.
  d.detach(2, 6000, "10.0.0.1", 2);
  CHECK(d.take_expired(10) == std::vector<game::EntityId>{4});
  // No limit, or no address: any number wait for their deadline.
  d.detach(6, 5000, "10.0.0.1", 0);
  d.detach(3, 5000, "", 1);
  CHECK(d.take_expired(10).empty());
  const auto expired = d.take_expired(7000);
  CHECK(expired.size() == 4);  // 2, 3, 5, 6
}

TEST_CASE("a snapshot restores the same players, away and reclaimable, under new ids", "[server][directory]") {
  game::World world(quiet_world(), 1);
  PlayerDirectory d;
  const game::EntityId a = world.add_player_at("alice", 100, 200);
  const game::EntityId b = world.add_player_at("bob", 300, 400);
  d.add("token-alice", a);
  d.add("token-bob", b);
  d.attach(a, 1);
  const server::SavedState saved = d.snapshot(world, 1234);
  CHECK(saved.saved_at_ms == 1234);
  REQUIRE(saved.players.size() == 2);

  game::World next(quiet_world(), 1);
  next.add_player_at("someone", 1, 1);  // ids in the new world are taken already
  PlayerDirectory restored;
  CHECK(restored.restore(saved, next, 60000) == 2);
  const game::EntityId alice = restored.find("token-alice");
  REQUIRE(alice != 0);
  const game::Entity* e = next.find(alice);
  REQUIRE(e != nullptr);
  CHECK(e->name == "alice");
  CHECK(e->x == Approx(100));
  CHECK(e->away);
  CHECK(restored.is_detached(alice));
  CHECK(restored.online() == 0);
  // Restoring the same file twice does not duplicate anyone.
  CHECK(restored.restore(saved, next, 60000) == 0);
  CHECK(restored.take_expired(60000).size() == 2);
}

TEST_CASE("a saved player's point beyond float's range is clamped, not converted undefined", "[server][directory]") {
  // From a hand-edited state file or a Redis record: finite as a double, too big for a float.
  const auto p = server::player_from_json(nlohmann::json{{"token", "t"}, {"name", "far"}, {"x", 1e39}, {"y", -1e300},
                                                         {"hp", 100}, {"score", 0}});
  REQUIRE(p);
  CHECK(p->x == std::numeric_limits<float>::max());
  CHECK(p->y == -std::numeric_limits<float>::max());
  PlayerDirectory d;
  game::World world(quiet_world(), 1);
  server::SavedState state;
  state.players.push_back(*p);
  REQUIRE(d.restore(state, world, 1000) == 1);
  const auto* e = world.find(d.find("t"));
  REQUIRE(e);
  // At the world's far edges (however near to them the world lets a player stand).
  CHECK(e->x <= world.config().world_width);
  CHECK(e->x > world.config().world_width * 0.9f);
  CHECK(e->y >= 0.0f);
  CHECK(e->y < world.config().world_height * 0.1f);
}

TEST_CASE("a player's hold changes each time a viewer takes it or lets it go, and records carry it",
          "[server][directory]") {
  game::World world(quiet_world(), 1);
  PlayerDirectory d;
  const game::EntityId p = world.add_player("held");
  d.add("tok", p);
  CHECK(d.hold(p) == 0);  // added, not held yet
  d.attach(p, 100);
  const std::uint64_t first = d.hold(p);
  CHECK(first != 0);
  REQUIRE(d.record(world, p));
  CHECK(d.record(world, p)->hold == first);
  d.detach(p, 1000);
  const std::uint64_t away = d.hold(p);
  CHECK(away != first);  // let go: an answer about the held copy no longer applies
  d.attach(p, 100);      // the same viewer again is a new hold too
  CHECK(d.hold(p) != first);
  CHECK(d.hold(p) != away);
  const auto snap = d.snapshot(world, 0);
  REQUIRE(snap.players.size() == 1);
  CHECK(snap.players[0].hold == d.hold(p));
  // Never the same twice, across players; and gone with the player.
  const game::EntityId q = world.add_player("other");
  d.add("tok-q", q);
  d.attach(q, 200);
  CHECK(d.hold(q) != d.hold(p));
  d.forget(p);
  CHECK(d.hold(p) == 0);
  // Not in the state file.
  CHECK_FALSE(server::player_to_json(*d.record(world, q)).contains("hold"));
}
