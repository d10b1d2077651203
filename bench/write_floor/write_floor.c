// The cost of the kernel's side of a broadcast on this machine, with no server around it:
// N loopback TCP connections, and every 50 ms one write() (or send()) of LEN prebuilt bytes to
// each of them, as a game server does once per client per tick. A child process pinned to
// another CPU drains the other ends with epoll. Prints the writer's CPU time per write.
//
//   write_floor N LEN MODE TICKS     MODE: 0 write(), 1 send(MSG_DONTWAIT | MSG_NOSIGNAL)
//
// Whatever a server does per client, it pays at least this per frame on this machine.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static double micros(struct timeval tv) { return tv.tv_sec * 1e6 + tv.tv_usec; }

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s N LEN MODE(0 write, 1 send) TICKS\n", argv[0]);
    return 2;
  }
  const int n = atoi(argv[1]), len = atoi(argv[2]), use_send = atoi(argv[3]), ticks = atoi(argv[4]);
  const int writer_cpu = getenv("WRITER_CPU") ? atoi(getenv("WRITER_CPU")) : 0;
  const int reader_cpu = getenv("READER_CPU") ? atoi(getenv("READER_CPU")) : 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof addr;
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) || listen(listener, 4096) ||
      getsockname(listener, (struct sockaddr*)&addr, &addr_len)) {
    perror("listen");
    return 1;
  }
  int* readers = malloc(sizeof(int) * n);
  int* writers = malloc(sizeof(int) * n);
  for (int i = 0; i < n; i++) {
    readers[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(readers[i], (struct sockaddr*)&addr, sizeof addr)) {
      perror("connect (raise ulimit -n?)");
      return 1;
    }
    writers[i] = accept(listener, NULL, NULL);
    const int one = 1;
    setsockopt(writers[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(writers[i], F_SETFL, O_NONBLOCK);
  }
  const pid_t child = fork();
  if (child == 0) {
    pin(reader_cpu);
    const int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
      struct epoll_event e = {.events = EPOLLIN, .data.fd = readers[i]};
      epoll_ctl(ep, EPOLL_CTL_ADD, readers[i], &e);
    }
    struct epoll_event events[256];
    static char buf[65536];
    for (;;) {
      const int k = epoll_wait(ep, events, 256, -1);
      for (int j = 0; j < k; j++)
        if (read(events[j].data.fd, buf, sizeof buf) <= 0) _exit(0);
    }
  }
  pin(writer_cpu);
  char* frame = malloc(len);
  memset(frame, 'x', len);
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  long writes = 0;
  for (int t = 0; t < ticks; t++) {
    for (int i = 0; i < n; i++) {
      const ssize_t w = use_send ? send(writers[i], frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(writers[i], frame, len);
      if (w > 0) writes++;
    }
    usleep(50000);
  }
  getrusage(RUSAGE_SELF, &after);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  const double user = micros(after.ru_utime) - micros(before.ru_utime);
  const double sys = micros(after.ru_stime) - micros(before.ru_stime);
  printf("%s n=%d len=%d writes=%ld: %.2f us per write (user %.2f, kernel %.2f)\n", use_send ? "send" : "write", n,
         len, writes, (user + sys) / writes, user / writes, sys / writes);
  return 0;
}
