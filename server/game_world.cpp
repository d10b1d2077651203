#include "server/game_world.h"

#include "protocol/game_messages.h"
#include "server/wall_clock.h"

namespace skirmish::server {

GameWorld::GameWorld(std::size_t home, const config::Config& config, std::string name, std::uint64_t seed,
                     std::function<std::size_t()> connections, FanOutRunner& runner, std::recursive_mutex& mutex)
    : name_(std::move(name)),
      capacity_(static_cast<std::size_t>(config.game.max_players)),
      connections_(std::move(connections)),
      tick_(home, config, seed,
            {[this](std::uint64_t now_ms) {
               for (const game::EntityId p : directory_.take_expired(now_ms)) world().remove_player(p);
             },
             [this] { return directory_.online(); },
             [this](double turn_ms) {
               history_.note_tick(turn_ms);
               // Once per second of game time, also when a late turn stepped over the round tick.
               const auto& w = world();
               const std::uint64_t second = w.tick() / static_cast<std::uint64_t>(w.config().tick_rate);
               if (second != sampled_second_) {
                 sampled_second_ = second;
                 sample_stats();
               }
             }},
            runner, mutex) {
  protocol::HelloMsg hello = tick_.bridge().hello();
  hello.world_name = name_;
  hello_ = protocol::encode_hello(hello);
}

void GameWorld::sample_stats() {
  const TickStats& s = tick_.tick_stats();
  const SendScheduler& sched = tick_.scheduler();
  const std::size_t viewers = tick_.viewer_count();
  const std::size_t player_viewers = tick_.player_viewer_count();
  StatsTotals totals{tick_.ticks().late_ticks(), s.frames, s.bytes, s.skipped};
  totals.steps = s.steps;
  totals.player_frames = s.player_frames;
  totals.shed = s.shed;
  history_.sample(wall_clock_ms(), world().player_count(), connections_ ? connections_() : 0, totals,
                  {sched.level(), sched.k_players(), sched.k_watchers(), player_viewers, viewers - player_viewers});
}

}  // namespace skirmish::server
