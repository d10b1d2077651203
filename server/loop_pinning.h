// Which CPU each event loop runs on. With as many loops as the CPUs the process may run on
// (the default: server.io_threads 0), each loop keeps to one of them, as nginx's
// `worker_cpu_affinity auto` and Seastar do. Left to the scheduler, two loops woken together
// (a fan-out posted from one to the other, or the inputs a client on the same machine sends)
// were often stacked on one CPU while the other ran something else, and the second loop
// started its share of a tick's frames milliseconds late (docs/benchmarks.md, "Each loop on a
// CPU of its own"). With more or fewer loops than CPUs (say, one loop on a 2-core machine,
// or two under a container's quota on a 64-core node) the scheduler keeps placing them.
#pragma once

#include <string>
#include <vector>

namespace skirmish::server {

// The CPUs the calling thread may run on (its affinity), in order.
std::vector<int> allowed_cpus();

// The CPU for each of `loops` loops under `mode` ("auto" or "off"), or none (empty): auto
// pins when `loops` equals the number of `allowed` CPUs and is more than one.
std::vector<int> loop_cpus(const std::string& mode, std::size_t loops, const std::vector<int>& allowed);

// Keeps the calling thread on `cpu`: 0, or the error number when the kernel refuses.
int pin_this_thread(int cpu);

}  // namespace skirmish::server
