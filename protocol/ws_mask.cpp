#include "protocol/ws_mask.h"

#include <cstring>

namespace skirmish::protocol {

void apply_mask(char* data, std::size_t len, const MaskKey& key, std::size_t offset) {
  // Rotate the key so that rotated[0] applies to data[0]; then eight bytes at a time use
  // the same pattern twice, whatever the alignment of the piece inside the payload.
  std::uint8_t pattern[8];
  for (std::size_t i = 0; i < 8; ++i) pattern[i] = key[(offset + i) & 3];
  std::uint64_t word_mask;
  std::memcpy(&word_mask, pattern, sizeof word_mask);

  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    word ^= word_mask;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (; i < len; ++i) data[i] = static_cast<char>(data[i] ^ pattern[i & 7]);
}

}  // namespace skirmish::protocol
