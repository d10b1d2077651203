// One world's tick: inputs -> step -> encode -> fan-out, on its home loop. Viewers live in an array
// walked once per tick; each is served through its ViewerSink, so the tick does not know
// which transport a viewer uses. When the loop falls behind, the world still steps every
// tick (game time stays real) and the SendScheduler lowers the send rate instead.
//
// Threads: the tick holds the game's mutex while it steps, encodes and decides who is due;
// then, with no lock held, every event loop builds and writes its own viewers' frames from
// the encoded tick at once (FanOutRunner), each with its own FrameAssembler (they share the
// pieces they encode); then viewers that need the game's lock (polling sessions) are served
// on the home loop with it held.
// Worlds with different homes tick at the same time; their serial parts take turns at the lock.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "game/world.h"
#include "server/cpu_allowance.h"
#include "server/fan_out.h"
#include "server/game_bridge.h"
#include "server/input_queue.h"
#include "server/send_scheduler.h"
#include "server/tick_driver.h"
#include "server/viewer.h"

namespace skirmish::server {

struct TickStats {  // a world's counts since start, under the game's lock
  std::uint64_t frames = 0, bytes = 0;       // tick frames sent
  std::uint64_t player_frames = 0;           // ... of them to viewers with a player
  std::uint64_t skipped = 0;                 // not built: the sink could not take one (resync next)
  std::uint64_t shed = 0;                    // due but not served: over the budget
  std::uint64_t withheld = 0;                // not sent by the send rate: not due (k > 1) or shed
  std::uint64_t steps = 0;                   // simulation steps (every tick, whatever was sent)
  std::uint64_t inputs_applied = 0;          // inputs applied (WebSocket: queued; polling: with the request)
  std::uint64_t inputs_dropped = 0;          // ... dropped: over game.max_inputs_per_tick, or their viewer gone
};

class WorldTick {
 public:
  struct Hooks {
    std::function<void(std::uint64_t now_ms)> before_tick;  // e.g. expire players nobody reclaimed
    std::function<std::size_t()> online_players;            // what frames report as "players"
    std::function<void(double turn_ms)> after_tick;         // e.g. sample statistics
  };
  // `mutex`: the game's (held by the caller around everything else it calls here). The
  // world's timer lives on loop `home` of `runner`; construct this before that loop's thread
  // runs, or on it.
  WorldTick(std::size_t home, const config::Config& config, std::uint64_t seed, Hooks hooks, FanOutRunner& runner,
            std::recursive_mutex& mutex);
  WorldTick(const WorldTick&) = delete;
  WorldTick& operator=(const WorldTick&) = delete;

  // Any thread, the game's lock held: the timer starts (stops) on the home loop.
  void start();
  // No tick steps once this has returned (a last one may be under way on the home loop: it
  // holds the lock the caller holds, so it has finished or not begun).
  void stop();
  std::size_t home() const { return home_; }

  // `id` is the caller's, unique among this world's viewers.
  void add_viewer(ViewerId id, ViewerSink& sink, float view_x, float view_y);
  // The viewer is gone; returns the player it controlled (0: none) for the caller to detach.
  game::EntityId remove_viewer(ViewerId id);
  // nullptr once removed. The address is stable while the viewer is here.
  Viewer* find(ViewerId id);
  std::size_t viewer_count() const { return viewers_.size(); }
  std::size_t player_viewer_count() const;

  // Where viewers' loops put their inputs for the next tick (any thread).
  InputQueue& inputs() { return input_queue_; }
  // With the lock held: the queued inputs, in arrival order, to their viewers. At each tick's
  // start, and before a viewer's other messages (they must not overtake its inputs).
  void apply_queued_inputs();
  // With the lock held: one input of `v`, a viewer here with a player (a queued one, or a
  // polling session's with its request). Its movement holds until the next input, its attack
  // counts at the next tick; over game.max_inputs_per_tick a tick it is dropped. Counted.
  void apply_input(Viewer& v, const QueuedInput& in);
  game::World& world() { return world_; }
  const game::World& world() const { return world_; }
  const GameBridge& bridge() const { return bridge_; }
  const TickDriver& ticks() const { return ticks_; }
  const SendScheduler& scheduler() const { return scheduler_; }
  const TickStats& tick_stats() const { return stats_; }
  double load() const { return load_; }
  double fanout_load() const { return fanout_load_; }
  // The cores load() is measured against: the process's CPUs (every thread's affinity
  // together, or fewer under a cgroup quota), at most one per event loop. 0 until measured.
  double allowed_cores() const { return allowed_cores_; }
  double capacity_frames() const { return capacity_frames_; }
  // Share of the last turns the busiest of this world's loops was not waiting for I/O
  // (smoothed), and the frames a tick whose fan-out would end in time by that measure.
  double busy() const { return busy_; }
  double wall_capacity_frames() const { return wall_capacity_frames_; }
  // Due viewers shed in the last tick.
  std::size_t shed_last_tick() const { return shed_last_tick_; }
  // Wall time from the start of a tick's fan-out (frames built on every loop) to its last write.
  const DurationHistogram& fanout_durations() const { return fanout_durations_; }
  // Per frame: from the end of its tick's encoding to its write, i.e. its wait in the fan-out.
  const DurationHistogram& send_delays() const { return send_delays_; }
  // CPU of the part of each tick that is done once, on the world's loop (inputs, steps,
  // encoding, planning), and of the fan-out summed over every loop, since start.
  std::uint64_t serial_cpu_ns() const { return serial_cpu_ns_; }
  std::uint64_t fanout_cpu_ns() const { return fanout_cpu_ns_; }

 private:
  // One due viewer's frame, as planned with the lock held: where its view is centred.
  struct Job {
    Viewer* viewer;
    float cx, cy;
    // The view's bucket (GameBridge::bucket_of): a loop builds its frames in this order, so
    // that neighbours, who see mostly the same entities, follow each other and find those
    // entities' pieces and index runs still in the cache.
    std::uint32_t bucket;
    bool player;  // as planned: the viewer's control fields may change meanwhile
    // The viewer's acknowledgement as of the plan (tick 0: none), and whether it is new: an
    // input applied during the fan-out (on another loop, under the lock) writes the viewer's
    // own, which the fan-out therefore never reads.
    bool ack_new = false;
    protocol::InputAck ack;
  };
  // What one event loop builds in a tick, and its counts.
  struct LoopWork {
    std::vector<Job> jobs;
    FrameAssembler assembler{FrameAssembler::Sharing::Shared};  // each piece encoded once over the loops
    std::string payload;  // scratch: one viewer's frame
    std::uint64_t frames = 0, bytes = 0, player_frames = 0, skipped = 0, cpu_ns = 0;
    DurationHistogram send_delays;  // this tick's frames: encoded -> written
  };

  // Steps up to `steps` ticks (as many as fit in one tick period of wall time, at least one)
  // and sends their frames; returns the steps taken.
  std::uint32_t tick(std::uint32_t steps);

  // With the lock held: who is due, and on which loop each is served.
  void plan_fan_out();
  // A budget just lifted: the viewer takes the phase of k ticks after its last frame.
  void rephase(Viewer& v, std::uint64_t tick, std::uint64_t waited);
  void add_job(Viewer& v);
  // On loop `loop` (the home loop for the viewers that need the lock).
  void run_jobs(LoopWork& work, std::size_t loop);
  void serve(LoopWork& work, const Job& job);
  // After a turn's fan-out: its CPU, wall time and frames, and whether the turn was late.
  void measure_load(std::uint64_t fanout_cpu_ns, std::uint64_t fanout_wall_ns, std::uint64_t frames, bool late);
  // The wall-time side of that (from measure_load, before it moves last_turn_ns_): the CPU
  // allowance counts the cores the process may run on (at most a core a loop), but on a
  // machine shared with other busy processes and no cgroup quota the loops get less, the CPU
  // load reads low and the fan-out runs into the next tick. How much of the turn the busiest
  // loop spent not waiting for I/O shows that. (It reads contention low rather than high: a
  // woken loop's wait for a CPU counts as idle, libuv stamps the wait's end when it runs;
  // the fan-out's own wall time and the late turns show the rest.)
  void measure_busy(std::uint64_t now, std::uint64_t fanout_wall_ns, std::uint64_t frames);

  std::size_t home_;
  uv_loop_t* loop_;  // the home loop's
  const config::Config& config_;
  Hooks hooks_;
  FanOutRunner& runner_;
  std::recursive_mutex& mutex_;
  game::World world_;
  GameBridge bridge_;
  TickDriver ticks_;
  SendScheduler scheduler_;
  CpuAllowance allowance_;
  TickStats stats_;
  // Each viewer on the heap, so its address holds while other loops build frames for it;
  // removal moves the last pointer into the gap.
  std::vector<std::unique_ptr<Viewer>> viewers_;
  std::unordered_map<ViewerId, std::uint32_t> index_of_;  // for messages and removal, never per tick
  // Viewers removed while frames were being built (their sink null), freed once that is over.
  std::vector<std::unique_ptr<Viewer>> graveyard_;
  bool fanning_out_ = false;  // under the lock
  bool stopped_ = false;      // under the lock: stop() was called
  std::vector<LoopWork> loops_;     // by event loop
  LoopWork locked_;                 // viewers that need the lock (polling sessions), on the home loop
  std::vector<std::uint8_t> wanted_;  // loops with jobs this tick
  std::vector<std::uint64_t> idle_ns_;  // by loop: its libuv idle time at the last turn
  std::uint8_t next_phase_ = 0;
  std::vector<game::PlayerInput> inputs_;  // scratch: this tick's input of every player
  InputQueue input_queue_;
  std::vector<QueuedInput> arrived_;       // scratch: what the queue held at this tick
  std::vector<SendScheduler::Due> due_players_, due_watchers_;  // scratch under a budget
  bool was_limited_ = false;     // the last plan was under a budget
  std::uint64_t next_turn_ = 0;  // numbers the viewers' jobs as they are planned (Viewer::turn)
  std::uint64_t last_turn_ns_ = 0, last_turn_cpu_ns_ = 0;
  double load_ = 0, fanout_load_ = 0;
  double allowed_cores_ = 0;
  double late_ = 0;             // share of recent turns that were late (smoothed)
  double frame_cpu_ns_ = 0;     // fan-out CPU per frame (smoothed)
  double capacity_frames_ = 1e18;  // frames a tick the spare CPU allows at the target load
  double floor_frames_ = 1;         // frames a tick SendScheduler::kFloorShare of the CPU allows
  double steady_base_ = -1;        // load that is not fan-out, smoothed over seconds (-1: none yet)
  double steady_capacity_frames_ = 1e18;  // the same frames a tick by steady_base_
  double busy_ = 0;                 // see busy()
  double fanout_wall_share_ = 0;    // the fan-out's wall time over the tick period (smoothed)
  double frame_wall_ns_ = 0;        // fan-out wall time per frame (smoothed)
  double wall_capacity_frames_ = 1e18;  // see wall_capacity_frames()
  std::size_t shed_last_tick_ = 0;
  DurationHistogram fanout_durations_;
  DurationHistogram send_delays_;
  std::uint64_t encoded_ns_ = 0;  // when this tick's encoding ended (read by every loop's fan-out)
  std::uint64_t serial_cpu_ns_ = 0, fanout_cpu_ns_ = 0;
  double player_carry_ = 0, watcher_carry_ = 0;  // fractions of a frame owed by the budget
};

}  // namespace skirmish::server
