// Inputs on their way from a viewer's event loop to its world's: pushed by the loop that read
// them, with no lock but this queue's own, and taken all at once at the world's next tick,
// which applies them in arrival order. The game's lock is not taken per input, so a loop is
// never held up by a world stepping or encoding on another loop.
#pragma once

#include <mutex>
#include <vector>

#include "server/viewer_id.h"

namespace skirmish::server {

struct QueuedInput {
  ViewerId viewer = 0;
  float dx = 0, dy = 0;
  bool attack = false;
  bool has_seq = false;  // the client numbered it (`seq`): its frames acknowledge it
  std::uint32_t seq = 0;
};

class InputQueue {
 public:
  // Any thread.
  void push(const QueuedInput& input) {
    std::lock_guard<std::mutex> lock(mutex_);
    arrived_.push_back(input);
  }
  // The world's loop: everything pushed so far, in order, into `into` (cleared first; its
  // capacity comes back as the next round's, so a steady state allocates nothing).
  void take(std::vector<QueuedInput>& into) {
    into.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    arrived_.swap(into);
  }

 private:
  std::mutex mutex_;
  std::vector<QueuedInput> arrived_;  // under mutex_
};

}  // namespace skirmish::server
