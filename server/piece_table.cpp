#include "server/piece_table.h"

#include <algorithm>

namespace skirmish::server {

void PieceTable::reserve(std::size_t slots) {
  if (slots <= slots_) return;
  // Room to grow, so a world that gains entities one by one does not reallocate each tick.
  slots_ = std::max(slots, slots_ + slots_ / 2);
  entries_ = std::make_unique<Entry[]>(slots_ * kEntries);
}

void PieceTable::clear() {
  if (slots_ > 0) entries_ = std::make_unique<Entry[]>(slots_ * kEntries);
}

bool PieceTable::find(std::size_t slot, Kind kind, std::uint64_t stamp, std::uint8_t fields, Piece& out) const {
  if (slot >= slots_ || stamp == 0) return false;  // 0: a fresh entry's, and no tick's
  const std::uint64_t wanted = key(stamp, fields);
  const Entry* e = &entries_[slot * kEntries + first_entry(kind)];
  for (std::size_t i = 0; i < entries_of(kind); ++i) {
    if (e[i].ready.load(std::memory_order_acquire) == wanted) {
      out = e[i].piece;  // written before `ready` was published, and not again in this stamp
      return true;
    }
  }
  return false;
}

bool PieceTable::offer(std::size_t slot, Kind kind, std::uint64_t stamp, std::uint8_t fields, const Piece& piece) {
  if (slot >= slots_ || stamp == 0) return false;
  const std::uint64_t wanted = key(stamp, fields);
  Entry* e = &entries_[slot * kEntries + first_entry(kind)];
  for (std::size_t i = 0; i < entries_of(kind); ++i) {
    std::uint64_t seen = e[i].claim.load(std::memory_order_relaxed);
    // An entry claimed in an earlier stamp is free; keys order by stamp first.
    while (seen < key(stamp, 0)) {
      if (e[i].claim.compare_exchange_weak(seen, wanted, std::memory_order_relaxed)) {
        e[i].piece = piece;
        e[i].ready.store(wanted, std::memory_order_release);
        return true;
      }
    }
    if (seen == wanted) return false;  // someone offered this one first
  }
  return false;
}

}  // namespace skirmish::server
