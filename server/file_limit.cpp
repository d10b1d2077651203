#include "server/file_limit.h"

#include <sys/resource.h>

namespace skirmish::server {

FileLimit raise_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  FileLimit out;
  out.before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);  // may fail (a limit the kernel caps lower): we read back
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  out.now = rl.rlim_cur;
  return out;
}

}  // namespace skirmish::server
