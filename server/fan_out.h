// Runs one tick's fan-out on every event loop that holds viewers of the world, in parallel:
// each loop builds and writes its own viewers' frames from the tick's encoded pieces, which
// nobody changes until the last loop is done. The world's tick knows how many loops there
// are and which loop each viewer is on; not how they run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace skirmish::server {

class FanOutRunner {
 public:
  virtual ~FanOutRunner() = default;
  virtual std::size_t loops() const = 0;
  // On loop 0's thread, holding no lock another loop may wait for: calls work(k) on loop k's
  // thread for every k >= 1 with wanted[k], and work(0) on the caller's thread when wanted[0];
  // returns once every call has returned.
  virtual void run(const std::vector<std::uint8_t>& wanted, const std::function<void(std::size_t)>& work) = 0;
};

// One loop, the caller's: what a daemon with server.io_threads = 1, and the unit tests, use.
class InlineFanOut final : public FanOutRunner {
 public:
  std::size_t loops() const override { return 1; }
  void run(const std::vector<std::uint8_t>& wanted, const std::function<void(std::size_t)>& work) override {
    if (!wanted.empty() && wanted[0]) work(0);
  }
};

}  // namespace skirmish::server
