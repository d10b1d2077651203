// How often each viewer gets a frame when the fan-out does not fit the CPU the daemon has.
// The simulation always steps every tick; what gives is the send rate. Like Unity's Netcode
// for Entities serving clients round-robin when the network rate is below the simulation
// rate (and Quake 3 postponing snapshots of a client over its rate), viewers are served every
// k-th tick in round-robin phases, so each tick carries 1/k of them; a frame carries all that
// changed since that viewer's previous one (GameBridge), so a skipped tick loses nothing.
//
// Levels, one step at a time as the load rises, back down with hysteresis:
//   0: everyone every tick; 1-3: watchers every 2nd, 3rd, 4th tick; 4-6: then players too;
//   7: still too much: each tick serves a share of the due viewers, players first, then the
//      watchers that have waited longest (shed fairly), and the share adapts to the load.
// Pure: the caller measures the load and walks the viewers.
#pragma once

#include <cstdint>

namespace skirmish::server {

class SendScheduler {
 public:
  static constexpr int kMaxK = 4;
  static constexpr int kShedLevel = 7;
  // The phase period: every k in 1..kMaxK divides it, so a viewer's phase works at any k.
  static constexpr std::uint8_t kPhases = 12;

  struct Tuning {
    double high = 0.85;  // load above which the level rises
    double low = 0.65;   // projected load under which it falls
    int up_after_ticks = 4;     // ticks a level holds before it may rise again
    int down_after_ticks = 20;  // ... before it may fall
  };
  SendScheduler() = default;
  explicit SendScheduler(Tuning t) : tuning_(t) {}

  // Once per tick. `load`: CPU the loop used over the last tick against what it may use
  // (1.0: all of it; above 1: ticks are falling behind). `fanout_load`: the part of it spent
  // building and writing frames.
  void update(double load, double fanout_load);

  int level() const { return level_; }
  int k_players() const { return level_ <= 3 ? 1 : (level_ >= 6 ? kMaxK : level_ - 2); }
  int k_watchers() const { return level_ == 0 ? 1 : (level_ >= 3 ? kMaxK : level_ + 1); }
  bool shedding() const { return level_ >= kShedLevel; }
  // At the shed level: the share (0, 1] of due viewers served in a tick.
  double serve_share() const { return share_; }

  // Whether a viewer of this class and phase, last served `waited` ticks ago, is due at
  // `tick`: its phase comes round, or it has waited a whole period already (it was skipped).
  bool due(std::uint64_t tick, std::uint8_t phase, bool player, std::uint64_t waited) const {
    const int k = player ? k_players() : k_watchers();
    if (k == 1 || waited > static_cast<std::uint64_t>(k)) return true;
    return (tick + phase) % static_cast<std::uint64_t>(k) == 0;
  }

 private:
  Tuning tuning_;
  int level_ = 0;
  int held_ = 0;  // ticks since the level last changed
  double share_ = 1.0;
};

}  // namespace skirmish::server
