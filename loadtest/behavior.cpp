#include "loadtest/behavior.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "protocol/game_messages.h"

namespace skirmish::loadtest {

std::optional<Behavior> parse_behavior(std::string_view name) {
  if (name == "idle") return Behavior::Idle;
  if (name == "wander") return Behavior::Wander;
  if (name == "fight") return Behavior::Fight;
  if (name == "watch") return Behavior::Watch;
  return std::nullopt;
}

const char* behavior_name(Behavior b) {
  switch (b) {
    case Behavior::Idle: return "idle";
    case Behavior::Wander: return "wander";
    case Behavior::Fight: return "fight";
    case Behavior::Watch: return "watch";
  }
  return "?";
}

Intent wander_step(const Intent& current, Rng& rng) {
  const bool standing = current.dx == 0 && current.dy == 0;
  if (!standing && rng.uniform() >= 0.25) return {current.dx, current.dy, false};
  const double angle = rng.uniform() * 2 * std::numbers::pi;
  return {static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)), false};
}

Intent fight_step(const Intent& current, std::optional<KnownEntity> self, const ViewState& view, Rng& rng) {
  if (!self) return wander_step(current, rng);
  const auto target = view.nearest_monster(self->x, self->y);
  if (!target) return wander_step(current, rng);
  const float dx = target->x - self->x, dy = target->y - self->y;
  const float dist = std::sqrt(dx * dx + dy * dy);
  Intent out;
  out.attack = dist <= kAttackReach;
  // Close enough to swing: stand still (moving onto the monster gains nothing).
  if (dist > kAttackReach * 0.5f && dist > 0) {
    out.dx = dx / dist;
    out.dy = dy / dist;
  }
  return out;
}

std::uint64_t inputs_due(std::uint64_t& next_ns, std::uint64_t now_ns, std::uint64_t period_ns,
                         std::uint64_t max_lag_ns) {
  if (now_ns < next_ns) return 0;
  period_ns = std::max<std::uint64_t>(period_ns, 1);
  const std::uint64_t owed = (now_ns - next_ns) / period_ns + 1;
  next_ns += owed * period_ns;  // past now, on the same grid: the phase is kept
  // The newest max_lag_ns worth of them, and at least the newest one; the older are dropped.
  return std::min(owed, max_lag_ns / period_ns + 1);
}

std::string encode_input(std::uint32_t seq, const Intent& intent) {
  char buf[128];
  const int n = std::snprintf(buf, sizeof buf, R"({"type":"input","seq":%u,"move":[%.3f,%.3f],"attack":%s})", seq,
                              static_cast<double>(intent.dx), static_cast<double>(intent.dy),
                              intent.attack ? "true" : "false");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string encode_join(std::string_view name) {
  std::string out = R"({"type":"join","name":)";
  protocol::append_json_string(out, name);
  out += '}';
  return out;
}

}  // namespace skirmish::loadtest
