// The open-file limit. Every connection is a descriptor, and the usual soft limit (1024 on a
// login shell, in a container often too) would cut a daemon configured for 20,000
// connections at about a thousand: past it, accept() fails and libuv accepts and closes the
// rest unseen. At start the soft limit is raised to the hard one, as Go's runtime does for
// every program; what the hard limit still lacks is said once, with how to raise it.
#pragma once

#include <cstdint>

namespace skirmish::server {

struct FileLimit {
  std::uint64_t before = 0;  // the soft limit we were started with
  std::uint64_t now = 0;     // after raising it (as high as the hard limit allows)
};

// Raises the soft limit of open files to the hard limit. 0s when the limits cannot be read.
FileLimit raise_file_limit();

// Descriptors the daemon needs besides its connections: listening sockets, each loop's epoll
// and wake-up descriptors, timers, the state file, Redis, the Agones sidecar's requests, and
// a connection being accepted while another closes.
constexpr std::uint64_t kOwnDescriptors = 128;

}  // namespace skirmish::server
