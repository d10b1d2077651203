// What a simulated player wants each time it sends an input: pure functions of what the
// client knows (its view) and a seeded random generator, so they can be tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loadtest/view_state.h"

namespace skirmish::loadtest {

// Watch: a spectator that never joins (the daemon serves it as a watcher, which gives up send
// rate before players do); Idle joins and stands still; Wander and Fight move.
enum class Behavior : std::uint8_t { Idle, Wander, Fight, Watch };

std::optional<Behavior> parse_behavior(std::string_view name);
const char* behavior_name(Behavior b);

// xorshift64*: fast, small, good enough for directions and mask keys (not for secrets).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

struct Intent {
  float dx = 0, dy = 0;
  bool attack = false;
};

// The player's own attack reach is 80 units (game.player_attack_range's default); we swing
// a little inside it so a target moving away is still hit.
inline constexpr float kAttackReach = 70.0f;

// Wander: keep walking the same way, and turn to a random direction a quarter of the time.
Intent wander_step(const Intent& current, Rng& rng);

// Fight: walk towards the nearest monster in view and attack once within reach; with no
// monster in view (or our own position unknown) wander instead.
Intent fight_step(const Intent& current, std::optional<KnownEntity> self, const ViewState& view, Rng& rng);

// How many inputs a client should send at now_ns on its schedule of one every period_ns, the
// next due at next_ns, which moves on past now_ns (on the same grid: the schedule keeps its
// phase when a firing comes late). The input timer fires every 10 ms and sends all of them,
// so rates above its own 100/s hold. After a stall, only the newest max_lag_ns worth of the
// inputs owed (at least one) are sent and the rest dropped: never a burst of thousands.
std::uint64_t inputs_due(std::uint64_t& next_ns, std::uint64_t now_ns, std::uint64_t period_ns,
                         std::uint64_t max_lag_ns);

// {"type":"input","seq":N,"move":[dx,dy],"attack":B}
std::string encode_input(std::uint32_t seq, const Intent& intent);
// {"type":"join","name":"..."}
std::string encode_join(std::string_view name);

}  // namespace skirmish::loadtest
