#include "server/loop_fan_out.h"

#include <spdlog/spdlog.h>

namespace skirmish::server {

LoopFanOut::LoopFanOut(std::vector<ConnectionLoop*> loops, std::vector<uv_loop_t*> uv_loops,
                       const std::atomic<bool>& threads_running)
    : loops_(std::move(loops)), uv_loops_(std::move(uv_loops)), threads_running_(threads_running) {
  for (std::size_t k = 0; k < loops_.size(); ++k) queues_.push_back(std::make_unique<Queue>());
}

void LoopFanOut::on_loop(std::size_t k, std::function<void()> task) {
  if (!threads_running_ || loops_.at(k)->on_thread()) {
    task();
  } else if (!loops_[k]->post(std::move(task))) {
    spdlog::warn("event loop {} has stopped: a task for it was dropped", k);
  }
}

void LoopFanOut::run_front(Queue& q, std::unique_lock<std::mutex>& lock) {
  auto share = std::move(q.shares.front());
  q.shares.pop_front();
  lock.unlock();
  if (!share->taken.exchange(true)) share->run();  // else its inbox task or a wait ran it
  lock.lock();
}

void LoopFanOut::drain(std::size_t k) {
  Queue& q = *queues_[k];
  std::unique_lock<std::mutex> lock(q.mutex);
  while (!q.shares.empty()) run_front(q, lock);
}

void LoopFanOut::run(std::size_t home, const std::vector<std::uint8_t>& wanted,
                     const std::function<void(std::size_t)>& work) {
  Queue& mine = *queues_.at(home);
  // Under mine.mutex: the shares of this fan-out still running elsewhere.
  std::size_t pending = 0;
  for (std::size_t k = 0; k < loops_.size() && k < wanted.size(); ++k) {
    if (k == home || !wanted[k]) continue;
    auto share = std::make_shared<Share>();
    share->run = [&work, &mine, &pending, k] {
      work(k);
      // The waiter returns (and `pending`, `work` go) only once it sees 0 under this lock.
      std::lock_guard<std::mutex> lock(mine.mutex);
      if (--pending == 0) mine.wake.notify_all();
    };
    {
      std::lock_guard<std::mutex> lock(mine.mutex);
      pending++;
    }
    Queue& theirs = *queues_[k];
    {
      std::lock_guard<std::mutex> lock(theirs.mutex);
      theirs.shares.push_back(share);
      theirs.wake.notify_all();  // that loop may be waiting for a fan-out of its own
    }
    if (!loops_[k]->post([this, k] { drain(k); }) && !share->taken.exchange(true)) {
      // That loop has stopped: it holds no connection, so nothing of it is lost.
      std::lock_guard<std::mutex> lock(mine.mutex);
      pending--;
    }
  }
  if (home < wanted.size() && wanted[home]) work(home);
  std::unique_lock<std::mutex> lock(mine.mutex);
  while (pending > 0) {
    if (!mine.shares.empty()) {
      run_front(mine, lock);  // another world's fan-out wants this loop: do it while ours finishes
    } else {
      mine.wake.wait(lock);
    }
  }
}

}  // namespace skirmish::server
