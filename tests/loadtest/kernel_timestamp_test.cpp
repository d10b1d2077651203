// recv_with_timestamp on a real loopback TCP pair: bytes, the kernel's receive time
// (SO_TIMESTAMPNS, wall clock), EAGAIN when nothing waits, and 0 at EOF.
#include "loadtest/kernel_timestamp.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

using skirmish::loadtest::enable_kernel_timestamps;
using skirmish::loadtest::recv_with_timestamp;

namespace {

std::uint64_t wall_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A connected pair on 127.0.0.1: {client, server side}.
std::pair<int, int> tcp_pair() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const int server = accept(listener, nullptr, nullptr);
  REQUIRE(server >= 0);
  close(listener);
  return {client, server};
}

// Reads until bytes come (MSG_DONTWAIT: poll for up to a second).
ssize_t read_some(int fd, char* buf, std::size_t len, std::uint64_t* rx_ns) {
  for (int i = 0; i < 1000; ++i) {
    const ssize_t n = recv_with_timestamp(fd, buf, len, rx_ns);
    if (n != -EAGAIN) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -EAGAIN;
}

}  // namespace

TEST_CASE("recv_with_timestamp: bytes with the kernel's receive time, EAGAIN, EOF", "[loadtest]") {
  const auto [client, server] = tcp_pair();
  REQUIRE(enable_kernel_timestamps(client) == 0);
  char buf[64];
  std::uint64_t rx_ns = 1;

  CHECK(recv_with_timestamp(client, buf, sizeof buf, &rx_ns) == -EAGAIN);
  CHECK(rx_ns == 0);

  // The kernel starts stamping received packets a moment after the first socket asks (it
  // turns its global switch on from a work queue): until then reads come without a time.
  // Warm up with single bytes until one is stamped (a second at most).
  bool stamped = false;
  for (int i = 0; i < 500 && !stamped; ++i) {
    REQUIRE(write(server, "w", 1) == 1);
    REQUIRE(read_some(client, buf, sizeof buf, &rx_ns) >= 1);
    stamped = rx_ns != 0;
    if (!stamped) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(stamped);

  const std::uint64_t before = wall_ns();
  REQUIRE(write(server, "hello", 5) == 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the read comes well after the arrival
  const ssize_t n = read_some(client, buf, sizeof buf, &rx_ns);
  const std::uint64_t after = wall_ns();
  REQUIRE(n == 5);
  CHECK(std::string(buf, 5) == "hello");
  // The kernel's time of arrival: after the write began, and before the read by about the sleep.
  CHECK(rx_ns >= before - 1000000);  // clocks: allow 1 ms of slack
  CHECK(rx_ns <= after);
  CHECK(after - rx_ns >= 15000000);

  close(server);
  CHECK(read_some(client, buf, sizeof buf, &rx_ns) == 0);
  close(client);
}

TEST_CASE("recv_with_timestamp: no timestamp unless asked", "[loadtest]") {
  const auto [client, server] = tcp_pair();
  char buf[16];
  std::uint64_t rx_ns = 1;
  REQUIRE(write(server, "x", 1) == 1);
  CHECK(read_some(client, buf, sizeof buf, &rx_ns) == 1);
  CHECK(rx_ns == 0);
  close(server);
  close(client);
}

TEST_CASE("recv_with_timestamp: errors are -errno", "[loadtest]") {
  char buf[4];
  std::uint64_t rx_ns = 1;
  CHECK(recv_with_timestamp(-1, buf, sizeof buf, &rx_ns) == -EBADF);
  CHECK(enable_kernel_timestamps(-1) == -EBADF);
}
