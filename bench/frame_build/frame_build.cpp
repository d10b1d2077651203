// What building one world's tick frames costs skirmishd itself (no sockets, no kernel) when
// its viewers are spread over L event loops, each with its own FrameAssembler, with and
// without the pieces shared between the loops' assemblers (server/piece_table.h).
//
// The scene is bench/run.sh's: N players wandering a map of N x 100,000 square units with N/2
// monsters, every viewer served every tick. Viewers are dealt to loops round-robin, as the
// daemon deals connections, and each loop builds its frames in the daemon's order (by map
// bucket, each loop starting its own share further round). Each configuration replays the
// same ticks from the same seed. "alone" is each loop's assembler with a table of its own
// (FrameAssembler::Sharing::Alone: what each loop had before the table was shared), "shared"
// the daemon's. Reported per frame: the builders' thread CPU, and the bytes of pieces encoded. On a machine with fewer cores than loops the loops' threads take turns,
// and each turn starts with caches another thread filled; --sequential builds the loops'
// shares one after another on one thread instead: the work of L loops on L cores, without
// that (and without two loops ever encoding the same piece at the same moment).
//
//   build/bench/frame_build/frame_build [--players N] [--ticks T] [--loops 1,2,4,8] [--format json|binary]
//                                       [--sequential]
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "game/world.h"
#include "server/fan_out_order.h"
#include "server/game_bridge.h"

using namespace skirmish;

namespace {

struct Options {
  int players = 3000;
  int ticks = 100;
  int warmup = 40;
  std::vector<int> loops = {1, 2, 4, 8};
  server::FrameFormat format = server::FrameFormat::Json;
  bool sequential = false;
};

struct Viewer {
  game::EntityId player = 0;
  std::vector<game::EntityId> known;
  server::FrameHistory history;
  server::Stamp last = 0;
  float cx = 0, cy = 0;
  std::uint32_t bucket = 0;
};

struct Lane {
  std::unique_ptr<server::FrameAssembler> assembler;
  std::vector<Viewer*> viewers;
  std::string payload;
  std::uint64_t cpu_ns = 0, frames = 0, frame_bytes = 0, piece_bytes = 0;
};

std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// One loop's share of a tick, as WorldTick::run_jobs orders it.
void build_lane(Lane& lane, const server::GameBridge& bridge, std::size_t k, std::size_t loops, bool measured,
                server::FrameFormat format) {
  const std::uint64_t start_cpu = thread_cpu_ns();
  auto& vs = lane.viewers;
  std::sort(vs.begin(), vs.end(), [](const Viewer* a, const Viewer* b) { return a->bucket < b->bucket; });
  const std::size_t n = vs.size();
  if (n == 0) return;
  const std::size_t start = server::first_job(bridge.stamp(), k, loops, n);
  std::uint64_t frames = 0, bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Viewer& v = *vs[(start + i) % n];
    const bool binary = format == server::FrameFormat::Binary;
    lane.assembler->build_frame(bridge, v.cx, v.cy, v.known, v.last, lane.payload, v.last == 0, format,
                                binary ? &v.history : nullptr);
    v.last = bridge.stamp();
    frames++;
    bytes += lane.payload.size();
  }
  if (!measured) return;
  lane.cpu_ns += thread_cpu_ns() - start_cpu;
  lane.frames += frames;
  lane.frame_bytes += bytes;
  lane.piece_bytes += lane.assembler->encoded_bytes();
}

struct Result {
  double ns_per_frame = 0, piece_bytes_per_frame = 0, frame_bytes_per_frame = 0;
};

Result run(const Options& o, std::size_t loops, server::FrameAssembler::Sharing sharing) {
  game::GameConfig cfg;
  const float size = std::max(1000.0f, std::round(std::sqrt(static_cast<float>(o.players) * 100000.0f)));
  cfg.world_width = cfg.world_height = size;
  cfg.monster_count = o.players / 2;
  cfg.obstacle_count = std::max(12, static_cast<int>(12 * std::pow(size / 3200.0f, 2.0f)));
  cfg.max_players = o.players + 10;
  game::World world(cfg, 1);
  server::GameBridge bridge(world, 800);

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> where(0.0f, size), turn(0.0f, 6.2831853f);
  std::vector<Viewer> viewers(static_cast<std::size_t>(o.players));
  std::vector<float> heading(viewers.size());
  for (std::size_t p = 0; p < viewers.size(); ++p) {
    viewers[p].player = world.add_player_at("p" + std::to_string(p), where(rng), where(rng));
    heading[p] = turn(rng);
  }
  std::vector<Lane> lanes(loops);
  for (Lane& lane : lanes) lane.assembler = std::make_unique<server::FrameAssembler>(sharing);
  for (std::size_t p = 0; p < viewers.size(); ++p) lanes[p % loops].viewers.push_back(&viewers[p]);

  std::vector<game::PlayerInput> inputs;
  for (int t = 0; t < o.warmup + o.ticks; ++t) {
    inputs.clear();
    for (std::size_t p = 0; p < viewers.size(); ++p) {
      if ((t + static_cast<int>(p)) % 20 == 0) heading[p] = turn(rng);  // a new way each second
      inputs.push_back({viewers[p].player, std::cos(heading[p]), std::sin(heading[p]), (t + p) % 10 == 0});
    }
    world.step(inputs);
    bridge.encode_tick(1'700'000'000'000 + t * 50, viewers.size());
    bridge.prepare_views();
    for (Viewer& v : viewers) {
      if (const game::Entity* me = world.find(v.player)) {
        v.cx = me->x;
        v.cy = me->y;
      }
      v.bucket = bridge.bucket_of(v.cx, v.cy);
    }
    const bool measured = t >= o.warmup;
    if (loops == 1 || o.sequential) {
      for (std::size_t k = 0; k < loops; ++k) build_lane(lanes[k], bridge, k, loops, measured, o.format);
      continue;
    }
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < loops; ++k) {
      threads.emplace_back([&, k] { build_lane(lanes[k], bridge, k, loops, measured, o.format); });
    }
    for (auto& th : threads) th.join();
  }
  std::uint64_t cpu = 0, frames = 0, piece_bytes = 0, frame_bytes = 0;
  for (const Lane& lane : lanes) {
    cpu += lane.cpu_ns;
    frames += lane.frames;
    piece_bytes += lane.piece_bytes;
    frame_bytes += lane.frame_bytes;
  }
  const auto per = [frames](double x) { return frames == 0 ? 0.0 : x / static_cast<double>(frames); };
  return {per(static_cast<double>(cpu)), per(static_cast<double>(piece_bytes)), per(static_cast<double>(frame_bytes))};
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: frame_build [--players N] [--ticks T] [--loops 1,2,4,8] [--format json|binary] [--sequential]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sequential") {
      o.sequential = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (arg == "--players") {
      o.players = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--ticks") {
      o.ticks = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--loops") {
      o.loops.clear();
      for (std::size_t at = 0; at < value.size();) {
        const std::size_t comma = std::min(value.find(',', at), value.size());
        o.loops.push_back(std::max(1, std::atoi(value.substr(at, comma - at).c_str())));
        at = comma + 1;
      }
    } else if (arg == "--format") {
      if (value != "json" && value != "binary") usage();
      o.format = value == "json" ? server::FrameFormat::Json : server::FrameFormat::Binary;
    } else {
      usage();
    }
  }
  std::printf("frame_build: %d players, %s, %d ticks measured after %d, loops %s, %u CPUs\n", o.players,
              o.format == server::FrameFormat::Json ? "json" : "binary", o.ticks, o.warmup,
              o.sequential ? "one after another" : "on threads", std::thread::hardware_concurrency());
  std::printf("%6s  %-7s  %12s  %14s  %12s\n", "loops", "pieces", "ns / frame", "piece B/frame", "frame bytes");
  for (const int loops : o.loops) {
    for (const auto sharing : {server::FrameAssembler::Sharing::Alone, server::FrameAssembler::Sharing::Shared}) {
      const Result r = run(o, static_cast<std::size_t>(loops), sharing);
      std::printf("%6d  %-7s  %12.0f  %14.1f  %12.1f\n", loops,
                  sharing == server::FrameAssembler::Sharing::Shared ? "shared" : "alone", r.ns_per_frame,
                  r.piece_bytes_per_frame, r.frame_bytes_per_frame);
      std::fflush(stdout);
    }
  }
}
