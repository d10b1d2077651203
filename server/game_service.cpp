#include "server/game_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "protocol/frame_encoder.h"
#include "protocol/game_messages.h"
#include "protocol/request_target.h"
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
constexpr std::uint16_t kPolicyViolation = 1008;

std::optional<float> query_number(const std::string& target, std::string_view name) {
  const auto v = protocol::query_param(target, name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const float f = std::strtof(v->c_str(), &end);
  if (end == v->c_str() || *end != '\0' || !std::isfinite(f)) return std::nullopt;
  return f;
}

}  // namespace

GameService::GameService(uv_loop_t* loop, Server& server, const config::Config& config)
    : server_(server),
      config_(config),
      world_(config.game, config.session.seed),
      bridge_(world_, config.session.view_radius),
      ticks_(loop, config.game.tick_rate, config.session.max_catch_up_ticks, [this] { tick(); }) {
  uv_timer_init(loop, &poll_timer_);
  poll_timer_.data = this;
  hello_ = protocol::encode_hello(bridge_.hello());
  hello_frame_ = protocol::encode_frame(protocol::Opcode::Text, hello_);
  server_.add_route("/session", [this](const protocol::HttpRequest& r, ConnId c) { return handle_session_request(r, c); });
  server_.add_route("/session/", [this](const protocol::HttpRequest& r, ConnId c) { return handle_session_request(r, c); });
  server_.set_deferred_gone_handler([this](ConnId c) { on_poll_gone(c); });
  server_.add_route("/stats.json", [this](const protocol::HttpRequest& request, ConnId) {
    return json_response(request, 200, history_.to_json());
  });
}

void GameService::start() {
  started_ = true;
  restore_saved_players();
  ticks_.start();
  uv_timer_start(&poll_timer_, [](uv_timer_t* t) {
    auto* self = static_cast<GameService*>(t->data);
    self->expire_sessions(self->server_.now_ms());
  }, 100, 100);
}

void GameService::stop() {
  ticks_.stop();
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&poll_timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_timer_), nullptr);
  }
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
  std::size_t restored = 0;
  for (const auto& p : state->players) {
    if (players_by_token_.count(p.token)) continue;
    const game::EntityId id = world_.restore_player(p.name, p.x, p.y, p.hp, p.score);
    if (id == 0) continue;
    remember_token(p.token, id);
    world_.set_away(id, true);
    detached_[id] = expires;
    restored++;
  }
  spdlog::info("restored {} player(s) saved in {}", restored, path);
}

void GameService::save_players() const {
  const std::string& path = config_.session.state_file;
  if (path.empty()) return;
  SavedState state;
  state.saved_at_ms = wall_clock_ms();
  for (const auto& [player, token] : token_by_player_) {
    const game::Entity* e = world_.find(player);
    if (!e) continue;
    state.players.push_back({*token, e->id, e->name, e->x, e->y, e->hp, e->score});
  }
  if (auto error = save_state(path, state)) {
    spdlog::warn("could not save players: {}", *error);
  } else {
    spdlog::info("saved {} player(s) to {}", state.players.size(), path);
  }
}

void GameService::remember_token(const std::string& token, game::EntityId player) {
  const auto [it, inserted] = players_by_token_.emplace(token, player);
  token_by_player_[player] = &it->first;
}

std::string GameService::new_token() {
  // 128 random bits from the OS and nothing else: no counter in it, so tokens tell nothing
  // about how many were issued or when.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", random_(), random_(), random_(), random_());
  return buf;
}

void GameService::send(ConnId id, const std::string& text) { server_.send_text(id, text); }

void GameService::on_open(ConnId id, const protocol::HttpRequest& request) {
  Client& c = clients_[id];
  c.conn = id;
  c.connection = server_.find(id);
  const auto& cfg = world_.config();
  c.view_x = std::clamp(query_number(request.target, "x").value_or(cfg.world_width / 2), 0.0f, cfg.world_width);
  c.view_y = std::clamp(query_number(request.target, "y").value_or(cfg.world_height / 2), 0.0f, cfg.world_height);
  // The shared frame goes straight to the kernel: no per-connection copy of a hello that
  // lists every obstacle (tens of KB in a big world), whose short-lived buffers would leave
  // the heap fragmented between the connections' long-lived allocations.
  if (c.connection) c.connection->send_frame(hello_frame_);
}

void GameService::on_close(ConnId id) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  const game::EntityId player = it->second.player;
  clients_.erase(it);
  if (player == 0) return;
  owner_.erase(player);
  detach(player);
}

void GameService::detach(game::EntityId player) {
  if (config_.session.reconnect_window_ms <= 0) {
    forget_player(player);
    return;
  }
  world_.set_away(player, true);
  detached_[player] = server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms);
}

void GameService::write_metrics(MetricsText& m) const {
  m.gauge("skirmish_players", "players in the world (connected or within their reconnect window)",
          static_cast<double>(world_.player_count()));
  m.gauge("skirmish_monsters", "monsters in the world", static_cast<double>(world_.monster_count()));
  m.gauge("skirmish_game_clients", "WebSocket clients of the game (players and spectators)",
          static_cast<double>(clients_.size()));
  m.counter("skirmish_ticks_total", "simulation ticks run", static_cast<double>(ticks_.ticks_run() - ticks_.dropped_ticks()));
  m.counter("skirmish_ticks_late_total", "ticks run more than one period after they were due",
            static_cast<double>(ticks_.late_ticks()));
  m.counter("skirmish_ticks_dropped_total", "ticks skipped because the loop fell too far behind",
            static_cast<double>(ticks_.dropped_ticks()));
  m.histogram("skirmish_tick_duration_seconds", "time to step the world and send every frame", ticks_.durations());
  m.counter("skirmish_tick_frames_sent_total", "tick frames sent", static_cast<double>(stats_.tick_frames_sent));
  m.counter("skirmish_tick_bytes_sent_total", "bytes of tick frames sent", static_cast<double>(stats_.tick_bytes_sent));
  m.counter("skirmish_inputs_total", "inputs accepted", static_cast<double>(stats_.inputs_applied));
  m.counter("skirmish_inputs_dropped_total", "inputs over game.max_inputs_per_tick, dropped",
            static_cast<double>(stats_.inputs_dropped));
  m.counter("skirmish_bad_messages_total", "malformed game messages", static_cast<double>(stats_.bad_messages));
  m.counter("skirmish_binary_messages_total", "binary messages (answered with an error)",
            static_cast<double>(stats_.binary_messages));
  m.counter("skirmish_joins_total", "players created", static_cast<double>(stats_.joins));
  m.counter("skirmish_joins_refused_total", "joins refused because the world was full (game.max_players)",
            static_cast<double>(stats_.joins_refused));
  m.gauge("skirmish_http_sessions", "HTTP polling sessions", static_cast<double>(sessions_.size()));
  m.gauge("skirmish_polls_waiting", "long polls waiting for news", static_cast<double>(waiting_polls_));
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
  health["players"] = world_.player_count();
  health["monsters"] = world_.monster_count();
  health["tick"] = world_.tick();
  health["tick_rate"] = world_.config().tick_rate;
}

void GameService::on_binary(ConnId id, std::string_view) {
  // Answered but not held against the client: binary frames are valid WebSocket, just not
  // our protocol, and a generic client (a conformance suite, a proxy's probe) may send some.
  stats_.binary_messages++;
  send(id, protocol::encode_error("bad_message", "binary messages are not part of the protocol: send JSON text"));
}

void GameService::on_text(ConnId id, std::string_view text) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  handle_message(it->second, text);
}

void GameService::reply(Client& client, std::string message) {
  if (client.conn != 0) {
    send(client.conn, message);
  } else {
    client.replies.push_back(std::move(message));
  }
}

void GameService::notify(Client& client, std::string message) {
  if (client.conn != 0) {
    send(client.conn, message);
  } else if (client.notices) {
    client.notices->push_back(std::move(message));
  }
}

void GameService::reject_message(Client& client, std::string_view code, std::string_view message) {
  stats_.bad_messages++;
  reply(client, protocol::encode_error(code, message));
  if (++client.bad_messages >= config_.session.bad_message_limit && client.conn != 0) {
    server_.close(client.conn, kPolicyViolation, "too many malformed messages");
  }
}

void GameService::handle_message(Client& client, std::string_view text) {
  auto decoded = protocol::decode_client_message(text);
  if (auto* err = std::get_if<protocol::DecodeError>(&decoded)) {
    reject_message(client, err->code, err->message);
    return;
  }
  auto& msg = std::get<protocol::ClientMsg>(decoded);
  if (auto* input = std::get_if<protocol::InputMsg>(&msg)) {
    if (client.player == 0) {
      reply(client, protocol::encode_error("not_joined", "join before sending input"));
      return;
    }
    if (client.inputs_this_tick >= config_.session.max_inputs_per_tick) {
      stats_.inputs_dropped++;
      return;
    }
    client.inputs_this_tick++;
    stats_.inputs_applied++;
    client.move_dx = input->dx;
    client.move_dy = input->dy;
    client.attack = client.attack || input->attack;
  } else if (auto* ping = std::get_if<protocol::PingMsg>(&msg)) {
    reply(client, protocol::encode_pong(ping->t, wall_clock_ms()));
  } else if (auto* join_msg = std::get_if<protocol::JoinMsg>(&msg)) {
    join(client, std::move(join_msg->name), join_msg->token);
  } else if (std::holds_alternative<protocol::LeaveMsg>(msg)) {
    leave(client);
  } else if (auto* watch = std::get_if<protocol::WatchMsg>(&msg)) {
    client.view_x = std::clamp(watch->x, 0.0f, world_.config().world_width);
    client.view_y = std::clamp(watch->y, 0.0f, world_.config().world_height);
  }
}

void GameService::join(Client& client, std::string name, const std::string& token) {
  if (client.player != 0) {
    reply(client, protocol::encode_error("already_joined", "this connection already has a player"));
    return;
  }
  bool resumed = false;
  game::EntityId player = 0;
  std::string player_token;
  if (!token.empty()) {
    const auto it = players_by_token_.find(token);
    if (it != players_by_token_.end() && world_.find(it->second)) {
      player = it->second;
      player_token = token;
      resumed = true;
      detached_.erase(player);
      // The same player open in another tab or a half-dead socket: the newest connection wins.
      if (const auto owner = owner_.find(player); owner != owner_.end() && owner->second != &client) {
        Client& old = *owner->second;
        old.player = 0;
        old.move_dx = old.move_dy = 0;
        notify(old, protocol::encode_error("session_taken", "this player was resumed elsewhere"));
      }
    }
  }
  if (!resumed) {
    player = world_.add_player(name);
    if (player == 0) {
      stats_.joins_refused++;
      reply(client, protocol::encode_error("server_full", "the world is full (game.max_players): try again later"));
      return;
    }
    player_token = new_token();
    remember_token(player_token, player);
    stats_.joins++;
  } else {
    stats_.resumes++;
  }
  owner_[player] = &client;
  world_.set_away(player, false);
  client.player = player;
  client.move_dx = client.move_dy = 0;
  client.attack = false;
  const auto& cfg = world_.config();
  reply(client, protocol::encode_welcome({player, cfg.tick_rate, cfg.world_width, cfg.world_height,
                                          config_.session.view_radius, player_token, resumed}));
  spdlog::debug("{} player {} ({})", resumed ? "resumed" : "joined as", player, name);
}

void GameService::leave(Client& client) {
  if (client.player == 0) return;
  owner_.erase(client.player);
  forget_player(client.player);
  client.player = 0;
}

void GameService::forget_player(game::EntityId player) {
  world_.remove_player(player);
  owner_.erase(player);
  detached_.erase(player);
  if (const auto it = token_by_player_.find(player); it != token_by_player_.end()) {
    players_by_token_.erase(players_by_token_.find(*it->second));  // by iterator: the key is the node's own
    token_by_player_.erase(it);
  }
}

void GameService::expire_detached(std::uint64_t now_ms) {
  std::vector<game::EntityId> expired;
  for (const auto& [player, expires] : detached_) {
    if (expires <= now_ms) expired.push_back(player);
  }
  for (const game::EntityId p : expired) forget_player(p);
}

void GameService::sample_stats() {
  const auto& st = server_.stats();
  history_.sample(wall_clock_ms(), world_.player_count(), server_.connection_count(),
                  {ticks_.late_ticks(), stats_.tick_frames_sent, stats_.tick_bytes_sent, st.tick_frames_skipped});
}

void GameService::build_view(Client& client) {
  float cx = client.view_x, cy = client.view_y;
  if (client.player != 0) {
    if (const game::Entity* me = world_.find(client.player)) {
      cx = me->x;
      cy = me->y;
    } else {
      client.player = 0;  // removed from the world (should not happen while attached)
    }
  }
  bridge_.build_frame(cx, cy, client.known, payload_, client.resync, protocol::kMaxFrameHeader);
  client.resync = false;
}

void GameService::tick() {
  const std::uint64_t started_ns = uv_hrtime();
  const std::uint64_t now_ms = server_.now_ms();
  expire_detached(now_ms);
  expire_sessions(now_ms);
  inputs_.clear();
  auto collect_input = [this](Client& client) {
    client.inputs_this_tick = 0;
    if (client.player == 0) return;
    inputs_.push_back({client.player, client.move_dx, client.move_dy, client.attack});
    client.attack = false;
  };
  for (auto& [id, client] : clients_) collect_input(client);
  for (auto& [id, session] : sessions_) collect_input(session.client);
  // The world applies inputs in order; sort so the result does not depend on hash-map order.
  std::sort(inputs_.begin(), inputs_.end(),
            [](const game::PlayerInput& a, const game::PlayerInput& b) { return a.player < b.player; });
  world_.step(inputs_);
  bridge_.encode_tick(wall_clock_ms(), owner_.size());

  for (auto& [id, client] : clients_) {
    Connection* conn = client.connection;
    if (!conn || !conn->is_open()) continue;
    if (conn->over_soft_limit()) {
      // Deltas would pile up behind the unread ones: skip, and resync once it drains.
      server_.stats().tick_frames_skipped++;
      client.resync = true;
      continue;
    }
    build_view(client);
    const std::string_view frame = protocol::frame_in_place(payload_, protocol::Opcode::Text);
    conn->send_frame(frame);
    stats_.tick_frames_sent++;
    stats_.tick_bytes_sent += frame.size();
  }
  deliver_backlogs();
  history_.note_tick(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
  if (world_.tick() % static_cast<std::uint64_t>(world_.config().tick_rate) == 0) sample_stats();
}

}  // namespace skirmish::server
