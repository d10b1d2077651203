#include "server/cpu_allowance.h"

#include <dirent.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace skirmish::server {

namespace {

bool read_line(const std::string& path, std::string& line) {
  std::ifstream in(path);
  return in && std::getline(in, line);
}

// The quota in cores from a v1 cpu controller folder or a v2 cgroup folder; 0 when none.
double quota_in(const std::string& dir) {
  std::string line;
  if (read_line(dir + "/cpu.max", line)) {  // v2: "max 100000" or "25000 100000"
    std::istringstream in(line);
    std::string quota;
    double period = 0;
    if (in >> quota >> period && quota != "max" && period > 0) return std::stod(quota) / period;
    return 0;
  }
  std::string period;
  if (read_line(dir + "/cpu.cfs_quota_us", line) && read_line(dir + "/cpu.cfs_period_us", period)) {
    const double q = std::stod(line), p = std::stod(period);
    if (q > 0 && p > 0) return q / p;
  }
  return 0;
}

}  // namespace

std::uint64_t process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

double cgroup_cpu_cores(double cap, const std::string& proc_self_cgroup, const std::string& cgroup_root) {
  std::ifstream in(proc_self_cgroup);
  std::string line;
  double cores = 0;
  try {
    while (std::getline(in, line)) {
      // "ID:controllers:path"; v1 lists its controllers ("cpu,cpuacct"), v2 has "0::path".
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1);
      const std::string path = line.substr(b + 1);
      std::vector<std::string> dirs;
      if (controllers.empty()) {
        dirs = {cgroup_root + path, cgroup_root + "/unified" + path};
      } else {
        std::istringstream list(controllers);
        std::string c;
        bool cpu = false;
        while (std::getline(list, c, ',')) cpu = cpu || c == "cpu";
        if (!cpu) continue;
        dirs = {cgroup_root + "/" + controllers + path, cgroup_root + "/cpu" + path};
      }
      for (const auto& dir : dirs) {
        if (const double q = quota_in(dir); q > 0) {
          cores = cores > 0 ? std::min(cores, q) : q;
          break;
        }
      }
    }
  } catch (const std::exception&) {
    return cap;  // a number we cannot read: no quota we know of
  }
  return cores > 0 ? std::min(cap, cores) : cap;
}

double affinity_cores() {
  // Every thread's CPUs together: with each event loop kept to a CPU of its own
  // (server.pin_loops), the calling thread's mask alone would count one CPU for the process.
  cpu_set_t all;
  CPU_ZERO(&all);
  bool read = false;
  if (DIR* tasks = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(tasks)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      cpu_set_t set;
      CPU_ZERO(&set);
      if (tid <= 0 || sched_getaffinity(tid, sizeof set, &set) != 0) continue;  // gone meanwhile
      CPU_OR(&all, &all, &set);
      read = true;
    }
    closedir(tasks);
  }
  if (!read && sched_getaffinity(0, sizeof all, &all) != 0) CPU_ZERO(&all);
  if (CPU_COUNT(&all) > 0) return CPU_COUNT(&all);
  // More CPUs than a cpu_set_t holds (or no answer): all of them.
  return std::max(1u, std::thread::hardware_concurrency());
}

double usable_cores() { return cgroup_cpu_cores(affinity_cores()); }

double CpuAllowance::cores() {
  constexpr int kRefreshEvery = 20;  // about once a second at 20 ticks/s
  if (calls_++ % kRefreshEvery == 0) cores_ = std::min(cap_, usable_cores());
  return cores_;
}

}  // namespace skirmish::server
