// FanOutRunner over the server's event loops. Each loop has a queue of fan-out shares besides
// its inbox: a share is posted to both (the inbox wakes a loop that sleeps in epoll), and
// whoever comes first runs it. A loop that waits for its own world's fan-out takes shares
// from its queue meanwhile, so two worlds on two loops whose fan-outs need each other's loop
// do not wait for each other forever.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "server/connection_loop.h"
#include "server/fan_out.h"

namespace skirmish::server {

class LoopFanOut final : public FanOutRunner {
 public:
  // `loops` and `uv_loops` by index; `threads_running` says whether the loops' threads run
  // (false before listen() starts them).
  LoopFanOut(std::vector<ConnectionLoop*> loops, std::vector<uv_loop_t*> uv_loops, const std::atomic<bool>& threads_running);
  LoopFanOut(const LoopFanOut&) = delete;
  LoopFanOut& operator=(const LoopFanOut&) = delete;

  std::size_t loops() const override { return loops_.size(); }
  uv_loop_t* uv_loop(std::size_t k) override { return uv_loops_.at(k); }
  void on_loop(std::size_t k, std::function<void()> task) override;
  void run(std::size_t home, const std::vector<std::uint8_t>& wanted,
           const std::function<void(std::size_t)>& work) override;

 private:
  // One loop's part of one fan-out; run once, by its loop, from the inbox or from a wait.
  struct Share {
    std::function<void()> run;
    std::atomic<bool> taken{false};
  };
  struct Queue {
    std::mutex mutex;
    std::condition_variable wake;       // a share arrived, or one of this loop's fan-outs is done
    std::deque<std::shared_ptr<Share>> shares;
  };
  // On loop k's thread: runs the shares waiting in its queue.
  void drain(std::size_t k);
  // Takes `q`'s first share and runs it unless it ran already; `lock` holds q.mutex, released
  // while the share runs.
  static void run_front(Queue& q, std::unique_lock<std::mutex>& lock);

  std::vector<ConnectionLoop*> loops_;
  std::vector<uv_loop_t*> uv_loops_;
  const std::atomic<bool>& threads_running_;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace skirmish::server
