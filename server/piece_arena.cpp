#include "server/piece_arena.h"

#include <algorithm>
#include <cstring>

namespace skirmish::server {

std::string_view PieceArena::keep(std::string_view bytes) {
  // The first block that has room, from the current one on: a large piece may skip a block
  // that still has a little room, which is then left for the next round.
  while (current_ < blocks_.size() && blocks_[current_].size - blocks_[current_].used < bytes.size()) ++current_;
  if (current_ == blocks_.size()) {
    const std::size_t size = std::max(kBlockBytes, bytes.size());
    blocks_.push_back({std::make_unique<char[]>(size), size, 0});
  }
  Block& block = blocks_[current_];
  char* at = block.bytes.get() + block.used;
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  block.used += bytes.size();
  kept_ += bytes.size();
  return {at, bytes.size()};
}

void PieceArena::reset() {
  const std::size_t used = std::min(current_ + 1, blocks_.size());
  if (blocks_.size() > 2 * used) blocks_.resize(2 * used);
  for (Block& block : blocks_) block.used = 0;
  current_ = 0;
  kept_ = 0;
}

}  // namespace skirmish::server
