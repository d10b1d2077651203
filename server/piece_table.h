// One tick's encoded frame pieces, per entity slot: an entity's full record (v1) and entering
// record (v2), and its v1 delta and v2 update tail for a set of wire fields, two sets each (a
// tick's viewers ask for few: one per send phase). A FrameAssembler finds a piece here or
// encodes it and offers it.
//
// One world's assemblers on every event loop share one table (GameBridge holds it), so that a
// tick's pieces are encoded once however many loops build frames from it: with eight loops
// each encoding nearly every entity for its own viewers, that duplicate had become a large
// part of the fan-out (issue 15). Nobody waits: an assembler that misses encodes for itself,
// and the first offer per entry and stamp is kept, so two that want the same piece at the same
// moment may both encode it. A piece's bytes live in the arena of the assembler that encoded
// it, which is reset only at that assembler's next tick, after every loop is done with this
// one (the fan-out is fork-join). The table is sized between fan-outs (on the world's loop)
// and read and written during them only through each entry's two atomic words.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace skirmish::server {

class PieceTable {
 public:
  enum Kind : std::uint8_t { kFull, kEntering, kDelta, kUpdateTail };
  // Some bytes, and v2's h bits and m byte of an update tail.
  struct Piece {
    const char* data = nullptr;
    std::uint32_t len = 0;
    std::uint8_t h = 0, m = 0;
    std::string_view bytes() const { return {data, len}; }
  };

  // Between fan-outs: room for entity slots 0..slots-1. It only grows, and a grown table
  // starts empty (entries of earlier stamps are never read anyway).
  void reserve(std::size_t slots);
  // Between fan-outs: forgets every piece (for a table that is to serve another bridge,
  // whose stamps may be the same numbers).
  void clear();
  // The piece of `kind` for `slot` encoded in `stamp` for `fields` (fulls: kFieldAll), if
  // one was offered. Stamps count from 1.
  bool find(std::size_t slot, Kind kind, std::uint64_t stamp, std::uint8_t fields, Piece& out) const;
  // Keeps the piece unless its kind's entries of this slot already hold this stamp's pieces
  // (or that one, offered first); says whether it was kept.
  bool offer(std::size_t slot, Kind kind, std::uint64_t stamp, std::uint8_t fields, const Piece& piece);

 private:
  // `claim` and `ready` hold (stamp << 8 | fields): the claim is taken by the one offer kept,
  // and `ready` published (release) once the piece is written.
  struct Entry {
    std::atomic<std::uint64_t> claim{0};
    std::atomic<std::uint64_t> ready{0};
    Piece piece;
  };
  static constexpr std::size_t kEntries = 6;  // full, entering, two deltas, two tails
  static std::size_t first_entry(Kind kind) { return kind == kFull ? 0 : kind == kEntering ? 1 : kind == kDelta ? 2 : 4; }
  static std::size_t entries_of(Kind kind) { return kind == kFull || kind == kEntering ? 1 : 2; }
  static std::uint64_t key(std::uint64_t stamp, std::uint8_t fields) { return stamp << 8 | fields; }

  std::unique_ptr<Entry[]> entries_;  // slot * kEntries + entry
  std::size_t slots_ = 0;
};

}  // namespace skirmish::server
