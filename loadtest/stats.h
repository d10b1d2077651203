// What the load tester counts. Each worker thread adds to its own IntervalStats for one
// second; the reporter takes them every second, adds them up and summarises windows
// (the measured window, the whole run) as JSON and as table rows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loadtest/histogram.h"

namespace skirmish::loadtest {

struct Counters {
  std::uint64_t connects_ok = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t frames = 0;          // tick frames received
  std::uint64_t other_messages = 0;  // hello, welcome, pong, error
  std::uint64_t bytes_in = 0;        // wire bytes received after the handshake
  std::uint64_t missing = 0;         // tick frames never received (gaps in tick numbers)
  std::uint64_t stale = 0;           // duplicate or out-of-order ticks
  std::uint64_t inputs_sent = 0;
  std::uint64_t bytes_out = 0;          // wire bytes sent after the handshake
  std::uint64_t view_entities_sum = 0;  // entities known after each tick frame, summed
  std::uint64_t view_frames = 0;        // tick frames read whole (clients that track a view)
  std::uint64_t view_moved_sum = 0;     // known entities whose position a frame changed, summed
  std::uint64_t view_inconsistent = 0;  // deltas for unknown ids, removals of unknown ids
  std::uint64_t unparsed = 0;           // tick frames the scanner could not read
  // Client-microseconds connected (ConnectedTime): x the tick rate, the frames to expect.
  std::uint64_t connected_us = 0;
  std::map<std::string, std::uint64_t> errors;  // by kind, e.g. "connect: ECONNREFUSED"
  std::map<int, std::uint64_t> disconnects;     // closes we did not ask for, by code (1006: no close frame)

  void merge(const Counters& o);
  std::uint64_t error_total() const;
  std::uint64_t disconnect_total() const;
};

struct IntervalStats {
  Counters c;
  Histogram delay_us;    // frame ts to arrival, microseconds (ts has millisecond resolution)
  // Frame ts to the kernel's receive time of the bytes (SO_TIMESTAMPNS), microseconds: the
  // server-side delay without the tester's own queueing. Only with --kernel-timestamps.
  Histogram server_delay_us;
  Histogram connect_us;  // TCP connect + upgrade handshake, microseconds
  // How late each worker's own loop ran its sweep timer, microseconds: a tester too busy to
  // read on time adds that much to every delay it measures (the kernel timestamps do not).
  Histogram loop_lag_us;

  void merge(const IntervalStats& o) {
    c.merge(o.c);
    delay_us.merge(o.delay_us);
    server_delay_us.merge(o.server_delay_us);
    connect_us.merge(o.connect_us);
    loop_lag_us.merge(o.loop_lag_us);
  }
  void reset() { *this = IntervalStats{}; }
};

// One client's share of the measured window, cut by its worker at the window's start and end
// (the same instants as the window's IntervalStats). Clients count if they were open when the
// window started or got a frame in it.
struct ClientWindow {
  std::uint32_t client = 0;
  double seconds = 0;         // the window's length as the worker measured it
  std::uint64_t frames = 0;   // tick frames received in the window
  bool has_game_rate = false; // two frames read at different moments
  double game_rate = 0;       // ticks advanced per second, first frame to last (TickWindow)
  std::uint64_t max_gap = 0;  // largest step between consecutive ticks (1 = every tick), 0: under two ticks
  bool open_at_start = false; // connected when the window started
  bool open_at_end = false;   // still connected when it ended
};

// Per-client rates over the window, summarised over clients:
//   {"clients": N,
//    "frame_rate": {"min", "p5", "p50"},                tick frames per second per client
//    "game_rate": {"clients": n, "min", "p50", "max"},  tick numbers advanced per second
//    "tick_gap": {"clients": n, "max", "p99"}}          largest tick step per client
// Percentiles are exact: the value at rank ceil(p/100 * n) of the sorted clients. Every
// number is 0 when no client counts (game_rate and tick_gap count only the clients that
// have one).
nlohmann::json summarize_clients(const std::vector<ClientWindow>& windows);

// Why the measured window holds no result, for the exit status (1, see --help); nothing when
// it holds one. A run that measured nothing must not pass for a benchmark: no client
// connected at the window's start, no tick frame in the window, or every client connected at
// its start gone before its end (the daemon went away). A daemon that sheds frames still
// gives a result. `windows`: the clients' windows, as the take that ended the window gave them.
std::optional<std::string> window_without_result(int connected_at_start, std::uint64_t window_frames,
                                                 const std::vector<ClientWindow>& windows);

// Milliseconds with 3 decimals from a histogram's microseconds.
double us_to_ms(std::uint64_t us);

// A JSON summary of a window of `seconds` seconds with `clients` connected clients on average
// (Counters::connected_us over the seconds); `expected_by_time` is the tick frames an ideal
// run would deliver (the tick rate x each client's connected time), 0 when unknown.
// "server_delay_ms" has the shape of "delay_ms" when `kernel_timestamps` (the run read the
// kernel's receive times), else null.
nlohmann::json summarize(const IntervalStats& s, double seconds, double clients, double expected_by_time,
                         bool kernel_timestamps = false);

}  // namespace skirmish::loadtest
