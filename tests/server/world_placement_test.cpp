// Where a player who names no world is placed (server/world_placement.h).
#include "server/world_placement.h"

#include <catch2/catch.hpp>

using skirmish::server::place_player;
using skirmish::server::WorldLoad;

TEST_CASE("the first world fills to a lively size before the next opens", "[placement]") {
  CHECK(place_player({{0, 100}, {0, 100}}, 40) == 0u);
  CHECK(place_player({{39, 100}, {0, 100}}, 40) == 0u);
  CHECK(place_player({{40, 100}, {0, 100}}, 40) == 1u);
  CHECK(place_player({{40, 100}, {12, 100}, {0, 100}}, 40) == 1u);
}

TEST_CASE("under the lively size, the world with the most players: company first", "[placement]") {
  // An empty first world (a restart, players who picked the second) does not get a newcomer
  // alone while the second has a fight going.
  CHECK(place_player({{0, 100}, {14, 100}}, 40) == 1u);
  CHECK(place_player({{5, 100}, {39, 100}}, 40) == 1u);
  CHECK(place_player({{39, 100}, {5, 100}}, 40) == 0u);
  CHECK(place_player({{40, 100}, {3, 100}, {7, 100}}, 40) == 2u);
  CHECK(place_player({{0, 100}, {6, 100}, {6, 100}}, 40) == 1u);  // the first of equals
  // A world under the lively size but full is passed over.
  CHECK(place_player({{3, 3}, {1, 100}}, 40) == 1u);
}

TEST_CASE("once all are lively, the world with the most room", "[placement]") {
  CHECK(place_player({{60, 100}, {45, 100}}, 40) == 1u);
  CHECK(place_player({{45, 100}, {45, 100}}, 40) == 0u);  // the first of equals
  CHECK(place_player({{40, 50}, {41, 100}}, 40) == 1u);   // room, not players, decides
}

TEST_CASE("never over a world's capacity", "[placement]") {
  CHECK(place_player({{2, 2}, {1, 2}}, 40) == 1u);  // lively is above the capacity: the full one is passed over
  CHECK(place_player({{2, 2}, {2, 2}}, 40) == std::nullopt);
  CHECK(place_player({}, 40) == std::nullopt);
  CHECK(place_player({{0, 0}}, 40) == std::nullopt);
}
