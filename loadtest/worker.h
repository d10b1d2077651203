// One load-test thread: its own libuv loop and its share of the simulated players. It
// opens their connections at its share of the ramp rate, does each upgrade handshake,
// joins, sends inputs at --input-rate and reads every frame. Everything it measures goes
// into an IntervalStats that the reporter thread takes once a second (under a mutex the
// loop holds once per callback, not once per frame). The take that starts or ends the
// measured window also cuts every client's TickWindow there, so the per-client rates
// cover exactly the frames the window's stats count.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "loadtest/behavior.h"
#include "loadtest/client_handshake.h"
#include "loadtest/connected_time.h"
#include "loadtest/frame_scanner.h"
#include "loadtest/stats.h"

namespace skirmish::loadtest {

struct WorkerConfig {
  WsUrl url;
  sockaddr_storage address{};  // url's host and port, resolved once
  Behavior behavior = Behavior::Idle;
  double input_rate_hz = 5;
  // The share of clients that read whole tick frames to keep their view (entity positions
  // for fight, entities per view for the report). The rest read only tick and ts, and fight
  // by wandering. Below 1 when one tester core cannot read every frame of every client.
  double view_fraction = 1.0;
  double ramp_per_s = 100;  // this thread's share
  std::string name_prefix = "bot";
  std::uint64_t seed = 1;
  double handshake_timeout_s = 10;
  double close_timeout_s = 2;
  // The WebSocket subprotocol to offer: "skirmish.v2" for binary ticks, empty for JSON.
  std::string subprotocol;
  // --kernel-timestamps: read each socket with recvmsg (through a uv_poll_t on a dup of its
  // fd) to get the kernel's receive time (SO_TIMESTAMPNS), and record frame ts -> that time
  // as the server-side delay. libuv's own read() returns no control messages.
  bool kernel_timestamps = false;
};

// A client's totals at the end of the run, for the report and the integration test.
struct ClientSummary {
  std::uint32_t index = 0;
  bool joined = false;
  std::uint64_t frames = 0, missing = 0, stale = 0, first_tick = 0, last_tick = 0, span = 0;
  int close_code = 0;  // a close we did not ask for (1006: the connection just ended)
  bool in_window = false;  // open when the measured window started, or got a frame in it
  ClientWindow window;     // its share of the measured window (when in_window)
};

// Whether a take of the interval stats also starts or ends the measured window.
enum class WindowEdge { None, Start, End };

class Worker {
 public:
  Worker(WorkerConfig config, std::vector<std::uint32_t> client_indices);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();  // runs the loop on a new thread
  void stop();   // thread-safe: close every connection (politely, bounded) and end the loop
  void join();

  // Thread-safe: adds this second's stats to `into` (with its clients' connected time up to
  // now) and starts a new second. With Start, every client's window starts now; with End, it
  // ends now and each client in it (open at the start or with a frame since) is appended to
  // `window` (if not null).
  void take_interval(IntervalStats& into, WindowEdge edge = WindowEdge::None,
                     std::vector<ClientWindow>* window = nullptr);
  int connected() const { return connected_.load(std::memory_order_relaxed); }
  int joined() const { return joined_.load(std::memory_order_relaxed); }
  // Clients whose connection attempt is over: open, failed or closed.
  int attempts_done() const { return attempts_done_.load(std::memory_order_relaxed); }
  int tick_rate() const { return tick_rate_.load(std::memory_order_relaxed); }
  // Valid after join().
  const std::vector<ClientSummary>& summaries() const { return summaries_; }

  struct Client;

 private:
  void run();
  void launch(Client& c);
  void close_client(Client& c);
  void send_frame(Client& c, int opcode, std::string_view payload);
  void send_input(Client& c);  // the behaviour's next step, as one input message
  void write(Client& c, std::string bytes);
  // When a read's bytes arrived. now_us: wall clock (against the frames' ts); mono_us:
  // monotonic, for the window's rates (read only while the window is open, 0 otherwise);
  // kernel_rx_us: the kernel's receive time of the read (SO_TIMESTAMPNS, wall clock), 0
  // without --kernel-timestamps or when the kernel gave none.
  struct Arrival {
    std::uint64_t now_us = 0, mono_us = 0, kernel_rx_us = 0;
  };
  // Both read paths (libuv's on_read, and on_poll's recvmsg with --kernel-timestamps) end
  // here, under mu_: on_received with each read's bytes, on_read_end with EOF (UV_EOF) or an
  // error (`what` names where it came from in the report), which closes the client.
  void on_received(Client& c, const char* data, std::size_t len, std::uint64_t kernel_rx_ns);
  void on_read_end(Client& c, int status, const char* what = "read");
  void on_bytes(Client& c, const char* data, std::size_t len, const Arrival& at);
  void on_text(Client& c, std::string_view text, const Arrival& at);
  void on_binary(Client& c, std::string_view data, const Arrival& at);
  // A tick frame's header, in either format: counts the frame, its gap and its delays.
  void on_tick(Client& c, std::uint64_t tick, std::int64_t ts_ms, const Arrival& at);
  // --kernel-timestamps: reads what waits on the client's dup fd (recvmsg) into on_received.
  void read_with_timestamps(Client& c, int status);
  bool start_timestamped_reads(Client& c);
  void apply_view(Client& c, const TickBody& body);
  void on_open(Client& c);
  void begin_stop();
  void maybe_finish();
  void error(const std::string& kind) { interval_.c.errors[kind]++; }
  void start_window();
  void end_window(std::vector<ClientWindow>* out);
  ClientWindow window_of(const Client& c) const;

  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_poll(uv_poll_t* p, int status, int events);
  static void on_poll_closed(uv_handle_t* h);
  static void on_write(uv_write_t* req, int status);
  static void on_closed(uv_handle_t* h);
  static void on_ramp_timer(uv_timer_t* t);
  static void on_input_timer(uv_timer_t* t);
  static void on_sweep_timer(uv_timer_t* t);
  static void on_stop_async(uv_async_t* a);

  WorkerConfig config_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::thread thread_;
  uv_loop_t loop_{};
  uv_timer_t ramp_timer_{}, input_timer_{}, sweep_timer_{};
  uv_async_t stop_async_{};
  std::uint64_t started_ns_ = 0;
  std::uint64_t last_sweep_ns_ = 0;  // when the sweep timer last ran (its lateness: IntervalStats::loop_lag_us)
  std::size_t launched_ = 0;
  std::size_t open_handles_ = 0;
  bool stopping_ = false;
  bool finished_ = false;
  Rng rng_;
  std::vector<char> read_buffer_;
  std::vector<std::string> monster_kinds_;  // from hello: what v2's kind codes name

  std::mutex mu_;  // guards interval_, the window fields and the clients' state
  IntervalStats interval_;
  ConnectedTime connected_time_;  // cut into interval_.c.connected_us at each take
  bool window_open_ = false;
  std::uint64_t window_start_ns_ = 0;
  double window_seconds_ = 0;  // set when the window ends
  std::atomic<int> connected_{0}, joined_{0}, attempts_done_{0}, tick_rate_{0};
  std::vector<ClientSummary> summaries_;
};

}  // namespace skirmish::loadtest
