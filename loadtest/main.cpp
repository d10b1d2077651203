// skirmish-load: plays as thousands of players against a skirmishd, over real WebSockets,
// and measures what they get. See docs/benchmarks.md.
//
// The main thread only reports: once a second it takes every worker's stats for that
// second, prints a live line (and a CSV row), and decides the phases: the ramp (until every
// client has connected or failed), then the measured window of --duration seconds, marked
// in --marker so a benchmark script can sample the daemon exactly around it. Whether a
// second's take starts or ends the window is decided before the take, so each worker cuts
// its clients' per-client windows (frame rate, game-time rate, tick gaps) at the same
// instant as the window's stats.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <strings.h>
#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loadtest/client_handshake.h"
#include "loadtest/stats.h"
#include "loadtest/worker.h"

namespace sl = skirmish::loadtest;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

struct Options {
  std::string url;
  int clients = 100;
  double ramp = 200;
  double duration = 10;
  std::string behavior = "wander";
  std::string protocol = "json";
  double input_rate = 5;
  double view_fraction = 1.0;
  int threads = 1;
  std::string report;
  std::string csv;
  std::string marker;
  std::string name_prefix = "bot";
  std::uint64_t seed = 1;
  double handshake_timeout = 10;
  bool kernel_timestamps = false;
};

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct CpuSample {
  double user_s = 0, sys_s = 0;
  Clock::time_point at;
};

CpuSample cpu_now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime), Clock::now()};
}

double cpu_percent(const CpuSample& a, const CpuSample& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  return wall > 0 ? 100.0 * ((b.user_s - a.user_s) + (b.sys_s - a.sys_s)) / wall : 0.0;
}

// Raises the open-file limit to the hard limit: every client is a socket (two descriptors
// with --kernel-timestamps: the socket and the duplicate it is read through).
void raise_file_limit(int clients, int per_client) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  const long long needed = static_cast<long long>(clients) * per_client + 64;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(needed)) {
    std::fprintf(stderr,
                 "warning: open-file limit %llu is below the %lld descriptors this run needs (%d clients x %d + 64): "
                 "raise the hard limit (ulimit -Hn)\n",
                 static_cast<unsigned long long>(rl.rlim_cur), needed, clients, per_client);
  }
}

// Creates (or truncates) an output file at start-up, so a path that cannot be written fails
// at once, as --csv does, rather than after the whole run (--report) or never (--marker).
bool can_write(const std::string& path) {
  if (path.empty()) return true;
  std::ofstream out(path, std::ios::trunc);
  return static_cast<bool>(out);
}

void write_marker(const std::string& path, const char* what) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << what << ' ' << unix_ms() << '\n';
  out.flush();
  if (!out) std::fprintf(stderr, "skirmish-load: cannot write %s\n", path.c_str());
}

// CLI::Range compares, and NaN compares false with everything, so NaN passed every range
// (--duration nan never ended, --handshake-timeout nan never timed out). Every floating-point
// option is checked with this first; its empty description keeps --help as it was.
const CLI::Validator kFinite(
    [](std::string& text) {
      double value = 0;
      if (CLI::detail::lexical_cast(text, value) && std::isfinite(value)) return std::string();
      return "must be a finite number, got " + text;
    },
    "", "FINITE");

// A whole or fractional number of seconds, as the summary shows it.
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s == std::floor(s) ? "%.0f s" : "%.2f s", s);
  return buf;
}

bool resolve(const sl::WsUrl& url, sockaddr_storage& out) {
  if (url.ipv6) return uv_ip6_addr(url.host.c_str(), url.port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
  return uv_ip4_addr(url.host.c_str(), url.port, reinterpret_cast<sockaddr_in*>(&out)) == 0;
}

void print_summary(const Options& o, const nlohmann::json& m, const nlohmann::json& whole, const nlohmann::json& cpu,
                   int connected_start, int tick_rate) {
  const auto& d = m["delay_ms"];
  const auto& cm = whole["connect_ms"];
  // The inputs each connected client actually sent (none for watch and idle), not --input-rate.
  std::printf("\nskirmish-load summary: %d clients, %s, protocol %s, %.1f inputs/s sent per client, %d thread(s), "
              "measured %s\n",
              o.clients, o.behavior.c_str(), o.protocol.c_str(), m["inputs_per_client_per_s"].get<double>(), o.threads,
              seconds_text(m["seconds"].get<double>()).c_str());
  std::printf("  %-34s %d / %d (avg connected %.1f)\n", "connected at window start", connected_start, o.clients,
              m["clients_avg"].get<double>());
  std::printf("  %-34s p50 %.2f ms  p99 %.2f ms  (failures %llu)\n", "connect + handshake (whole run)",
              cm["p50"].get<double>(), cm["p99"].get<double>(),
              static_cast<unsigned long long>(whole["connect_failures"].get<std::uint64_t>()));
  std::printf("  %-34s %llu (%.0f/s), missing %llu, stale %llu\n", "tick frames received",
              static_cast<unsigned long long>(m["frames"].get<std::uint64_t>()), m["frames_per_s"].get<double>(),
              static_cast<unsigned long long>(m["missing"].get<std::uint64_t>()),
              static_cast<unsigned long long>(m["stale"].get<std::uint64_t>()));
  std::printf("  %-34s %.4f %% by tick gaps, %.4f %% of rate x each client's connected time\n", "delivered",
              100 * m["delivered_ratio_by_gaps"].get<double>(), 100 * m["delivered_ratio_by_time"].get<double>());
  std::printf("  %-34s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms\n", "delay (frame ts -> arrival)",
              d["p50"].get<double>(), d["p90"].get<double>(), d["p99"].get<double>(), d["p99_9"].get<double>(),
              d["max"].get<double>());
  if (m["server_delay_ms"].is_object()) {
    const auto& k = m["server_delay_ms"];
    std::printf("  %-34s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms  (%llu of %llu frames: those "
                "that ended a read)\n",
                "server-side delay (frame ts -> kernel receive)", k["p50"].get<double>(), k["p90"].get<double>(),
                k["p99"].get<double>(), k["p99_9"].get<double>(), k["max"].get<double>(),
                static_cast<unsigned long long>(k["count"].get<std::uint64_t>()),
                static_cast<unsigned long long>(m["delay_ms"]["count"].get<std::uint64_t>()));
  }
  std::printf("  %-34s %.2f MB/s, %.0f B per client per s, %.0f B per frame\n", "received",
              m["bytes_in_per_s"].get<double>() / 1e6, m["bytes_per_client_per_s"].get<double>(),
              m["bytes_per_frame"].get<double>());
  if (m.contains("per_client")) {
    const auto& pc = m["per_client"];
    const auto& fr = pc["frame_rate"];
    const auto& gr = pc["game_rate"];
    const auto& gap = pc["tick_gap"];
    std::printf("  %-34s min %.2f  p5 %.2f  p50 %.2f  (%llu clients)\n", "per client: tick frames/s",
                fr["min"].get<double>(), fr["p5"].get<double>(), fr["p50"].get<double>(),
                static_cast<unsigned long long>(pc["clients"].get<std::uint64_t>()));
    std::printf("  %-34s min %.2f  p50 %.2f  max %.2f\n", "per client: game ticks/s", gr["min"].get<double>(),
                gr["p50"].get<double>(), gr["max"].get<double>());
    std::printf("  %-34s max %llu  p99 %llu  (1 = every tick)\n", "per client: largest tick gap",
                static_cast<unsigned long long>(gap["max"].get<std::uint64_t>()),
                static_cast<unsigned long long>(gap["p99"].get<std::uint64_t>()));
  }
  std::printf("  %-34s %.1f (%.1f moved a frame)\n", "entities per view (avg)", m["entities_per_view_avg"].get<double>(),
              m["moved_per_view_avg"].get<double>());
  std::printf("  %-34s %llu (%.0f/s)\n", "inputs sent", static_cast<unsigned long long>(m["inputs_sent"].get<std::uint64_t>()),
              m["inputs_per_s"].get<double>());
  std::printf("  %-34s %s\n", "errors in the window", m["errors"].dump().c_str());
  std::printf("  %-34s %s\n", "errors in the whole run", whole["errors"].dump().c_str());
  std::printf("  %-34s %s\n", "disconnects by close code", m["disconnects"].dump().c_str());
  std::printf("  %-34s %.1f %% of one core in the window (%.1f %% over the run)\n", "tester CPU (user+sys)",
              cpu["measured_percent_of_one_core"].get<double>(), cpu["run_percent_of_one_core"].get<double>());
  std::printf("  (the tester's own CPU: if it nears %d00 %%, the tester, not the daemon, is the limit)\n", o.threads);
  const auto& lag = m["tester_loop_lag_ms"];
  std::printf("  %-34s p50 %.2f  p99 %.2f  max %.2f ms\n", "tester loop lag (its 50 ms timer)", lag["p50"].get<double>(),
              lag["p99"].get<double>(), lag["max"].get<double>());
  // What a run that "has a result" (exit 0) can still hide: said, so that nobody reads a healthy
  // server into it (found by an audit: half the clients refused, or a server frozen for most of
  // the window, both printed tidy numbers).
  if (connected_start < o.clients) {
    std::printf("  WARNING: only %d of %d clients were connected when the window started: the load was %.0f %% of what "
                "was asked (see the errors above)\n",
                connected_start, o.clients, 100.0 * connected_start / std::max(o.clients, 1));
  }
  // A tester that reads late adds its lateness to every delay it measures: say so when that
  // is a tick period at p99, or ten at most (a stall).
  const double period_ms = tick_rate > 0 ? 1000.0 / tick_rate : 50.0;
  if (lag["p99"].get<double>() > period_ms || lag["max"].get<double>() > 10 * period_ms) {
    std::printf("  WARNING: this tester's own event loop ran late (p99 %.1f ms, max %.1f ms): the delays above (frame "
                "ts -> arrival) include its lateness; give it more --threads or a CPU of its own (the server-side "
                "delay of --kernel-timestamps leaves it out)\n",
                lag["p99"].get<double>(), lag["max"].get<double>());
  }
  // Game time that ran slow (a stall, or a server that could not keep its tick rate) is
  // trouble; fewer frames with game time at its rate is a server shedding send rate on purpose
  // (watchers first, under load; game.send_every_ticks), worth a note only.
  const double by_time = m["delivered_ratio_by_time"].get<double>();
  const bool rated = m.contains("per_client") && m["per_client"]["game_rate"].is_object() &&
                     m["per_client"]["game_rate"].value("clients", 0) > 0 && tick_rate > 0;
  const double game_p50 = rated ? m["per_client"]["game_rate"]["p50"].get<double>() : 0.0;
  if (rated && game_p50 < 0.95 * tick_rate) {
    std::printf("  WARNING: game time advanced at %.2f ticks/s (median client) against the server's %d: the server "
                "stalled or fell behind, or this tester did (its CPU above); %.1f %% of the promised frames arrived\n",
                game_p50, tick_rate, 100 * by_time);
  } else if (m["expected_by_time"].get<double>() > 0 && by_time < 0.9) {
    std::printf("  note: %.1f %% of the frames a frame every tick would give arrived, with game time at its rate: the "
                "server sent every few ticks (shedding send rate under load, watchers first, or "
                "game.send_every_ticks)\n",
                100 * by_time);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"skirmish-load: plays as thousands of players against skirmishd and measures what they receive"};
  app.option_defaults()->always_capture_default();  // --help shows each default
  app.add_option("--url", o.url, "WebSocket URL, e.g. ws://127.0.0.1:8080/ws (an IP literal or localhost: no DNS)")
      ->required();
  app.add_option("--clients", o.clients, "simulated players")->check(CLI::Range(1, 1000000));
  app.add_option("--ramp", o.ramp, "connections opened per second")->check(kFinite)->check(CLI::Range(0.1, 1e6));
  app.add_option("--duration", o.duration, "measured seconds after the ramp (whole seconds: a fraction rounds up)")
      ->check(kFinite)
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--protocol", o.protocol, "json (v1 text ticks) | v2 (binary ticks: offers the subprotocol skirmish.v2)")
      ->check(CLI::IsMember({"json", "v2"}));
  app.add_option("--behavior", o.behavior, "idle | wander | fight | watch (a spectator: never joins)")
      ->check(CLI::IsMember({"idle", "wander", "fight", "watch"}));
  app.add_option("--input-rate", o.input_rate, "inputs per second per client (wander, fight)")
      ->check(kFinite)
      ->check(CLI::Range(0.01, 1000.0));
  app.add_option("--view-fraction", o.view_fraction,
                 "share of clients that read whole frames (views, fight); the rest read only tick and ts")
      ->check(kFinite)
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--threads", o.threads, "event loops (threads), each owning a share of the clients")
      ->check(CLI::Range(1, 256));
  app.add_option("--report", o.report, "write the JSON report here");
  app.add_option("--csv", o.csv, "write one row per second here");
  app.add_option("--marker", o.marker,
                 "append 'start UNIX_MS' when the measured window starts and 'end UNIX_MS' when it ends (to a "
                 "file emptied at start-up)");
  app.add_option("--name-prefix", o.name_prefix, "player names are PREFIX + client number");
  app.add_option("--seed", o.seed, "seed for directions and mask keys")
      ->check(CLI::Validator(
          [](std::string& text) {
            // Decimal digits only: CLI11 would read "-1" as 2^64-1, "0x10" as hex and "010" as octal.
            const bool digits = !text.empty() && text.size() <= 19 &&
                                text.find_first_not_of("0123456789") == std::string::npos;
            return digits ? std::string() : "must be a whole number from 0 to 10^19-1, got " + text;
          },
          "", "UNSIGNED"));
  app.add_option("--handshake-timeout", o.handshake_timeout, "seconds a connect + upgrade may take")
      ->check(kFinite)
      ->check(CLI::Range(0.1, 600.0));
  app.add_flag("--kernel-timestamps", o.kernel_timestamps,
               "also measure the server-side delay: frame ts -> the kernel's receive time (SO_TIMESTAMPNS), "
               "without the tester's own queueing (of the frames that end a read: a read's time is its last "
               "segment's); reads each socket with recvmsg through a uv_poll_t on a dup of its fd (libuv's "
               "read() returns no control messages)");
  app.footer(
      "Exit status:\n"
      "  0    the measured window has a result (also when the server shed frames)\n"
      "  1    it has none, and a message says why: no client was connected at its start, no tick frame\n"
      "       arrived in it, or every client connected at its start was disconnected before its end\n"
      "       (the server went away); the summary and --report are written all the same\n"
      "  2    a bad --url, or a --report, --csv or --marker that cannot be written (checked at start-up)\n"
      "  130  interrupted (SIGINT, SIGTERM): the window ends there, its last second at its true length\n"
      "  105  a bad option value (out of range, or not a finite number); 106 no --url; 109 an unknown argument");
  CLI11_PARSE(app, argc, argv);

  const auto url = sl::parse_ws_url(o.url);
  sockaddr_storage address{};
  if (!url || !resolve(*url, address)) {
    if (o.url.size() >= 6 && strncasecmp(o.url.c_str(), "wss://", 6) == 0) {
      std::fprintf(stderr, "skirmish-load: --url %s: wss:// (TLS) is not supported; load-test the daemon's own ws:// "
                           "port, behind the TLS front\n", o.url.c_str());
    } else {
      std::fprintf(stderr, "skirmish-load: --url must be ws://IP:PORT/PATH with an IP literal, got %s\n", o.url.c_str());
    }
    return 2;
  }
  const auto behavior = sl::parse_behavior(o.behavior);
  raise_file_limit(o.clients, o.kernel_timestamps ? 2 : 1);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  for (const std::string* path : {&o.report, &o.marker}) {
    if (!can_write(*path)) {
      std::fprintf(stderr, "skirmish-load: cannot write %s\n", path->c_str());
      return 2;
    }
  }

  std::FILE* csv = nullptr;
  if (!o.csv.empty()) {
    csv = std::fopen(o.csv.c_str(), "w");
    if (!csv) {
      std::fprintf(stderr, "skirmish-load: cannot write %s\n", o.csv.c_str());
      return 2;
    }
    std::fprintf(csv,
                 "t_s,phase,connected,joined,frames,frames_per_s,bytes_per_s,delay_p50_ms,delay_p99_ms,delay_max_ms,"
                 "missing,inputs,errors,disconnects,entities_per_view,tester_cpu_pct%s\n",
                 o.kernel_timestamps ? ",server_delay_p50_ms,server_delay_p99_ms" : "");
  }

  // Client i goes to thread i % threads.
  std::vector<std::unique_ptr<sl::Worker>> workers;
  const int threads = std::min(o.threads, o.clients);
  for (int t = 0; t < threads; ++t) {
    std::vector<std::uint32_t> mine;
    for (int i = t; i < o.clients; i += threads) mine.push_back(static_cast<std::uint32_t>(i));
    sl::WorkerConfig wc;
    wc.url = *url;
    wc.address = address;
    wc.behavior = *behavior;
    wc.input_rate_hz = o.input_rate;
    wc.view_fraction = o.view_fraction;
    wc.ramp_per_s = o.ramp / threads;
    wc.name_prefix = o.name_prefix;
    wc.seed = o.seed * 1000003u + static_cast<std::uint64_t>(t) + 1;
    wc.handshake_timeout_s = o.handshake_timeout;
    wc.kernel_timestamps = o.kernel_timestamps;
    if (o.protocol == "v2") wc.subprotocol = "skirmish.v2";
    workers.push_back(std::make_unique<sl::Worker>(std::move(wc), std::move(mine)));
  }

  const std::int64_t started_unix_ms = unix_ms();
  const CpuSample cpu_start = cpu_now();
  for (auto& w : workers) w->start();

  enum class Phase { Ramp, Measure, Done } phase = Phase::Ramp;
  const double ramp_deadline_s = o.clients / o.ramp + o.handshake_timeout + 5;
  sl::IntervalStats total, measured, interval;
  std::vector<sl::ClientWindow> client_windows;  // filled by the take that ends the window
  bool window_ended = false;
  double measured_seconds = 0;
  int connected_at_start = 0, tick_rate = 0;
  CpuSample cpu_window_start = cpu_start, cpu_window_end = cpu_start, cpu_last = cpu_start;
  const auto t0 = cpu_start.at;
  auto last_take = t0;  // when the previous second's take was cut

  for (int second = 1; phase != Phase::Done; ++second) {
    const auto due = t0 + std::chrono::seconds(second);
    while (Clock::now() < due && !g_interrupted) {
      std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(50)));
    }
    // What this second's take does to the window, decided before it so the workers cut
    // their clients' windows with the interval.
    const bool interrupted = g_interrupted;
    // Every second is a whole one but the one Ctrl-C cut short: its true length, so rates
    // over the window agree with the clients' own (per_client, cut at the same take).
    const auto take_at = Clock::now();
    const double interval_s =
        interrupted ? std::max(std::chrono::duration<double>(take_at - last_take).count(), 1e-3) : 1.0;
    last_take = take_at;
    int done = 0;
    for (auto& w : workers) done += w->attempts_done();
    enum class Step { Stay, StartWindow, EndWindow, Stop } step = Step::Stay;
    if (interrupted) {
      step = phase == Phase::Measure ? Step::EndWindow : Step::Stop;
    } else if (phase == Phase::Ramp && (done >= o.clients || second >= ramp_deadline_s)) {
      step = Step::StartWindow;
    } else if (phase == Phase::Measure && measured_seconds + 1 >= o.duration) {
      step = Step::EndWindow;
    }
    const sl::WindowEdge edge = step == Step::StartWindow ? sl::WindowEdge::Start
                                : step == Step::EndWindow ? sl::WindowEdge::End
                                                          : sl::WindowEdge::None;
    interval.reset();
    int connected = 0, joined = 0;
    for (auto& w : workers) {
      w->take_interval(interval, edge, &client_windows);
      connected += w->connected();
      joined += w->joined();
      tick_rate = std::max(tick_rate, w->tick_rate());
    }
    if (edge == sl::WindowEdge::End) window_ended = true;
    const CpuSample cpu = cpu_now();
    const double cpu_pct = cpu_percent(cpu_last, cpu);
    cpu_last = cpu;
    total.merge(interval);
    if (phase == Phase::Measure) {
      measured.merge(interval);
      measured_seconds += interval_s;
    }
    const char* phase_name = phase == Phase::Ramp ? "ramp" : "measure";
    const double frames = static_cast<double>(interval.c.frames) / interval_s;
    const double bytes_per_s = static_cast<double>(interval.c.bytes_in) / interval_s;
    char server_delay[48] = "";
    if (o.kernel_timestamps && interval.server_delay_us.count() == 0) {
      std::snprintf(server_delay, sizeof server_delay, "  server-side p99     n/a   ");  // no frame ended a read
    } else if (o.kernel_timestamps) {
      std::snprintf(server_delay, sizeof server_delay, "  server-side p99 %7.1f ms",
                    sl::us_to_ms(interval.server_delay_us.percentile(99)));
    }
    std::fprintf(stderr,
                 "[%4ds] %-7s connected %6d/%d joined %6d  frames/s %8.0f  MB/s %7.2f  delay p99 %7.1f ms%s  missing %llu  "
                 "errors %llu  disc %llu  tester cpu %3.0f%%\n",
                 second, phase_name, connected, o.clients, joined, frames, bytes_per_s / 1e6,
                 sl::us_to_ms(interval.delay_us.percentile(99)), server_delay,
                 static_cast<unsigned long long>(interval.c.missing),
                 static_cast<unsigned long long>(interval.c.error_total()),
                 static_cast<unsigned long long>(interval.c.disconnect_total()), cpu_pct);
    if (csv) {
      std::fprintf(csv, "%d,%s,%d,%d,%llu,%.0f,%.0f,%.3f,%.3f,%.3f,%llu,%llu,%llu,%llu,%.2f,%.1f", second, phase_name,
                   connected, joined, static_cast<unsigned long long>(interval.c.frames), frames, bytes_per_s,
                   sl::us_to_ms(interval.delay_us.percentile(50)),
                   sl::us_to_ms(interval.delay_us.percentile(99)), sl::us_to_ms(interval.delay_us.max()),
                   static_cast<unsigned long long>(interval.c.missing),
                   static_cast<unsigned long long>(interval.c.inputs_sent),
                   static_cast<unsigned long long>(interval.c.error_total()),
                   static_cast<unsigned long long>(interval.c.disconnect_total()),
                   interval.c.view_frames > 0
                       ? static_cast<double>(interval.c.view_entities_sum) / static_cast<double>(interval.c.view_frames)
                       : 0.0, cpu_pct);
      // Two more columns with --kernel-timestamps.
      if (o.kernel_timestamps) {
        std::fprintf(csv, ",%.3f,%.3f", sl::us_to_ms(interval.server_delay_us.percentile(50)),
                     sl::us_to_ms(interval.server_delay_us.percentile(99)));
      }
      std::fputc('\n', csv);
      std::fflush(csv);
    }

    if (interrupted) {
      std::fprintf(stderr, "interrupted: stopping\n");
      if (phase == Phase::Measure) write_marker(o.marker, "end");
      cpu_window_end = cpu;
      phase = Phase::Done;
    } else if (step == Step::StartWindow) {
      phase = Phase::Measure;
      connected_at_start = connected;
      cpu_window_start = cpu;
      write_marker(o.marker, "start");
      // The window is whole seconds (see the loop's EndWindow test): a fraction rounds up.
      const double window_s = std::ceil(o.duration);
      std::fprintf(stderr, "measure: window starts (%d/%d connected), %.0f s%s\n", connected, o.clients, window_s,
                   window_s != o.duration ? " (--duration rounded up to whole seconds)" : "");
    } else if (step == Step::EndWindow) {
      cpu_window_end = cpu;
      write_marker(o.marker, "end");
      std::fprintf(stderr, "measure: window ends\n");
      phase = Phase::Done;
    }
  }

  for (auto& w : workers) w->stop();
  for (auto& w : workers) w->join();
  for (auto& w : workers) w->take_interval(total);  // the closing handshakes
  const CpuSample cpu_end = cpu_now();
  if (csv) std::fclose(csv);

  // Per-client totals: what the integration test compares with the daemon's own count.
  std::uint64_t pc_frames = 0, pc_span = 0, pc_missing = 0, pc_stale = 0, pc_min = UINT64_MAX, pc_max = 0;
  int with_frames = 0;
  nlohmann::json per_client = nlohmann::json::array();
  for (const auto& w : workers) {
    for (const auto& s : w->summaries()) {
      pc_frames += s.frames;
      pc_span += s.span;
      pc_missing += s.missing;
      pc_stale += s.stale;
      pc_min = std::min(pc_min, s.frames);
      pc_max = std::max(pc_max, s.frames);
      if (s.frames > 0) with_frames++;
      if (o.clients <= 1000) {
        nlohmann::json row = {{"client", s.index}, {"joined", s.joined}, {"frames", s.frames}, {"missing", s.missing},
                              {"stale", s.stale}, {"first_tick", s.first_tick}, {"last_tick", s.last_tick},
                              {"close_code", s.close_code}};
        if (s.in_window) {
          // Its share of the measured window (measured.per_client summarises these).
          row["window"] = {{"frames", s.window.frames},
                           {"frame_rate", s.window.seconds > 0 ? static_cast<double>(s.window.frames) / s.window.seconds : 0.0},
                           {"game_rate", s.window.has_game_rate ? nlohmann::json(s.window.game_rate) : nlohmann::json()},
                           {"max_tick_gap", s.window.max_gap}};
        }
        per_client.push_back(std::move(row));
      }
    }
  }

  // What an ideal run delivers: a frame per tick to every open connection (joined or not yet)
  // for as long as it was open, from each client's own open time (ConnectedTime).
  const auto client_seconds = [](const sl::IntervalStats& s) { return static_cast<double>(s.c.connected_us) / 1e6; };
  const double clients_avg = measured_seconds > 0 ? client_seconds(measured) / measured_seconds : 0;
  nlohmann::json measured_json = sl::summarize(measured, measured_seconds, clients_avg,
                                               client_seconds(measured) * tick_rate, o.kernel_timestamps);
  if (window_ended) measured_json["per_client"] = sl::summarize_clients(client_windows);
  const double run_s = std::chrono::duration<double>(cpu_end.at - cpu_start.at).count();
  const nlohmann::json cpu_json = {
      {"user_s", cpu_end.user_s - cpu_start.user_s},
      {"sys_s", cpu_end.sys_s - cpu_start.sys_s},
      {"wall_s", run_s},
      {"run_percent_of_one_core", cpu_percent(cpu_start, cpu_end)},
      {"measured_user_s", cpu_window_end.user_s - cpu_window_start.user_s},
      {"measured_sys_s", cpu_window_end.sys_s - cpu_window_start.sys_s},
      {"measured_percent_of_one_core", cpu_percent(cpu_window_start, cpu_window_end)},
  };
  const nlohmann::json total_json = sl::summarize(total, run_s, run_s > 0 ? client_seconds(total) / run_s : 0,
                                                  client_seconds(total) * tick_rate, o.kernel_timestamps);
  print_summary(o, measured_json, total_json, cpu_json, connected_at_start, tick_rate);

  if (!o.report.empty()) {
    nlohmann::json report = {
        {"tool", "skirmish-load"},
        {"started_unix_ms", started_unix_ms},
        {"options",
         {{"url", o.url},
          {"clients", o.clients},
          {"ramp", o.ramp},
          {"duration", o.duration},
          {"behavior", o.behavior},
          {"protocol", o.protocol},
          {"input_rate", o.input_rate},
          {"view_fraction", o.view_fraction},
          {"threads", threads},
          {"name_prefix", o.name_prefix},
          {"seed", o.seed},
          {"kernel_timestamps", o.kernel_timestamps}}},
        {"tick_rate", tick_rate},
        {"interrupted", g_interrupted.load()},
        {"clients", {{"requested", o.clients}, {"connected_at_window_start", connected_at_start}}},
        {"measured", measured_json},
        {"total", total_json},
        {"tester_cpu", cpu_json},
        {"per_client_totals",
         {{"frames", pc_frames},
          {"span", pc_span},
          {"missing", pc_missing},
          {"stale", pc_stale},
          {"frames_min", with_frames ? pc_min : 0},
          {"frames_max", pc_max},
          {"clients_with_frames", with_frames}}},
        {"per_client", per_client},
    };
    std::ofstream out(o.report);
    out << report.dump(2) << '\n';
    if (!out) {
      std::fprintf(stderr, "skirmish-load: cannot write %s\n", o.report.c_str());
      return 2;
    }
  }
  if (g_interrupted) return 130;
  // Nothing was measured (a wrong URL, a daemon that refused everyone, sent no tick or went
  // away): that is not a result, whatever the numbers above say.
  if (const auto why = sl::window_without_result(connected_at_start, measured.c.frames, client_windows)) {
    std::fprintf(stderr, "skirmish-load: %s\n", why->c_str());
    return 1;
  }
  return 0;
}
