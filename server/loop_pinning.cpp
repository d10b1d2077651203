#include "server/loop_pinning.h"

#include <pthread.h>
#include <sched.h>

namespace skirmish::server {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

std::vector<int> loop_cpus(const std::string& mode, std::size_t loops, const std::vector<int>& allowed) {
  if (mode != "auto" || loops < 2 || loops != allowed.size()) return {};
  return allowed;
}

int pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace skirmish::server
