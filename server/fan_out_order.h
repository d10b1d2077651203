// Where a loop starts building a tick's frames. Its due viewers are sorted by the bucket of
// their view (GameBridge::bucket_of), so that neighbours, who see mostly the same entities,
// follow each other; the walk then starts at this index and wraps around.
//
// Each tick starts somewhere else in that order, so that no part of the map always waits
// longest. (Not every other tick from the far end: a viewer served every 2nd or 4th tick would
// always come at the same end.) The start is the stamp hashed (Fibonacci). Each loop starts its
// own share of the way further round the map: loops that walked it in step would all want the
// same entities' pieces at once and each encode them (PieceTable lets the first that encodes
// a piece give it to the others, not the others wait for it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace skirmish::server {

inline std::size_t first_job(std::uint64_t stamp, std::size_t loop, std::size_t loops, std::size_t jobs) {
  if (jobs == 0 || loops == 0) return 0;
  return static_cast<std::size_t>(((stamp * 0x9E3779B97F4A7C15ULL) >> 32) + loop * jobs / loops) % jobs;
}

}  // namespace skirmish::server
