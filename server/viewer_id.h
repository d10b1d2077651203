// A viewer, as the directory and the game know it: never reused while the process runs.
// Apart so that the tick's pieces (viewer.h, input_queue.h) need not include the directory.
#pragma once

#include <cstdint>

namespace skirmish::server {

using ViewerId = std::uint64_t;

}  // namespace skirmish::server
