// How often each viewer gets a frame when the fan-out does not fit the CPU the daemon has.
// The simulation always steps every tick; what gives is the send rate. Like Unity's Netcode
// for Entities serving clients round-robin when the network rate is below the simulation
// rate (and Quake 3 postponing snapshots of a client over its rate), viewers are served every
// k-th tick round-robin, so each tick carries 1/k of them (phases place them without a budget,
// a line under one); a frame carries all that changed since that viewer's previous one
// (GameBridge), so a skipped tick loses nothing.
//
// Players come before watchers (spectators, polling watchers). The scheduler keeps a budget
// of frames per tick, cut when the loop's load passes `high` and raised when it falls under
// `low` (in between it only creeps towards the capacity measured at kTargetLoad: that band is
// the hysteresis). The caller's load is the larger of the CPU's (used over allowed) and the
// loops' busy wall time, its capacity the smaller of the two measures'; the steady capacity
// is the CPU's only, so a storm of handshakes does not cut deep, and an overload seen only in
// wall time cuts players' rate 5 % a step. The budget goes to players first; watchers get
// what is left, but never less than kWatcherFloor of a frame
// every 4th tick (nor more than half the budget for that floor) before players give anything
// up. A class given F frames a tick for N viewers is served every k = N / F ticks (1 to 4,
// round-robin: phases without a budget, a queue under one), and within that the F due viewers
// that have waited longest (so rates between k and k + 1 ticks are possible, and past k = 4
// viewers are shed fairly).
// Levels, for people and metrics:
//   0    everyone every tick
//   1-3  watchers every 2nd, 3rd, 4th tick
//   4    watchers beyond that, down to kWatcherFloor of them each 4th tick (players still every tick)
//   5-7  players every 2nd, 3rd, 4th tick (watchers at the floor)
//   8    still too much: players below every 4th tick too (watchers keep their floor, or
//        half the budget if that is less)
// Pure: the caller measures the load and walks the viewers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace skirmish::server {

class SendScheduler {
 public:
  static constexpr int kMaxK = 4;
  static constexpr int kShedWatchersLevel = 4;
  static constexpr int kShedLevel = 8;
  // From level 4 up, the least share of due watchers served before players give up rate.
  static constexpr double kWatcherFloor = 0.5;
  // ... but never more than this share of the budget (players keep the rest).
  static constexpr double kWatcherBudgetShare = 0.5;
  // The phase period: every k in 1..kMaxK divides it, so a viewer's phase works at any k.
  static constexpr std::uint8_t kPhases = 12;

  struct Tuning {
    double high = 0.97;     // load above which the budget is cut
    double low = 0.85;      // load under which it may grow
    double late = 0.5;      // share of late turns above which the loop counts as over
    int adjust_every = 5;   // ticks between budget changes: the load is smoothed, let it show
  };
  // The load the budget aims for when it is set from the measured cost of a frame.
  static constexpr double kTargetLoad = 0.93;
  // The share of a tick's CPU the fan-out may always have, however busy the rest is: a world
  // too heavy to step in real time must not leave its viewers without frames.
  static constexpr double kFloorShare = 0.05;
  // What the loop measured, once per tick.
  struct Measure {
    double load = 0;      // CPU used over CPU allowed, or the busiest loop's busy wall share (smoothed)
    double late = 0;      // share of recent turns that started a period or more late
    double capacity = 0;  // frames a tick the CPU (or wall time) left after everything else allows at kTargetLoad
    // The same from what everything else took over the last several seconds: a storm of
    // handshakes hardly moves it, a heavy simulation does. Unknown: no floor from it.
    double steady_capacity = 1e18;
    double floor = 1;  // frames a tick kFloorShare of the CPU allows: the budget never goes below
  };
  SendScheduler() = default;
  explicit SendScheduler(Tuning t) : tuning_(t) {}
  // Serves nobody more often than every `k` ticks, loaded or not (game.send_every_ticks).
  void set_min_k(int k) { min_k_ = k < 1 ? 1 : (k > kMaxK ? kMaxK : k); }

  // Once per tick, with what the loop measured and the viewers of each class now. Over the
  // band (or late), the budget drops to the measured capacity (at least 5 % less than now, at
  // most half); below players whole and watchers at their floor, while the steady capacity
  // carries that, only 5 % a step: a burst of load that is not the fan-out's is not a reason
  // for the players to wait. Under the band it rises towards the capacity (by at most 30 % at
  // a time, or at once when the load is under half the band's floor); in it, under the target
  // load, it creeps towards the capacity 2 % a step, and above the target nothing moves.
  void update(const Measure& m, std::size_t players, std::size_t watchers);

  int level() const { return level_; }
  int k_players() const { return k_players_; }
  int k_watchers() const { return k_watchers_; }
  // Whether a budget is in force (the caller then serves at most player_frames() and
  // watcher_frames() of the due viewers each tick).
  bool limited() const { return budget_ < 1e17; }
  // Frames per tick the budget allows (infinite until the load first asks for a cut).
  double budget() const { return budget_; }
  // Frames a tick for each class (due viewers beyond these wait, the longest waiting served
  // first). Counts, not shares of the due: viewers skipped stay due, and a share of a growing
  // due list would serve more than the budget.
  double player_frames() const { return player_frames_; }
  double watcher_frames() const { return watcher_frames_; }

  // Whether a viewer of this class and phase, last served `waited` ticks ago, is due at
  // `tick`. Without a budget: its phase comes round, or it has waited a whole period already.
  // Under a budget: it has waited k ticks, whatever its phase. The budget then spreads the due
  // over the ticks by itself (at most F a tick, and F <= N / k), and serving the longest
  // waiting first makes a line: every viewer of a class waits its turn, N / F ticks on average
  // (k or k + 1 while F >= N / (k + 1)); new viewers come first. With phases under a budget, a
  // viewer served a tick late met its next phase after k - 1 ticks, last in line, so it was
  // shed again and again: some players stuck at every 5th tick while the rest got every 4th
  // (docs/benchmarks.md, "Every viewer in line under a budget").
  bool due(std::uint64_t tick, std::uint8_t phase, bool player, std::uint64_t waited) const {
    const auto k = static_cast<std::uint64_t>(player ? k_players() : k_watchers());
    if (k == 1) return true;
    if (limited()) return waited >= k;
    return waited > k || (tick + phase) % k == 0;
  }

  // A due viewer as the budget sees it.
  struct Due {
    std::uint64_t last_frame;  // its last frame's stamp (0: none yet, so first of all)
    std::uint64_t turn;        // the order its last job was planned in (ties of last_frame)
    std::uint32_t index;       // the caller's
    bool operator<(const Due& o) const { return last_frame != o.last_frame ? last_frame < o.last_frame : turn < o.turn; }
  };
  // Puts the `budget` of `due` that have waited longest at the front, in the order they
  // waited, and returns how many that is (all, if they fit). Serving them in that order (their
  // turns numbered as they are planned) keeps the line's order from one round to the next: a
  // viewer last in a tick's batch leads its batch again next time it is cut, instead of being
  // the one cut whenever that batch meets the budget's edge. A batch that fits and was last
  // served on one tick (everyone every tick) is left in its order: no line to keep, no sort.
  static std::size_t pick_longest_waiting(std::vector<Due>& due, std::size_t budget);

 private:
  // Frames a tick that serve kWatcherFloor of `watchers` every kMaxK-th tick (never more than
  // the watchers at any send interval: min_k_ is at most kMaxK).
  static double watcher_floor_of(double watchers) { return watchers / kMaxK * kWatcherFloor; }
  // Splits budget_ between the classes and sets k and the level; returns the frames a tick
  // that plan serves.
  double plan(double players, double watchers);

  Tuning tuning_;
  int min_k_ = 1;
  double budget_ = 1e18;
  double planned_ = 0;  // frames a tick the current plan serves
  int since_adjust_ = 0;
  int level_ = 0;
  int k_players_ = 1, k_watchers_ = 1;
  double player_frames_ = 0, watcher_frames_ = 0;
};

}  // namespace skirmish::server
