// How much CPU the loop may use and how much it uses, for the send scheduler's load: a
// daemon capped by its cgroup (a container's --cpus, a Kubernetes CPU limit, cgroup v1
// cpu.cfs_quota_us or v2 cpu.max) has less than a core, and wall-clock busy time does not
// show it until the kernel throttles it, when it is already late. Load is the loop thread's
// CPU time over the CPU the cgroup allows it in the same wall time (at most a core a loop, and
// at most the CPUs its affinity lets it run on).
#pragma once

#include <cstdint>
#include <string>

namespace skirmish::server {

// CPU time used by the calling thread, in nanoseconds.
std::uint64_t thread_cpu_ns();
// CPU time of the whole process (every thread) so far, in nanoseconds.
std::uint64_t process_cpu_ns();

// Cores this process may use by its cgroup's CPU quota (v1 or v2), at most `cap`; `cap` when
// there is no quota or it cannot be read. `proc_self_cgroup` and `cgroup_root` are for tests.
double cgroup_cpu_cores(double cap = 1.0, const std::string& proc_self_cgroup = "/proc/self/cgroup",
                        const std::string& cgroup_root = "/sys/fs/cgroup");

// CPUs this process's threads may run on, all of them together (its affinity: `taskset`,
// `docker run --cpuset-cpus`, a Kubernetes static CPU policy; event loops each kept to one
// CPU count as the CPUs they keep to).
double affinity_cores();
// What this process may use: those CPUs, or fewer under a cgroup quota.
double usable_cores();

class CpuAllowance {
 public:
  // `cap`: the most the process can use whatever its quota (its threads that do the work).
  explicit CpuAllowance(double cap = 1.0) : cap_(cap), cores_(cap) {}
  // Cores allowed now: `cap`, or fewer by the affinity or the quota (both read again every
  // `refresh_every` calls: an operator may move the process into a cgroup, change its quota
  // or pin it while it runs).
  double cores();

 private:
  double cap_;
  double cores_;
  unsigned calls_ = 0;  // wraps after years, harmlessly
};

}  // namespace skirmish::server
