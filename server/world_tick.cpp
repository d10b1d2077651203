#include "server/world_tick.h"

#include <algorithm>
#include <cmath>

#include "protocol/game_messages.h"
#include "server/fan_out_order.h"
#include "server/wall_clock.h"

namespace skirmish::server {

WorldTick::WorldTick(std::size_t home, const config::Config& config, std::uint64_t seed, Hooks hooks,
                     FanOutRunner& runner, std::recursive_mutex& mutex)
    : home_(std::min(home, runner.loops() - 1)),
      loop_(runner.uv_loop(home_)),
      config_(config),
      hooks_(std::move(hooks)),
      runner_(runner),
      mutex_(mutex),
      world_(config.game, seed),
      bridge_(world_, config.session.view_radius),
      ticks_(loop_, config.game.tick_rate, config.session.max_catch_up_ticks,
             [this](std::uint32_t steps) { return tick(steps); }, &mutex),
      allowance_(static_cast<double>(runner.loops())),
      loops_(runner.loops()),
      wanted_(runner.loops(), 0),
      idle_ns_(runner.loops(), 0) {
  scheduler_.set_min_k(config.session.send_every_ticks);
}

void WorldTick::start() {
  runner_.on_loop(home_, [this] {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    ticks_.start();
  });
}

void WorldTick::stop() {
  stopped_ = true;  // the caller holds the lock: a tick that takes it after this does nothing
  runner_.on_loop(home_, [this] {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    ticks_.stop();
  });
}

void WorldTick::add_viewer(ViewerId id, ViewerSink& sink, float view_x, float view_y) {
  auto v = std::make_unique<Viewer>();
  v->sink = &sink;
  v->id = id;
  v->view_x = view_x;
  v->view_y = view_y;
  v->format = sink.frame_format();
  // Round-robin phases: at any k, consecutive viewers fall on different ticks.
  v->phase = next_phase_;
  next_phase_ = static_cast<std::uint8_t>((next_phase_ + 1) % SendScheduler::kPhases);
  index_of_[id] = static_cast<std::uint32_t>(viewers_.size());
  viewers_.push_back(std::move(v));
}

game::EntityId WorldTick::remove_viewer(ViewerId id) {
  const auto it = index_of_.find(id);
  if (it == index_of_.end()) return 0;
  const std::uint32_t i = it->second;
  index_of_.erase(it);
  std::unique_ptr<Viewer> gone = std::move(viewers_[i]);
  const game::EntityId player = gone->player;
  if (i + 1 != viewers_.size()) {
    viewers_[i] = std::move(viewers_.back());
    index_of_[viewers_[i]->id] = i;
  }
  viewers_.pop_back();
  if (fanning_out_) {
    // A loop may still hold it in this tick's jobs: it is skipped (no sink) and freed after.
    gone->sink = nullptr;
    graveyard_.push_back(std::move(gone));
  }
  return player;
}

Viewer* WorldTick::find(ViewerId id) {
  const auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : viewers_[it->second].get();
}

std::size_t WorldTick::player_viewer_count() const {
  std::size_t n = 0;
  for (const auto& v : viewers_) n += v->player != 0;
  return n;
}

std::uint32_t WorldTick::tick(std::uint32_t steps) {
  const std::uint64_t started_ns = uv_hrtime();
  const std::uint64_t started_cpu = thread_cpu_ns();
  std::unique_lock<std::recursive_mutex> lock(mutex_);
  if (stopped_) return steps;  // the players are being saved: the world stays as they were
  const std::uint64_t now_ms = uv_now(loop_);
  if (hooks_.before_tick) hooks_.before_tick(now_ms);
  apply_queued_inputs();
  inputs_.clear();
  for (auto& vp : viewers_) {
    Viewer& v = *vp;
    v.inputs_this_tick = 0;
    if (v.player == 0) continue;
    inputs_.push_back({v.player, v.move_dx, v.move_dy, v.attack});
    v.attack = false;
  }
  // The world applies inputs in order; sort so the result does not depend on viewer order.
  std::sort(inputs_.begin(), inputs_.end(),
            [](const game::PlayerInput& a, const game::PlayerInput& b) { return a.player < b.player; });
  const std::size_t online = hooks_.online_players ? hooks_.online_players() : 0;
  // Every due tick is stepped, however late the loop is: game time stays real. Ticks owed
  // from a late turn move players on with their held input; an attack happens once. The
  // steps of one turn take at most a tick period (one at least): a world too heavy to step in
  // real time still reads its sockets, answers /healthz and sends frames between its steps.
  const std::uint64_t period_ns = ticks_.period_ns();
  std::uint32_t stepped = 0;
  for (; stepped < steps; ++stepped) {
    if (stepped > 0 && uv_hrtime() - started_ns > period_ns) break;
    if (stepped == 1) {
      for (auto& in : inputs_) in.attack = false;
    }
    world_.step(inputs_);
    bridge_.encode_tick(wall_clock_ms(), online);
    stats_.steps++;
  }
  plan_fan_out();
  encoded_ns_ = uv_hrtime();
  // The frames: every loop builds its own viewers' at once from the encoded tick, which
  // nothing changes until they are done (the next encode is in the next tick, under the lock
  // this one takes back first). Viewers removed meanwhile wait in the graveyard.
  fanning_out_ = true;
  serial_cpu_ns_ += thread_cpu_ns() - started_cpu;
  const std::uint64_t fan_start = uv_hrtime();
  lock.unlock();
  runner_.run(home_, wanted_, [this](std::size_t k) { run_jobs(loops_[k], k); });
  lock.lock();
  run_jobs(locked_, home_);
  const std::uint64_t fan_wall_ns = uv_hrtime() - fan_start;
  fanout_durations_.observe(static_cast<double>(fan_wall_ns) / 1e9);
  fanning_out_ = false;
  graveyard_.clear();

  std::uint64_t frames = 0, fan_cpu = 0;
  auto collect = [&](LoopWork& w) {
    frames += w.frames;
    fan_cpu += w.cpu_ns;
    stats_.frames += w.frames;
    stats_.bytes += w.bytes;
    stats_.player_frames += w.player_frames;
    stats_.skipped += w.skipped;
    send_delays_.merge(w.send_delays);
    w.send_delays = DurationHistogram();
    w.frames = w.bytes = w.player_frames = w.skipped = w.cpu_ns = 0;
    w.jobs.clear();
  };
  for (LoopWork& w : loops_) collect(w);
  collect(locked_);
  fanout_cpu_ns_ += fan_cpu;
  // Late when ticks were owed, whether this turn had time for them all or not.
  measure_load(fan_cpu, fan_wall_ns, frames, steps > 1);
  const std::size_t players = inputs_.size();  // one input per viewer with a player
  // Whichever runs out first, the CPU the daemon may use or the wall time its loops have,
  // sets the pace.
  scheduler_.update({std::max(load_, busy_), late_, std::min(capacity_frames_, wall_capacity_frames_),
                     steady_capacity_frames_, floor_frames_},
                    players, viewers_.size() - players);
  if (hooks_.after_tick) hooks_.after_tick(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
  return stepped;
}

void WorldTick::apply_queued_inputs() {
  input_queue_.take(arrived_);
  for (const QueuedInput& in : arrived_) {
    Viewer* v = find(in.viewer);
    if (v == nullptr) {
      stats_.inputs_dropped++;  // gone (closed, or moved to another world)
    } else if (v->player == 0) {
      // It left (or was taken over) after the input was read: as if it had come a bit later.
      v->sink->send_message(protocol::encode_error("not_joined", "join before sending input"));
    } else {
      apply_input(*v, in);
    }
  }
}

void WorldTick::apply_input(Viewer& v, const QueuedInput& in) {
  // Past game.max_inputs_per_tick an input's attack is dropped (and counted), but its movement
  // still replaces the one held, and is acknowledged: the last movement a client sent is the
  // one its player has (a burst that ends in a stop stops; the auditor's burst of ten kept
  // the fourth's direction for good when the rest were dropped whole).
  if (v.inputs_this_tick >= config_.session.max_inputs_per_tick) {
    stats_.inputs_dropped++;
  } else {
    v.inputs_this_tick++;
    stats_.inputs_applied++;
    v.attack = v.attack || in.attack;
  }
  const float held_dx = v.move_dx, held_dy = v.move_dy;
  v.move_dx = in.dx;
  v.move_dy = in.dy;
  // The next step is the first to move with a new movement; an input that repeats the one
  // held (a client repeats a held key) leaves it moving since where it began, and says so, so a
  // client's reckoning does not restart at each repeat's tick.
  if (in.dx != held_dx || in.dy != held_dy || v.move_since == 0) v.move_since = world_.tick() + 1;
  if (in.has_seq) {
    v.ack = protocol::InputAck{in.seq, v.move_since};
    v.ack_unsaid = true;
  }
}

void WorldTick::measure_load(std::uint64_t fanout_cpu_ns, std::uint64_t fanout_wall_ns, std::uint64_t frames,
                             bool late) {
  const std::uint64_t now = uv_hrtime();
  measure_busy(now, fanout_wall_ns, frames);
  // With several loops, the CPU all of them used (reading, writing, building frames) is what
  // the process may have; with one, this thread's is.
  const std::uint64_t cpu = runner_.loops() > 1 ? process_cpu_ns() : thread_cpu_ns();
  if (last_turn_ns_ != 0 && now > last_turn_ns_) {
    // CPU used since the last turn (the tick, and all the reading and writing in between)
    // against the CPU the process may use in that wall time.
    const double cores = allowance_.cores();
    allowed_cores_ = cores;
    const double allowed = cores * static_cast<double>(now - last_turn_ns_);
    const double load = static_cast<double>(cpu - last_turn_cpu_ns_) / allowed;
    const double fan = static_cast<double>(fanout_cpu_ns) / allowed;
    // Smoothed over a few ticks: one slow tick (a burst of joins) should not halve the rate.
    constexpr double kWeight = 0.3;
    load_ = load_ * (1 - kWeight) + load * kWeight;
    fanout_load_ = fanout_load_ * (1 - kWeight) + fan * kWeight;
    // A late turn means the loop could not keep up whatever the CPU numbers say (other
    // processes took the core); a loop that stays late is over, one hiccup is not.
    late_ = late_ * (1 - kWeight) + (late ? kWeight : 0.0);
    if (frames > 0) {
      const double per_frame = static_cast<double>(fanout_cpu_ns) / static_cast<double>(frames);
      frame_cpu_ns_ = frame_cpu_ns_ == 0 ? per_frame : frame_cpu_ns_ * (1 - kWeight) + per_frame * kWeight;
    }
    // What is left for frames once everything else (the simulation, reading, the sweep) has
    // had its share, at the load the scheduler aims for, in frames a tick.
    const double base = std::max(0.0, load_ - fanout_load_);
    // The same base over about 5 s (100 ticks at 20 Hz): a storm of handshakes hardly moves
    // it, a simulation that stays heavy does.
    constexpr double kSteadyWeight = 0.01;
    steady_base_ = steady_base_ < 0 ? base : steady_base_ * (1 - kSteadyWeight) + base * kSteadyWeight;
    if (frame_cpu_ns_ > 0) {
      const double tick_ns = cores * static_cast<double>(ticks_.period_ns());
      capacity_frames_ = std::max(0.0, (SendScheduler::kTargetLoad - base) * tick_ns / frame_cpu_ns_);
      floor_frames_ = std::max(1.0, SendScheduler::kFloorShare * tick_ns / frame_cpu_ns_);
      steady_capacity_frames_ = std::max(0.0, (SendScheduler::kTargetLoad - steady_base_) * tick_ns / frame_cpu_ns_);
    }
  }
  last_turn_ns_ = now;
  last_turn_cpu_ns_ = cpu;
}

void WorldTick::measure_busy(std::uint64_t now, std::uint64_t fanout_wall_ns, std::uint64_t frames) {
  // Each loop's time idle in epoll since the last turn (libuv counts it; the call is
  // thread-safe). The home loop counts as busy while it waits for the other loops' shares:
  // it cannot read its own sockets meanwhile either. A loop's idle time can step back: read
  // from another thread during a wait, it includes that wait so far, and libuv 1.44 drops a
  // wait that epoll_wait ends with no event (EINTR, a stale fd); such a loop sits this turn
  // out, measured next turn from the larger reading.
  const bool measured = last_turn_ns_ != 0 && now > last_turn_ns_;
  const double window = measured ? static_cast<double>(now - last_turn_ns_) : 0;
  double busy = 0;
  for (std::size_t k = 0; k < idle_ns_.size(); ++k) {
    const std::uint64_t idle = uv_metrics_idle_time(runner_.uv_loop(k));
    if (idle < idle_ns_[k]) continue;
    if (measured && (k == home_ || wanted_[k])) {
      busy = std::max(busy, 1.0 - std::min(1.0, static_cast<double>(idle - idle_ns_[k]) / window));
    }
    idle_ns_[k] = idle;
  }
  if (!measured) return;
  constexpr double kWeight = 0.3;  // as the CPU load's
  busy_ = busy_ * (1 - kWeight) + busy * kWeight;
  const auto period = static_cast<double>(ticks_.period_ns());
  // Over the same window as the busy share (a late turn's is longer than the period).
  fanout_wall_share_ = fanout_wall_share_ * (1 - kWeight) + static_cast<double>(fanout_wall_ns) / window * kWeight;
  if (frames > 0) {
    const double per_frame = static_cast<double>(fanout_wall_ns) / static_cast<double>(frames);
    frame_wall_ns_ = frame_wall_ns_ == 0 ? per_frame : frame_wall_ns_ * (1 - kWeight) + per_frame * kWeight;
  }
  // The frames a tick whose fan-out ends in time: what is not the fan-out (the steps, the
  // reading) keeps its share of the period, the fan-out gets the rest up to the target. A
  // loop is busy for at most the whole window while a fan-out may run past it, so the
  // fan-out's wall time, not the busy share, says how far over it is. (With several worlds
  // the fan-out's wall time also holds the other worlds' shares the home loop ran while it
  // waited for this one's: such a world sheds a little more than it needs to.)
  if (frame_wall_ns_ > 0) {
    const double base = std::clamp(busy_ - fanout_wall_share_, 0.0, SendScheduler::kTargetLoad);
    wall_capacity_frames_ = (SendScheduler::kTargetLoad - base) * period / frame_wall_ns_;
  }
}

void WorldTick::add_job(Viewer& v) {
  float cx = v.view_x, cy = v.view_y;
  if (v.player != 0) {
    if (const game::Entity* me = world_.find(v.player, v.player_index)) {
      cx = me->x;
      cy = me->y;
    } else {
      v.player = 0;  // removed from the world (should not happen while attached)
    }
  }
  v.turn = ++next_turn_;
  Job job{&v, cx, cy, bridge_.bucket_of(cx, cy), v.player != 0, false, {}};
  // Only an input whose first step has been taken (an input applied after this tick's step is
  // for the next one).
  if (v.ack.tick != 0 && v.ack.tick <= world_.tick()) {
    job.ack = v.ack;
    job.ack_new = v.ack_unsaid;
    v.ack_unsaid = false;
  }
  if (v.sink->needs_game_lock()) {
    locked_.jobs.push_back(job);
    return;
  }
  const std::size_t k = std::min<std::size_t>(v.sink->loop(), loops_.size() - 1);
  loops_[k].jobs.push_back(job);
  wanted_[k] = 1;
}

void WorldTick::run_jobs(LoopWork& work, std::size_t loop) {
  if (work.jobs.empty()) return;
  const std::uint64_t cpu_start = thread_cpu_ns();
  // By place: neighbours share pieces in the cache, and viewers at one point one view query.
  std::sort(work.jobs.begin(), work.jobs.end(), [](const Job& a, const Job& b) {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    return a.cx != b.cx ? a.cx < b.cx : a.cy < b.cy;
  });
  const std::size_t n = work.jobs.size();
  const std::size_t start = first_job(bridge_.stamp(), loop, loops_.size(), n);
  std::rotate(work.jobs.begin(), work.jobs.begin() + static_cast<std::ptrdiff_t>(start), work.jobs.end());
  // Each viewer's own memory (its Viewer, its sink, the ids it knows) is somewhere on the
  // heap: ask for the next ones' while this one's frame is built.
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 2 < n) __builtin_prefetch(work.jobs[i + 2].viewer);
    if (i + 1 < n) {
      const Viewer& next = *work.jobs[i + 1].viewer;
      __builtin_prefetch(next.sink);
      __builtin_prefetch(next.known.data());
    }
    serve(work, work.jobs[i]);
  }
  work.cpu_ns += thread_cpu_ns() - cpu_start;
}

void WorldTick::serve(LoopWork& work, const Job& job) {
  Viewer& v = *job.viewer;
  if (v.sink == nullptr) return;  // removed while this tick's frames were being built
  switch (v.sink->readiness()) {
    case ViewerSink::Readiness::Ready: break;
    case ViewerSink::Readiness::Resync: v.resync = true; break;
    case ViewerSink::Readiness::Skip:
      // Frames would pile up behind unread ones: skip, and resync once it can take one.
      work.skipped++;
      v.resync = true;
      v.blocked = true;
      return;
  }
  v.blocked = false;
  // A new acknowledgement is said once; a first frame or a resync says the last one again
  // (one planned for a frame that was skipped is said by the resync that follows).
  const bool say_ack = job.ack.tick != 0 && (job.ack_new || v.resync || v.last_frame == 0);
  work.assembler.build_frame(bridge_, job.cx, job.cy, v.known, v.last_frame, work.payload, v.resync, v.format,
                             v.format == FrameFormat::Binary ? &v.history : nullptr, say_ack ? &job.ack : nullptr);
  v.resync = false;
  v.last_frame = bridge_.stamp();
  v.sink->send_frame(work.payload);
  work.send_delays.observe(static_cast<double>(uv_hrtime() - encoded_ns_) / 1e9);
  work.frames++;
  work.bytes += work.payload.size();
  if (job.player) work.player_frames++;
}

void WorldTick::rephase(Viewer& v, std::uint64_t tick, std::uint64_t waited) {
  const auto k = static_cast<std::uint64_t>(v.player != 0 ? scheduler_.k_players() : scheduler_.k_watchers());
  const std::uint64_t next = tick + (waited >= k ? 0 : k - waited);
  // (next + phase) is a multiple of kPhases, so of every k (each divides kPhases).
  v.phase = static_cast<std::uint8_t>((SendScheduler::kPhases - next % SendScheduler::kPhases) % SendScheduler::kPhases);
}

void WorldTick::plan_fan_out() {
  bridge_.prepare_views();
  std::fill(wanted_.begin(), wanted_.end(), 0);
  const std::uint64_t tick = world_.tick();
  const Stamp stamp = bridge_.stamp();
  shed_last_tick_ = 0;
  const bool was_limited = was_limited_;
  was_limited_ = scheduler_.limited();
  if (!scheduler_.limited()) {
    std::size_t not_due = 0;
    for (auto& vp : viewers_) {
      Viewer& v = *vp;
      const std::uint64_t waited = v.last_frame == 0 ? UINT64_MAX : stamp - v.last_frame;
      // A budget just lifted: its line had moved viewers off their phases. Each takes the phase
      // of k ticks after its last frame, so none is served sooner than game.send_every_ticks.
      if (was_limited && v.last_frame != 0) rephase(v, tick, waited);
      if (scheduler_.due(tick, v.phase, v.player != 0, waited)) {
        add_job(v);
      } else {
        not_due++;
      }
    }
    stats_.withheld += not_due;
    return;
  }
  // A budget: players first, then watchers, in each class the due viewers that have waited
  // longest, as many as the budget gives the class.
  due_players_.clear();
  due_watchers_.clear();
  for (std::uint32_t i = 0; i < viewers_.size(); ++i) {
    Viewer& v = *viewers_[i];
    const std::uint64_t waited = v.last_frame == 0 ? UINT64_MAX : stamp - v.last_frame;
    if (!scheduler_.due(tick, v.phase, v.player != 0, waited)) continue;
    // It cannot take a frame (over its soft limit, an unpolled session, closing): it must
    // not take a slot of the budget either, or such viewers, always the longest waiting,
    // would fill it every tick. On this loop that is asked now; on another, its connection's
    // state is that loop's to read: it is asked there (a job outside the budget), and what
    // it said last time decides.
    const bool here = v.sink->needs_game_lock() || v.sink->loop() == home_;
    if (here && v.sink->readiness() == ViewerSink::Readiness::Skip) {
      stats_.skipped++;
      v.resync = true;
      continue;
    }
    if (!here && v.blocked) {
      add_job(v);
      continue;
    }
    (v.player != 0 ? due_players_ : due_watchers_).push_back({v.last_frame, v.turn, i});
  }
  // Whole frames a tick from the planned counts, the fractions carried to the next tick.
  auto frames = [](double planned, double& carry) {
    const double want = planned + carry;
    const auto n = static_cast<std::size_t>(want);
    carry = want - static_cast<double>(n);
    return n;
  };
  const std::size_t player_budget = frames(scheduler_.player_frames(), player_carry_);
  const std::size_t watcher_budget = frames(scheduler_.watcher_frames(), watcher_carry_);
  auto serve_longest_waiting = [&](std::vector<SendScheduler::Due>& list, std::size_t budget) {
    const std::size_t n = SendScheduler::pick_longest_waiting(list, budget);
    for (std::size_t j = 0; j < n; ++j) add_job(*viewers_[list[j].index]);
    shed_last_tick_ += list.size() - n;
  };
  serve_longest_waiting(due_players_, player_budget);
  serve_longest_waiting(due_watchers_, watcher_budget);
  stats_.shed += shed_last_tick_;
  stats_.withheld += viewers_.size() - due_players_.size() - due_watchers_.size() + shed_last_tick_;
}

}  // namespace skirmish::server
