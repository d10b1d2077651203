// The event loops as a world sees them. A world lives on one loop, its home (world i on loop
// i mod server.io_threads): its timer fires there and its tick steps and encodes there. Its
// fan-out runs on every loop that holds viewers of the world, in parallel: each loop builds
// and writes its own viewers' frames from the tick's encoded pieces, which nobody changes
// until the last loop is done. The world's tick knows how many loops there are and which loop
// each viewer is on; not how they run.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace skirmish::server {

class FanOutRunner {
 public:
  virtual ~FanOutRunner() = default;
  virtual std::size_t loops() const = 0;
  // Loop k's libuv loop (for a world's timer: initialise it before the loops' threads run).
  // It counts its idle time (UV_METRICS_IDLE_TIME), which a world's tick reads.
  virtual uv_loop_t* uv_loop(std::size_t k) = 0;
  // Runs `task` on loop k's thread: now, when the caller is on it or the loops' threads do
  // not run (yet, or any more); else posted there.
  virtual void on_loop(std::size_t k, std::function<void()> task) = 0;
  // On loop `home`'s thread, holding no lock another loop may wait for: calls work(k) on loop
  // k's thread for every k with wanted[k] (work(home) on the caller's) and returns once every
  // call has returned. Several worlds may run at once from different homes: a loop that waits
  // for its own world's fan-out meanwhile does its share of the others'.
  virtual void run(std::size_t home, const std::vector<std::uint8_t>& wanted,
                   const std::function<void(std::size_t)>& work) = 0;
};

}  // namespace skirmish::server
