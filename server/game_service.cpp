#include "server/game_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "protocol/game_messages.h"
#include "server/json_response.h"
#include "server/metrics_text.h"
#include "server/saved_players.h"
#include "server/server.h"

namespace skirmish::server {

namespace {

std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// 1008 is the close code for "you broke our rules" (RFC 6455 7.4.1).
constexpr const char* kTooManyBadMessages = "too many malformed messages";

}  // namespace

GameService::GameService(uv_loop_t* loop, Server& server, const config::Config& config)
    : server_(server),
      config_(config),
      world_(loop, config,
             {[this](std::uint64_t now_ms) {
                for (const game::EntityId p : directory_.take_expired(now_ms)) world_.world().remove_player(p);
              },
              [this] { return directory_.online(); },
              [this](double turn_ms) {
                history_.note_tick(turn_ms);
                // Once per second of game time, also when a late turn stepped over the round tick.
                const auto& w = world_.world();
                const std::uint64_t second = w.tick() / static_cast<std::uint64_t>(w.config().tick_rate);
                if (second != sampled_second_) {
                  sampled_second_ = second;
                  sample_stats();
                }
              }}),
      hello_(protocol::encode_hello(world_.bridge().hello())),
      ws_(*this),
      polling_(loop, server, config, *this) {
  server_.add_route("/stats.json", [this](const protocol::HttpRequest& request, const RequestOrigin&) {
    return json_response(request, 200, history_.to_json());
  });
}

void GameService::start() {
  started_ = true;
  restore_saved_players();
  world_.start();
  polling_.start();
}

void GameService::stop() {
  world_.stop();
  polling_.stop();
  if (started_) save_players();
}

void GameService::restore_saved_players() {
  const std::string& path = config_.session.state_file;
  if (path.empty()) return;
  std::string error;
  const std::uintmax_t max_bytes = kMaxSavedPlayerBytes * static_cast<std::uintmax_t>(config_.game.max_players) + 4096;
  const auto state = load_state(path, max_bytes, error);
  if (!state) {
    if (error == "no file") return;
    // Kept aside rather than overwritten by this run's save: an operator may want it back.
    const std::string aside = path + ".rejected";
    const bool kept = std::rename(path.c_str(), aside.c_str()) == 0;
    spdlog::warn("ignoring saved players in {}: {}{}", path, error, kept ? " (kept as " + aside + ")" : "");
    return;
  }
  if (state->skipped > 0) {
    spdlog::warn("{}: skipped {} saved player(s) that a join would refuse", path, state->skipped);
  }
  // Older than the reconnect window: nobody could have reclaimed these players anyway.
  if (wall_clock_ms() - state->saved_at_ms > config_.session.reconnect_window_ms) return;
  const std::uint64_t expires = server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms);
  const std::size_t restored = directory_.restore(*state, world_.world(), expires);
  spdlog::info("restored {} player(s) saved in {}", restored, path);
}

void GameService::save_players() const {
  const std::string& path = config_.session.state_file;
  if (path.empty()) return;
  const SavedState state = directory_.snapshot(world_.world(), wall_clock_ms());
  if (auto error = save_state(path, state)) {
    spdlog::warn("could not save players: {}", *error);
  } else {
    spdlog::info("saved {} player(s) to {}", state.players.size(), path);
  }
}

std::string GameService::new_token() {
  // 128 random bits from the OS and nothing else: no counter in it, so tokens tell nothing
  // about how many were issued or when.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", random_(), random_(), random_(), random_());
  return buf;
}

ViewerId GameService::open_viewer(ViewerSink& sink, float x, float y) {
  const auto& cfg = world_config();
  return world_.add_viewer(sink, std::clamp(x, 0.0f, cfg.world_width), std::clamp(y, 0.0f, cfg.world_height));
}

void GameService::close_viewer(ViewerId id) {
  const game::EntityId player = world_.remove_viewer(id);
  if (player == 0 || directory_.owner(player) != id) return;
  if (config_.session.reconnect_window_ms <= 0) {
    forget_player(player);
    return;
  }
  world_.world().set_away(player, true);
  directory_.detach(player, server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms));
}

bool GameService::has_player(ViewerId id) {
  const Viewer* v = world_.find(id);
  return v && v->player != 0;
}

void GameService::reject(ViewerId id, const protocol::DecodeError& error) {
  Viewer* v = world_.find(id);
  if (!v) return;
  stats_.bad_messages++;
  v->sink->send_message(protocol::encode_error(error.code, error.message));
  if (++v->bad_messages >= config_.session.bad_message_limit) v->sink->close_for_policy(kTooManyBadMessages);
}

void GameService::handle(ViewerId id, protocol::ClientMsg& msg) {
  Viewer* found = world_.find(id);
  if (!found) return;
  Viewer& viewer = *found;
  if (auto* input = std::get_if<protocol::InputMsg>(&msg)) {
    if (viewer.player == 0) {
      viewer.sink->send_message(protocol::encode_error("not_joined", "join before sending input"));
      return;
    }
    if (viewer.inputs_this_tick >= config_.session.max_inputs_per_tick) {
      stats_.inputs_dropped++;
      return;
    }
    viewer.inputs_this_tick++;
    stats_.inputs_applied++;
    viewer.move_dx = input->dx;
    viewer.move_dy = input->dy;
    viewer.attack = viewer.attack || input->attack;
  } else if (auto* ping = std::get_if<protocol::PingMsg>(&msg)) {
    viewer.sink->send_message(protocol::encode_pong(ping->t, wall_clock_ms()));
  } else if (auto* join_msg = std::get_if<protocol::JoinMsg>(&msg)) {
    join(viewer, std::move(join_msg->name), join_msg->token);
  } else if (std::holds_alternative<protocol::LeaveMsg>(msg)) {
    leave(viewer);
  } else if (auto* watch = std::get_if<protocol::WatchMsg>(&msg)) {
    viewer.view_x = std::clamp(watch->x, 0.0f, world_config().world_width);
    viewer.view_y = std::clamp(watch->y, 0.0f, world_config().world_height);
  }
}

void GameService::join(Viewer& viewer, std::string name, const std::string& token) {
  if (viewer.player != 0) {
    viewer.sink->send_message(protocol::encode_error("already_joined", "this connection already has a player"));
    return;
  }
  game::World& world = world_.world();
  const ViewerId viewer_id = viewer.id;
  ViewerSink* sink = viewer.sink;
  bool resumed = false;
  game::EntityId player = 0;
  std::string player_token;
  if (!token.empty()) {
    if (const game::EntityId p = directory_.find(token); p != 0 && world.find(p)) {
      player = p;
      player_token = token;
      resumed = true;
    }
  }
  if (!resumed) {
    player = world.add_player(name);
    if (player == 0) {
      stats_.joins_refused++;
      sink->send_message(protocol::encode_error("server_full", "the world is full (game.max_players): try again later"));
      return;
    }
    player_token = new_token();
    directory_.add(player_token, player);
    stats_.joins++;
  } else {
    stats_.resumes++;
  }
  // The same player open in another tab or a half-dead socket: the newest connection wins.
  if (const ViewerId previous = directory_.attach(player, viewer_id); previous != 0) {
    if (Viewer* old = world_.find(previous)) {
      old->player = 0;
      old->move_dx = old->move_dy = 0;
      old->sink->send_message(protocol::encode_error("session_taken", "this player was resumed elsewhere"));
    }
  }
  world.set_away(player, false);
  Viewer* v = world_.find(viewer_id);  // the viewer table did not change, but do not rely on `viewer`
  v->player = player;
  v->move_dx = v->move_dy = 0;
  v->attack = false;
  const auto& cfg = world.config();
  sink->send_message(protocol::encode_welcome({player, cfg.tick_rate, cfg.world_width, cfg.world_height,
                                               config_.session.view_radius, player_token, resumed}));
  spdlog::debug("{} player {} ({})", resumed ? "resumed" : "joined as", player, name);
}

void GameService::leave(Viewer& viewer) {
  if (viewer.player == 0) return;
  const game::EntityId player = viewer.player;
  viewer.player = 0;
  forget_player(player);
}

void GameService::forget_player(game::EntityId player) {
  world_.world().remove_player(player);
  directory_.forget(player);
}

void GameService::sample_stats() {
  const SendStats& s = world_.send_stats();
  const SendScheduler& sched = world_.scheduler();
  const std::size_t viewers = world_.viewer_count();
  const std::size_t player_viewers = world_.player_viewer_count();
  StatsTotals totals{world_.ticks().late_ticks(), s.frames, s.bytes, s.skipped};
  totals.steps = s.steps;
  totals.player_frames = s.player_frames;
  totals.shed = s.shed;
  history_.sample(wall_clock_ms(), world_.world().player_count(), server_.connection_count(), totals,
                  {sched.level(), sched.k_players(), sched.k_watchers(), player_viewers, viewers - player_viewers});
}

void GameService::write_metrics(MetricsText& m) const {
  const game::World& world = world_.world();
  const TickDriver& ticks = world_.ticks();
  const SendStats& send = world_.send_stats();
  const SendScheduler& sched = world_.scheduler();
  m.gauge("skirmish_players", "players in the world (connected or within their reconnect window)",
          static_cast<double>(world.player_count()));
  m.gauge("skirmish_monsters", "monsters in the world", static_cast<double>(world.monster_count()));
  m.gauge("skirmish_game_clients", "WebSocket clients of the game (players and spectators)",
          static_cast<double>(ws_.size()));
  m.gauge("skirmish_viewers", "viewers of the world (WebSocket clients and polling sessions)",
          static_cast<double>(world_.viewer_count()));
  m.counter("skirmish_ticks_total", "simulation ticks run", static_cast<double>(ticks.ticks_run() - ticks.dropped_ticks()));
  m.counter("skirmish_ticks_late_total", "ticks run more than one period after they were due",
            static_cast<double>(ticks.late_ticks()));
  m.counter("skirmish_ticks_caught_up_total", "ticks stepped in a late turn, after its first (game time kept, no frame of their own)",
            static_cast<double>(ticks.catch_up_ticks()));
  m.counter("skirmish_ticks_dropped_total", "ticks never stepped because the loop fell further behind than game.max_catch_up_ticks",
            static_cast<double>(ticks.dropped_ticks()));
  m.histogram("skirmish_tick_duration_seconds", "time to step the world and send every frame", ticks.durations());
  m.gauge("skirmish_load", "CPU the loop used over the last ticks against what its cgroup allows (smoothed)", world_.load());
  m.gauge("skirmish_fanout_load", "the part of that load spent building and writing tick frames", world_.fanout_load());
  m.gauge("skirmish_send_capacity_frames", "tick frames a tick the CPU left over allows, by the measured cost of a frame",
          world_.capacity_frames() >= 1e17 ? -1.0 : world_.capacity_frames());
  m.gauge("skirmish_send_budget_frames", "tick frames a tick the send budget allows (-1: no budget)",
          sched.budget() >= 1e17 ? -1.0 : sched.budget());
  m.gauge("skirmish_send_level", "send-rate level: 0 all every tick, 1-3 watchers every 2-4 ticks, 4 watchers shed past that, 5-7 players every 2-4 ticks, 8 both shed",
          static_cast<double>(sched.level()));
  m.labelled("gauge", "skirmish_send_every_ticks", "viewers of each class get a frame every this many ticks", "class",
             std::map<std::string, double>{{"player", sched.k_players()}, {"watcher", sched.k_watchers()}});
  m.labelled("gauge", "skirmish_send_budget_class_frames", "tick frames a tick the budget gives each class", "class",
             std::map<std::string, double>{{"player", sched.player_frames()}, {"watcher", sched.watcher_frames()}});
  m.gauge("skirmish_viewers_shed", "due viewers not served in the last tick (a budget in force)",
          static_cast<double>(world_.shed_last_tick()));
  m.counter("skirmish_frames_shed_total", "frames due but not sent (a budget in force)", static_cast<double>(send.shed));
  m.counter("skirmish_tick_frames_sent_total", "tick frames sent", static_cast<double>(send.frames));
  m.counter("skirmish_tick_frames_withheld_total",
            "tick frames a viewer did not get because of the send rate (not its turn at k > 1, or shed); the next carries the changes",
            static_cast<double>(send.withheld));
  m.counter("skirmish_tick_frames_sent_players_total", "tick frames sent to viewers with a player",
            static_cast<double>(send.player_frames));
  m.counter("skirmish_tick_bytes_sent_total", "bytes of tick frames sent", static_cast<double>(send.bytes));
  m.counter("skirmish_tick_frames_skipped_total", "tick frames not built for viewers that could not take one (over the soft limit, an unpolled session)",
            static_cast<double>(send.skipped));
  m.counter("skirmish_inputs_total", "inputs accepted", static_cast<double>(stats_.inputs_applied));
  m.counter("skirmish_inputs_dropped_total", "inputs over game.max_inputs_per_tick, dropped",
            static_cast<double>(stats_.inputs_dropped));
  m.counter("skirmish_bad_messages_total", "malformed game messages", static_cast<double>(stats_.bad_messages));
  m.counter("skirmish_binary_messages_total", "binary messages (answered with an error)",
            static_cast<double>(stats_.binary_messages));
  m.counter("skirmish_joins_total", "players created", static_cast<double>(stats_.joins));
  m.counter("skirmish_joins_refused_total", "joins refused because the world was full (game.max_players)",
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
}

void GameService::describe(nlohmann::json& health) const {
  const game::World& world = world_.world();
  health["players"] = world.player_count();
  health["monsters"] = world.monster_count();
  health["tick"] = world.tick();
  health["tick_rate"] = world.config().tick_rate;
  health["send_level"] = world_.scheduler().level();
}

}  // namespace skirmish::server
