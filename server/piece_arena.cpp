#include "server/piece_arena.h"

#include <algorithm>

namespace skirmish::server {

std::string_view PieceArena::keep(std::string_view bytes) {
  // The first block that has room, from the current one on: a large piece may skip a block
  // that still has a little room, which is then left for the next round.
  while (current_ < blocks_.size() && blocks_[current_].capacity() - blocks_[current_].size() < bytes.size()) {
    ++current_;
  }
  if (current_ == blocks_.size()) {
    blocks_.emplace_back();
    blocks_.back().reserve(std::max(kBlockBytes, bytes.size()));
  }
  std::string& block = blocks_[current_];
  const std::size_t at = block.size();
  block.append(bytes);  // within its capacity: nothing moves
  kept_ += bytes.size();
  return {block.data() + at, bytes.size()};
}

void PieceArena::reset() {
  const std::size_t used = std::min(current_ + 1, blocks_.size());
  if (blocks_.size() > 2 * used) blocks_.resize(2 * used);
  for (std::string& block : blocks_) block.clear();  // keeps its capacity
  current_ = 0;
  kept_ = 0;
}

}  // namespace skirmish::server
