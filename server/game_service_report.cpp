// What the game reports about itself: its part of /metrics (per world, per class of viewer, the
// send scheduler's state, the transports' counters) and of /healthz. Kept apart from
// game_service.cpp, which places, joins and routes viewers, so each file has one job.
#include "server/game_service.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/metrics_text.h"

namespace skirmish::server {

void GameService::write_metrics(MetricsText& m) const {
  // Each world's numbers carry its name as the label "world".
  auto per_world = [&](const char* type, const char* name, const char* help, auto value) {
    std::map<std::string, double> values;
    for (const auto& w : worlds_) values[w->name()] = static_cast<double>(value(*w));
    m.labelled(type, name, help, "world", values);
  };
  using W = const GameWorld&;
  per_world("gauge", "skirmish_players", "players in the world (connected or within their reconnect window)",
            [](W w) { return w.world().player_count(); });
  per_world("gauge", "skirmish_world_capacity", "players the world takes at most (game.max_players)",
            [&](W) { return config_.game.max_players; });
  per_world("gauge", "skirmish_monsters", "monsters in the world", [](W w) { return w.world().monster_count(); });
  per_world("gauge", "skirmish_world_loop", "the event loop the world steps and encodes on (its home; world i on loop i mod server.io_threads)",
            [](W w) { return w.tick().home(); });
  m.gauge("skirmish_game_clients", "WebSocket clients of the game (players and spectators)",
          static_cast<double>(ws_.size()));
  per_world("gauge", "skirmish_viewers", "viewers of the world (WebSocket clients and polling sessions)",
            [](W w) { return w.tick().viewer_count(); });
  per_world("counter", "skirmish_ticks_total", "simulation ticks run",
            [](W w) { return w.tick().ticks().ticks_run() - w.tick().ticks().dropped_ticks(); });
  per_world("counter", "skirmish_ticks_late_total", "ticks run more than one period after they were due",
            [](W w) { return w.tick().ticks().late_ticks(); });
  per_world("counter", "skirmish_ticks_caught_up_total",
            "ticks stepped in a late turn, after its first (game time kept, no frame of their own)",
            [](W w) { return w.tick().ticks().catch_up_ticks(); });
  per_world("counter", "skirmish_ticks_dropped_total",
            "ticks never stepped because the loop fell further behind than game.max_catch_up_ticks",
            [](W w) { return w.tick().ticks().dropped_ticks(); });
  std::vector<std::pair<std::string, const DurationHistogram*>> durations;
  for (const auto& w : worlds_) durations.emplace_back(w->name(), &w->tick().ticks().durations());
  m.histograms("skirmish_tick_duration_seconds", "time to step the world and send every frame", "world", durations);
  std::vector<std::pair<std::string, const DurationHistogram*>> fanouts;
  for (const auto& w : worlds_) fanouts.emplace_back(w->name(), &w->tick().fanout_durations());
  m.histograms("skirmish_fanout_duration_seconds",
               "time from the start of a tick's fan-out (frames built on every event loop at once) to its last write",
               "world", fanouts);
  std::vector<std::pair<std::string, const DurationHistogram*>> sends;
  for (const auto& w : worlds_) sends.emplace_back(w->name(), &w->tick().send_delays());
  m.histograms("skirmish_frame_send_delay_seconds",
               "per tick frame: from the end of its tick's encoding to its write (its wait in the fan-out)", "world",
               sends);
  per_world("counter", "skirmish_tick_serial_cpu_seconds_total",
            "CPU of the part of the ticks done once, on the world's loop: inputs, steps, encoding, planning",
            [](W w) { return static_cast<double>(w.tick().serial_cpu_ns()) / 1e9; });
  per_world("counter", "skirmish_fanout_cpu_seconds_total", "CPU of building and writing the ticks' frames, every loop",
            [](W w) { return static_cast<double>(w.tick().fanout_cpu_ns()) / 1e9; });
  per_world("gauge", "skirmish_load", "CPU the loop used over the last ticks against what its cgroup allows (smoothed)",
            [](W w) { return w.tick().load(); });
  per_world("gauge", "skirmish_cpu_allowed_cores",
            "cores skirmish_load is measured against: the CPUs the process's threads may run on (or fewer under a "
            "cgroup quota), at most one per event loop",
            [](W w) { return w.tick().allowed_cores(); });
  per_world("gauge", "skirmish_loop_busy",
            "wall-time share the busiest of the world's event loops spent not waiting for I/O (smoothed; near 1: "
            "it cannot keep up, whatever the CPU load says)",
            [](W w) { return w.tick().busy(); });
  per_world("gauge", "skirmish_fanout_load", "the part of that load spent building and writing this world's tick frames",
            [](W w) { return w.tick().fanout_load(); });
  per_world("gauge", "skirmish_send_capacity_frames", "tick frames a tick the CPU left over allows, by the measured cost of a frame",
            [](W w) { return w.tick().capacity_frames() >= 1e17 ? -1.0 : w.tick().capacity_frames(); });
  per_world("gauge", "skirmish_send_wall_capacity_frames",
            "tick frames a tick whose fan-out ends in time, by the loops' busy wall time (-1: not measured yet)",
            [](W w) { return w.tick().wall_capacity_frames() >= 1e17 ? -1.0 : w.tick().wall_capacity_frames(); });
  per_world("gauge", "skirmish_send_budget_frames", "tick frames a tick the send budget allows (-1: no budget)",
            [](W w) { return w.tick().scheduler().budget() >= 1e17 ? -1.0 : w.tick().scheduler().budget(); });
  per_world("gauge", "skirmish_send_level",
            "send-rate level: 0 all every tick, 1-3 watchers every 2-4 ticks, 4 watchers shed past that, 5-7 players every 2-4 ticks, 8 both shed",
            [](W w) { return w.tick().scheduler().level(); });
  {
    // Two labels: which world, which class of viewer.
    std::map<std::pair<std::string, std::string>, double> every, budget;
    for (const auto& w : worlds_) {
      const SendScheduler& s = w->tick().scheduler();
      every[{w->name(), "player"}] = s.k_players();
      every[{w->name(), "watcher"}] = s.k_watchers();
      budget[{w->name(), "player"}] = s.player_frames();
      budget[{w->name(), "watcher"}] = s.watcher_frames();
    }
    m.labelled("gauge", "skirmish_send_every_ticks", "viewers of each class get a frame every this many ticks", "world",
               "class", every);
    m.labelled("gauge", "skirmish_send_budget_class_frames", "tick frames a tick the budget gives each class", "world",
               "class", budget);
  }
  per_world("gauge", "skirmish_viewers_shed", "due viewers not served in the last tick (a budget in force)",
            [](W w) { return w.tick().shed_last_tick(); });
  per_world("counter", "skirmish_frames_shed_total", "frames due but not sent (a budget in force)",
            [](W w) { return w.tick().tick_stats().shed; });
  per_world("counter", "skirmish_tick_frames_sent_total", "tick frames sent", [](W w) { return w.tick().tick_stats().frames; });
  per_world("counter", "skirmish_tick_frames_withheld_total",
            "tick frames a viewer did not get because of the send rate (not its turn at k > 1, or shed); the next carries the changes",
            [](W w) { return w.tick().tick_stats().withheld; });
  per_world("counter", "skirmish_tick_frames_sent_players_total", "tick frames sent to viewers with a player",
            [](W w) { return w.tick().tick_stats().player_frames; });
  per_world("counter", "skirmish_tick_bytes_sent_total", "bytes of tick frames sent",
            [](W w) { return w.tick().tick_stats().bytes; });
  per_world("counter", "skirmish_tick_frames_skipped_total",
            "tick frames not built for viewers that could not take one (over the soft limit, an unpolled session)",
            [](W w) { return w.tick().tick_stats().skipped; });
  std::uint64_t applied = 0, dropped = 0;
  for (const auto& w : worlds_) {
    applied += w->tick().tick_stats().inputs_applied;
    dropped += w->tick().tick_stats().inputs_dropped;
  }
  m.counter("skirmish_inputs_total", "inputs accepted", static_cast<double>(applied));
  m.counter("skirmish_inputs_dropped_total",
            "inputs dropped: over game.max_inputs_per_tick, or their viewer gone before its world's tick",
            static_cast<double>(dropped));
  m.counter("skirmish_bad_messages_total", "malformed game messages", static_cast<double>(stats_.bad_messages));
  m.counter("skirmish_binary_messages_total", "binary messages (answered with an error)",
            static_cast<double>(stats_.binary_messages));
  m.counter("skirmish_joins_total", "players created", static_cast<double>(stats_.joins));
  m.counter("skirmish_joins_refused_total",
            "joins (and POST /place requests) refused because the world, or every world, was full",
            static_cast<double>(stats_.joins_refused));
  m.gauge("skirmish_http_sessions", "HTTP polling sessions", static_cast<double>(polling_.size()));
  m.gauge("skirmish_polls_waiting", "long polls waiting for news", static_cast<double>(polling_.waiting()));
  m.counter("skirmish_polls_total", "short polls answered", static_cast<double>(stats_.polls));
  m.counter("skirmish_long_polls_total", "long polls received", static_cast<double>(stats_.long_polls));
  m.counter("skirmish_backlog_resyncs_total", "polling backlogs over the cap, replaced by one full frame",
            static_cast<double>(stats_.backlog_resyncs));
  m.counter("skirmish_http_sessions_expired_total", "polling sessions that stopped asking",
            static_cast<double>(stats_.sessions_expired));
  m.counter("skirmish_http_sessions_refused_total", "polling sessions refused over polling.max_sessions or max_sessions_per_ip",
            static_cast<double>(stats_.sessions_refused));
  m.counter("skirmish_resumes_total", "players reclaimed with a token", static_cast<double>(stats_.resumes));
  if (fleet_) fleet_->write_metrics(m);
}

void GameService::describe(nlohmann::json& health) const {
  // The first world's numbers at the top, as with one world; every world's under "worlds".
  const game::World& first = worlds_.front()->world();
  std::size_t players = 0, monsters = 0;
  nlohmann::json worlds = nlohmann::json::array();
  for (const auto& w : worlds_) {
    players += w->world().player_count();
    monsters += w->world().monster_count();
    worlds.push_back({{"name", w->name()}, {"players", w->world().player_count()}, {"tick", w->world().tick()},
                      {"send_level", w->tick().scheduler().level()}});
  }
  health["players"] = players;
  health["monsters"] = monsters;
  health["tick"] = first.tick();
  health["tick_rate"] = first.config().tick_rate;
  health["send_level"] = worlds_.front()->tick().scheduler().level();
  health["worlds"] = std::move(worlds);
  // Redis down is no ill health: this process serves its own worlds all the same.
  if (fleet_) {
    fleet_->describe(health);
  } else {
    health["fleet"] = {{"redis", "off"}};
  }
}

}  // namespace skirmish::server
