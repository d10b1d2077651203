// The two parts that let one world's assemblers share a tick's pieces: an arena whose bytes
// never move while it grows, and a table that keeps the first offer per entry and stamp.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "server/piece_arena.h"
#include "server/piece_table.h"

using namespace skirmish::server;

TEST_CASE("bytes kept in a piece arena stay where they are while it grows", "[server]") {
  PieceArena arena;
  std::vector<std::string_view> kept;
  std::vector<std::string> expected;
  // Far over one block, with pieces of every size up to more than a block.
  for (int i = 0; i < 3000; ++i) {
    const std::string piece(static_cast<std::size_t>(1 + (i * 37) % 300) + (i == 1500 ? 70'000 : 0),
                            static_cast<char>('a' + i % 26));
    kept.push_back(arena.keep(piece));
    expected.push_back(piece);
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    INFO("piece " << i);
    REQUIRE(kept[i] == expected[i]);
    total += expected[i].size();
  }
  CHECK(arena.size() == total);

  arena.reset();
  CHECK(arena.size() == 0);
  const std::string_view again = arena.keep("after a reset");
  CHECK(again == "after a reset");
  CHECK(arena.size() == 13);
}

TEST_CASE("the piece table keeps the first offer of a stamp, two field sets for deltas and tails", "[server]") {
  PieceTable table;
  table.reserve(10);
  const std::string a = "first", b = "second", c = "third";
  PieceTable::Piece piece;

  CHECK_FALSE(table.find(3, PieceTable::kDelta, 1, 7, piece));
  table.offer(3, PieceTable::kDelta, 1, 7, {a.data(), 5, 1, 2});
  table.offer(3, PieceTable::kDelta, 1, 7, {b.data(), 6, 0, 0});  // declined: this one was kept
  REQUIRE(table.find(3, PieceTable::kDelta, 1, 7, piece));
  CHECK(piece.bytes() == "first");
  CHECK(piece.h == 1);
  CHECK(piece.m == 2);

  // A second field set has its own entry; a third finds none free.
  table.offer(3, PieceTable::kDelta, 1, 1, {b.data(), 6, 0, 0});
  table.offer(3, PieceTable::kDelta, 1, 3, {c.data(), 5, 0, 0});
  REQUIRE(table.find(3, PieceTable::kDelta, 1, 1, piece));
  CHECK(piece.bytes() == "second");
  CHECK_FALSE(table.find(3, PieceTable::kDelta, 1, 3, piece));
  REQUIRE(table.find(3, PieceTable::kDelta, 1, 7, piece));
  CHECK(piece.bytes() == "first");

  // Another kind, slot or stamp is another entry.
  CHECK_FALSE(table.find(3, PieceTable::kUpdateTail, 1, 7, piece));
  CHECK_FALSE(table.find(3, PieceTable::kFull, 1, 63, piece));
  CHECK_FALSE(table.find(4, PieceTable::kDelta, 1, 7, piece));
  CHECK_FALSE(table.find(3, PieceTable::kDelta, 2, 7, piece));

  // Fulls and entering records have one entry each.
  table.offer(3, PieceTable::kFull, 1, 63, {a.data(), 5, 0, 0});
  table.offer(3, PieceTable::kEntering, 1, 63, {b.data(), 6, 0, 0});
  REQUIRE(table.find(3, PieceTable::kFull, 1, 63, piece));
  CHECK(piece.bytes() == "first");
  REQUIRE(table.find(3, PieceTable::kEntering, 1, 63, piece));
  CHECK(piece.bytes() == "second");

  // The next tick's offers take the entries over.
  table.offer(3, PieceTable::kDelta, 2, 3, {c.data(), 5, 0, 0});
  REQUIRE(table.find(3, PieceTable::kDelta, 2, 3, piece));
  CHECK(piece.bytes() == "third");
  CHECK_FALSE(table.find(3, PieceTable::kDelta, 1, 7, piece));

  // Stamp 0 (no tick encoded yet) is never kept; slots past the table are not either.
  table.offer(5, PieceTable::kFull, 0, 63, {a.data(), 5, 0, 0});
  CHECK_FALSE(table.find(5, PieceTable::kFull, 0, 63, piece));
  table.offer(10, PieceTable::kFull, 1, 63, {a.data(), 5, 0, 0});
  CHECK_FALSE(table.find(10, PieceTable::kFull, 1, 63, piece));

  // Growing, or clearing, starts afresh.
  table.reserve(100);
  CHECK_FALSE(table.find(3, PieceTable::kDelta, 2, 3, piece));
  table.offer(99, PieceTable::kEntering, 2, 63, {a.data(), 5, 0, 0});
  CHECK(table.find(99, PieceTable::kEntering, 2, 63, piece));
  table.clear();
  CHECK_FALSE(table.find(99, PieceTable::kEntering, 2, 63, piece));
}
