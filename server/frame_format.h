// How a viewer's tick frames are encoded: v1 JSON text, or protocol v2's binary message
// (docs/protocol.md), which a WebSocket client gets by offering the subprotocol skirmish.v2.
#pragma once

#include <cstdint>

namespace skirmish::server {

enum class FrameFormat : std::uint8_t { Json, Binary };

}  // namespace skirmish::server
