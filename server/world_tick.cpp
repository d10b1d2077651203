#include "server/world_tick.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace skirmish::server {

namespace {

std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

WorldTick::WorldTick(uv_loop_t* loop, const config::Config& config, std::uint64_t seed, Hooks hooks)
    : loop_(loop),
      config_(config),
      hooks_(std::move(hooks)),
      world_(config.game, seed),
      bridge_(world_, config.session.view_radius),
      ticks_(loop, config.game.tick_rate, config.session.max_catch_up_ticks,
             [this](std::uint32_t steps) { tick(steps); }) {
  scheduler_.set_min_k(config.session.send_every_ticks);
}

void WorldTick::add_viewer(ViewerId id, ViewerSink& sink, float view_x, float view_y) {
  Viewer v;
  v.sink = &sink;
  v.id = id;
  v.view_x = view_x;
  v.view_y = view_y;
  v.format = sink.frame_format();
  // Round-robin phases: at any k, consecutive viewers fall on different ticks.
  v.phase = next_phase_;
  next_phase_ = static_cast<std::uint8_t>((next_phase_ + 1) % SendScheduler::kPhases);
  index_of_[v.id] = static_cast<std::uint32_t>(viewers_.size());
  viewers_.push_back(std::move(v));
}

game::EntityId WorldTick::remove_viewer(ViewerId id) {
  const auto it = index_of_.find(id);
  if (it == index_of_.end()) return 0;
  const std::uint32_t i = it->second;
  index_of_.erase(it);
  const game::EntityId player = viewers_[i].player;
  if (i + 1 != viewers_.size()) {
    viewers_[i] = std::move(viewers_.back());
    index_of_[viewers_[i].id] = i;
  }
  viewers_.pop_back();
  return player;
}

Viewer* WorldTick::find(ViewerId id) {
  const auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : &viewers_[it->second];
}

std::size_t WorldTick::player_viewer_count() const {
  std::size_t n = 0;
  for (const Viewer& v : viewers_) n += v.player != 0;
  return n;
}

void WorldTick::tick(std::uint32_t steps) {
  const std::uint64_t started_ns = uv_hrtime();
  const std::uint64_t now_ms = uv_now(loop_);
  if (hooks_.before_tick) hooks_.before_tick(now_ms);
  inputs_.clear();
  for (Viewer& v : viewers_) {
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
  // from a late turn move players on with their held input; an attack happens once.
  for (std::uint32_t s = 0; s < steps; ++s) {
    if (s == 1) {
      for (auto& in : inputs_) in.attack = false;
    }
    world_.step(inputs_);
    bridge_.encode_tick(wall_clock_ms(), online);
    stats_.steps++;
  }
  const std::uint64_t fan_start = thread_cpu_ns();
  const std::uint64_t frames_before = stats_.frames;
  fan_out();
  const std::uint64_t fan_cpu = thread_cpu_ns() - fan_start;
  measure_load(fan_cpu, stats_.frames - frames_before, steps > 1);
  const std::size_t players = inputs_.size();  // one input per viewer with a player
  scheduler_.update({load_, late_, capacity_frames_}, players, viewers_.size() - players);
  if (hooks_.after_tick) hooks_.after_tick(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
}

void WorldTick::measure_load(std::uint64_t fanout_cpu_ns, std::uint64_t frames, bool late) {
  const std::uint64_t now = uv_hrtime();
  const std::uint64_t cpu = thread_cpu_ns();
  if (last_turn_ns_ != 0 && now > last_turn_ns_) {
    // CPU used since the last turn (the tick, and all the reading and writing in between)
    // against the CPU the process may use in that wall time.
    const double cores = allowance_.cores();
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
    if (frame_cpu_ns_ > 0) {
      const double base = std::max(0.0, load_ - fanout_load_);
      const double spare_ns = (SendScheduler::kTargetLoad - base) * cores * static_cast<double>(ticks_.period_ns());
      capacity_frames_ = std::max(0.0, spare_ns / frame_cpu_ns_);
    }
  }
  last_turn_ns_ = now;
  last_turn_cpu_ns_ = cpu;
}

void WorldTick::serve(Viewer& v) {
  switch (v.sink->readiness()) {
    case ViewerSink::Readiness::Ready: break;
    case ViewerSink::Readiness::Resync: v.resync = true; break;
    case ViewerSink::Readiness::Skip:
      // Frames would pile up behind unread ones: skip, and resync once it can take one.
      stats_.skipped++;
      v.resync = true;
      return;
  }
  float cx = v.view_x, cy = v.view_y;
  if (v.player != 0) {
    if (const game::Entity* me = world_.find(v.player, v.player_index)) {
      cx = me->x;
      cy = me->y;
    } else {
      v.player = 0;  // removed from the world (should not happen while attached)
    }
  }
  bridge_.build_frame(cx, cy, v.known, v.last_frame, payload_, v.resync, v.format,
                      v.format == FrameFormat::Binary ? &v.history : nullptr);
  v.resync = false;
  v.last_frame = bridge_.stamp();
  v.sink->send_frame(payload_);
  stats_.frames++;
  stats_.bytes += payload_.size();
  if (v.player != 0) stats_.player_frames++;
}

void WorldTick::fan_out() {
  bridge_.prepare_views();
  const std::uint64_t tick = world_.tick();
  const Stamp stamp = bridge_.stamp();
  shed_last_tick_ = 0;
  // Sinks may end their transport while served (a send over the hard limit), but viewers
  // are removed only from that transport's close callback, later: indices stay valid.
  if (!scheduler_.limited()) {
    std::size_t not_due = 0;
    for (Viewer& v : viewers_) {
      const std::uint64_t waited = v.last_frame == 0 ? UINT64_MAX : stamp - v.last_frame;
      if (scheduler_.due(tick, v.phase, v.player != 0, waited)) {
        serve(v);
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
    Viewer& v = viewers_[i];
    const std::uint64_t waited = v.last_frame == 0 ? UINT64_MAX : stamp - v.last_frame;
    if (!scheduler_.due(tick, v.phase, v.player != 0, waited)) continue;
    if (v.sink->readiness() == ViewerSink::Readiness::Skip) {
      // It cannot take a frame (over its soft limit, an unpolled session, closing): it must
      // not take a slot of the budget either, or such viewers, always the longest waiting,
      // would fill it every tick.
      stats_.skipped++;
      v.resync = true;
      continue;
    }
    (v.player != 0 ? due_players_ : due_watchers_).push_back(i);
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
  auto serve_longest_waiting = [&](std::vector<std::uint32_t>& list, std::size_t budget) {
    if (list.size() > budget) {
      std::nth_element(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(budget), list.end(),
                       [&](std::uint32_t a, std::uint32_t b) { return viewers_[a].last_frame < viewers_[b].last_frame; });
    }
    const std::size_t n = std::min(budget, list.size());
    for (std::size_t j = 0; j < n; ++j) serve(viewers_[list[j]]);
    shed_last_tick_ += list.size() - n;
  };
  serve_longest_waiting(due_players_, player_budget);
  serve_longest_waiting(due_watchers_, watcher_budget);
  stats_.shed += shed_last_tick_;
  stats_.withheld += viewers_.size() - due_players_.size() - due_watchers_.size() + shed_last_tick_;
}

}  // namespace skirmish::server
