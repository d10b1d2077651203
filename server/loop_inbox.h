// Tasks for one event loop, posted from any thread. uv_async_send is the only libuv call that
// is safe from another thread, so this is the only way one loop asks another to do something:
// the task runs on the inbox's loop, in the order posted.
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

namespace skirmish::server {

class LoopInbox {
 public:
  // On the loop's thread, or before that thread runs the loop.
  explicit LoopInbox(uv_loop_t* loop);
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // Any thread. False (and the task dropped) once the inbox is closed.
  bool post(std::function<void()> task);
  // On the loop's thread: tasks still waiting run first, later posts are refused, and the
  // handle closes (the loop can end once its close callback has run). Destroy the inbox only
  // after that, i.e. after the loop has run again.
  void close();

 private:
  static void on_async(uv_async_t* async);
  void run_tasks();

  uv_async_t async_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // under mutex_
  bool closed_ = false;                       // under mutex_
};

}  // namespace skirmish::server
