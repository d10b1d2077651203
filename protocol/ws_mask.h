// The RFC 6455 section 5.3 masking transform, shared by the decoder (unmasking client
// frames) and the client-side encoder (masking them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace skirmish::protocol {

using MaskKey = std::array<std::uint8_t, 4>;

// XORs `len` bytes in place with the key. `offset` is the payload position of data[0]:
// payloads arrive in pieces, and byte i of a payload uses key[i % 4].
void apply_mask(char* data, std::size_t len, const MaskKey& key, std::size_t offset);

}  // namespace skirmish::protocol
