// Bytes of encoded frame pieces that stay where they are until the next reset(): other
// loops' assemblers hold pointers into it while a tick's frames are built (PieceTable), so
// it grows by adding blocks, never by moving what it holds (as one std::string would).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace skirmish::server {

class PieceArena {
 public:
  // A copy of `bytes` that stays put until reset().
  std::string_view keep(std::string_view bytes);
  // Forgets everything kept (the caller knows no one reads it any more). Blocks are reused;
  // ones the last round did not need are freed, so a rare burst does not pin its peak.
  void reset();
  // Bytes kept since the last reset.
  std::size_t size() const { return kept_; }

 private:
  static constexpr std::size_t kBlockBytes = 64 * 1024;
  struct Block {
    std::unique_ptr<char[]> bytes;  // never reallocated: what it holds stays put
    std::size_t size = 0, used = 0;
  };
  std::vector<Block> blocks_;
  std::size_t current_ = 0;  // the block being filled
  std::size_t kept_ = 0;
};

}  // namespace skirmish::server
