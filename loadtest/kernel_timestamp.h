// The kernel's receive time of TCP bytes (SO_TIMESTAMPNS), for --kernel-timestamps.
// libuv reads sockets with read(), which returns no control messages, and the SIOCGSTAMPNS
// ioctl answers ENOENT on TCP, so a client that wants the timestamp reads its socket itself
// with recvmsg and picks the SCM_TIMESTAMPNS message out of the control buffer. Plain POSIX,
// no libuv: tests/loadtest tests it on a loopback TCP pair.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace skirmish::loadtest {

// setsockopt(SOL_SOCKET, SO_TIMESTAMPNS, 1): 0, or -errno.
int enable_kernel_timestamps(int fd);

// One recvmsg(fd, MSG_DONTWAIT) of up to `len` bytes into `buf`. Returns the bytes read
// (> 0), 0 at EOF, or -errno (-EAGAIN when nothing is waiting). With bytes, *kernel_rx_ns
// is the SCM_TIMESTAMPNS of the read (CLOCK_REALTIME, nanoseconds: TCP gives the receive
// time of the last segment the read took bytes from), or 0 when the kernel sent none.
ssize_t recv_with_timestamp(int fd, char* buf, std::size_t len, std::uint64_t* kernel_rx_ns);

}  // namespace skirmish::loadtest
