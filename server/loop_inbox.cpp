#include "server/loop_inbox.h"

namespace skirmish::server {

LoopInbox::LoopInbox(uv_loop_t* loop) {
  uv_async_init(loop, &async_, on_async);
  async_.data = this;
}

bool LoopInbox::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
  }
  // Several sends before the loop wakes make one callback: it takes every task waiting.
  uv_async_send(&async_);
  return true;
}

void LoopInbox::on_async(uv_async_t* async) { static_cast<LoopInbox*>(async->data)->run_tasks(); }

void LoopInbox::run_tasks() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

void LoopInbox::close() {
  run_tasks();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  run_tasks();  // anything posted between the two
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

}  // namespace skirmish::server
