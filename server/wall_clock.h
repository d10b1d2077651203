// The wall clock in milliseconds since the Unix epoch: what frames' "ts" and saved state say
// (monotonic time is uv_now / uv_hrtime).
#pragma once

#include <chrono>
#include <cstdint>

namespace skirmish::server {

inline std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace skirmish::server
