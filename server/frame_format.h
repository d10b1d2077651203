// How a viewer's tick frames are encoded: v1 JSON text, or protocol v2's binary message
// (docs/protocol.md), which a WebSocket client gets by offering the subprotocol skirmish.v2.
#pragma once

#include <cstdint>
#include <vector>

namespace skirmish::server {

enum class FrameFormat : std::uint8_t { Json, Binary };

// What a v2 viewer's position predictions rest on (docs/protocol.md): the bridge's stamp at
// its frame before the last, and the ids that entered its view in the last frame (which it
// predicts to stand still). Kept by the bridge between a viewer's frames.
struct FrameHistory {
  std::uint64_t before = 0;
  std::vector<std::uint32_t> entered;  // sorted
};

}  // namespace skirmish::server
