// The game's viewers and players: opening and closing viewers, placing them in worlds, the
// messages they send, and joins in stages (with the fleet's questions to Redis). Its routes
// are in game_service_routes.cpp, saves in game_service_saves.cpp, reports in game_service_report.cpp.
#include "server/game_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "protocol/game_messages.h"
#include "protocol/request_target.h"
#include "server/wall_clock.h"

namespace skirmish::server {

namespace {

// 1008 is the close code for "you broke our rules" (RFC 6455 7.4.1).
constexpr const char* kTooManyBadMessages = "too many malformed messages";

std::string world_name(int index) { return "world-" + std::to_string(index + 1); }

}  // namespace

GameService::GameService(uv_loop_t* loop, AppHost& server, const config::Config& config)
    : server_(server), config_(config), ws_(*this, mutex()), polling_(loop, server, config, *this, mutex()) {
  FanOutRunner& loops = server_.loops();
  for (int i = 0; i < config.session.worlds; ++i) {
    // Each world its own map and monsters: the configured seed for the first, then the next
    // ones; and its own home loop, dealt in turn, so worlds step and encode on different cores.
    const std::size_t home = static_cast<std::size_t>(i) % loops.loops();
    worlds_.push_back(std::make_unique<GameWorld>(home, config, world_name(i), config.session.seed + static_cast<std::uint64_t>(i),
                                                  [this] { return server_.connection_count(); }, loops, mutex()));
  }
  if (!config.fleet.redis_url.empty()) {
    fleet_ = std::make_unique<FleetDirectory>(loop, config, mutex(),
                                              FleetDirectory::Hooks{[this] { return own_worlds(); },
                                                                    [this](bool online_only) { return player_records(online_only, wall_clock_ms()); },
                                                                    [this](const SavedPlayer& stale) { drop_stale_copy(stale); }});
  }
  add_routes();
}

std::size_t GameService::seats_held(const GameWorld& w) const { return fleet_ ? fleet_->reserved(w.name()) : 0; }

void GameService::on_server_stopping() {
  polling_.tell_all_stopping();
  if (fleet_) fleet_->leave();
}

void GameService::start() {
  started_ = true;
  restore_saved_players();
  for (auto& w : worlds_) w->start();
  polling_.start();
  if (fleet_) fleet_->start();
}

bool GameService::stop() {
  for (auto& w : worlds_) w->stop();
  polling_.stop();
  const bool saved = !started_ || save_players();
  if (fleet_) fleet_->stop();
  return saved;
}

std::size_t GameService::players() const {
  std::size_t n = 0;
  for (const auto& w : worlds_) n += w->world().player_count();
  return n;
}

std::string GameService::new_token() {
  // 128 random bits from the OS and nothing else: no counter in it, so tokens tell nothing
  // about how many were issued or when.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", random_(), random_(), random_(), random_());
  return buf;
}

GameWorld* GameService::world_named(std::string_view name) const {
  for (const auto& w : worlds_) {
    if (w->name() == name) return w.get();
  }
  return nullptr;
}

void GameService::prefer_world(const std::string& world) {
  if (world == preferred_world_) return;
  preferred_world_ = world;
  if (world.empty()) {
    spdlog::info("new players are placed in any world again");
  } else if (world_named(world)) {
    spdlog::info("new players go to {} while it has room (the allocation says so)", world);
  } else {
    spdlog::warn("the allocation names world '{}', which this process does not have: placing as usual", world);
  }
}

std::optional<std::uint32_t> GameService::local_choice() const {
  // A world the allocation picked comes first while it has room.
  for (std::uint32_t i = 0; i < worlds_.size() && !preferred_world_.empty(); ++i) {
    const GameWorld& w = *worlds_[i];
    if (w.name() == preferred_world_ && w.load().players + seats_held(w) < w.load().capacity) return i;
  }
  std::vector<WorldLoad> loads;
  loads.reserve(worlds_.size());
  for (const auto& w : worlds_) loads.push_back({w->load().players + seats_held(*w), w->load().capacity});
  const auto at = place_player(loads, static_cast<std::size_t>(config_.session.lively_players));
  if (!at) return std::nullopt;
  return static_cast<std::uint32_t>(*at);
}

std::uint32_t GameService::placement() const { return local_choice().value_or(0); }

std::optional<protocol::HttpReject> GameService::refuse_websocket(const std::string& target) const {
  if (protocol::query_param_malformed(target, "world")) {
    return protocol::HttpReject{400, kWorldBadlyEncoded, {}};
  }
  // The point a spectator starts at: absent is the centre, anything else must be a number.
  for (const char* axis : {"x", "y"}) {
    const auto value = protocol::query_param(target, axis);
    if ((value && !protocol::parse_decimal_float(*value)) || protocol::query_param_malformed(target, axis)) {
      return protocol::HttpReject{400, std::string(axis) + " must be a number: the point to watch", {}};
    }
  }
  const auto name = protocol::query_param(target, "world");
  if (!name || name->empty() || world_named(*name)) return std::nullopt;  // empty: place me
  bool printable = name->size() <= 64;
  for (const char c : *name) printable = printable && c >= 0x20 && c < 0x7f;
  return protocol::HttpReject{
      404, printable ? "no world named '" + *name + "' here: see /worlds" : std::string("no such world here: see /worlds"), {}};
}

ViewerId GameService::open_viewer(ViewerSink& sink, float x, float y, std::string_view world, std::string_view seat,
                                  std::string_view from) {
  Home home;
  home.seat = std::string(seat.substr(0, 64));
  home.from = std::string(from);
  if (!world.empty()) {
    const GameWorld* named = world_named(world);
    if (!named) return 0;
    home.pinned = true;
    for (std::uint32_t i = 0; i < worlds_.size(); ++i) {
      if (worlds_[i].get() == named) home.world = i;
    }
  } else {
    home.world = placement();
  }
  const ViewerId id = next_viewer_++;
  const auto& cfg = config_.game;
  worlds_[home.world]->tick().add_viewer(id, sink, std::clamp(x, 0.0f, cfg.world_width),
                                         std::clamp(y, 0.0f, cfg.world_height));
  sink.route_inputs(&worlds_[home.world]->tick().inputs());
  homes_[id] = home;
  return id;
}

Viewer* GameService::find(ViewerId id, GameWorld** world) {
  const auto it = homes_.find(id);
  if (it == homes_.end()) return nullptr;
  GameWorld& w = *worlds_[it->second.world];
  if (world) *world = &w;
  return w.tick().find(id);
}

const std::string& GameService::hello(ViewerId id) const {
  const auto it = homes_.find(id);
  return worlds_[it == homes_.end() ? 0 : it->second.world]->hello();
}

void GameService::move_viewer(ViewerId id, std::uint32_t to) {
  Home& home = homes_.at(id);
  GameWorld& from = *worlds_[home.world];
  Viewer* v = from.tick().find(id);
  ViewerSink* sink = v->sink;
  from.tick().remove_viewer(id);  // it has no player: nothing to detach
  home.world = to;
  GameWorld& into = *worlds_[to];
  const auto& cfg = config_.game;
  // It looks at the new world's centre until it joins; its first frame there lists its whole
  // view as entering (it has no last frame in that world).
  into.tick().add_viewer(id, *sink, cfg.world_width / 2, cfg.world_height / 2);
  sink->route_inputs(&into.tick().inputs());
  sink->start_over(into.hello());
}

void GameService::close_viewer(ViewerId id) {
  const auto it = homes_.find(id);
  if (it == homes_.end()) return;
  GameWorld& w = *worlds_[it->second.world];
  const std::string from = std::move(it->second.from);
  homes_.erase(it);
  const game::EntityId player = w.tick().remove_viewer(id);
  if (player == 0 || w.directory().owner(player) != id) return;
  if (config_.session.reconnect_window_ms <= 0) {
    remove_player(w, player, true);
    return;
  }
  w.world().set_away(player, true);
  w.directory().detach(player, server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms),
                       from, static_cast<std::size_t>(std::max(0, config_.server.max_connections_per_ip)));
  if (fleet_) {
    // As it is now, for its token to find on whichever process it comes back to.
    if (auto record = w.directory().record(w.world(), player)) {
      record->world = w.name();
      fleet_->update_player(std::move(*record));
    }
  }
}

bool GameService::has_player(ViewerId id) {
  const Viewer* v = find(id);
  return v && v->player != 0;
}

void GameService::reject(ViewerId id, const protocol::DecodeError& error) {
  Viewer* v = find(id);
  if (!v) return;
  stats_.bad_messages++;
  v->sink->send_message(protocol::encode_error(error.code, error.message));
  if (++v->bad_messages >= config_.session.bad_message_limit) v->sink->close_for_policy(kTooManyBadMessages);
}

void GameService::handle(ViewerId id, protocol::ClientMsg& msg) {
  GameWorld* in = nullptr;
  Viewer* found = find(id, &in);
  if (!found) return;
  Viewer& viewer = *found;
  // Inputs this viewer sent before this message wait in its world's queue: they go first (a
  // join, a leave or a move must not overtake them), and with them the rest of the queue,
  // which the tick would have applied as they are.
  if (!std::holds_alternative<protocol::InputMsg>(msg)) in->tick().apply_queued_inputs();
  if (auto* input = std::get_if<protocol::InputMsg>(&msg)) {
    if (viewer.player == 0) {
      viewer.sink->send_message(protocol::encode_error("not_joined", "join before sending input"));
      return;
    }
    in->tick().apply_input(viewer, {id, input->dx, input->dy, input->attack, input->has_seq, input->seq});
  } else if (auto* ping = std::get_if<protocol::PingMsg>(&msg)) {
    viewer.sink->send_message(protocol::encode_pong(ping->t, wall_clock_ms()));
  } else if (auto* join_msg = std::get_if<protocol::JoinMsg>(&msg)) {
    join(id, std::move(join_msg->name), join_msg->token);
  } else if (std::holds_alternative<protocol::LeaveMsg>(msg)) {
    GameWorld* w = nullptr;
    find(id, &w);
    leave(viewer, *w);
  } else if (auto* watch = std::get_if<protocol::WatchMsg>(&msg)) {
    viewer.view_x = std::clamp(watch->x, 0.0f, config_.game.world_width);
    viewer.view_y = std::clamp(watch->y, 0.0f, config_.game.world_height);
  }
}

void GameService::join(ViewerId id, std::string name, const std::string& token) {
  Viewer* viewer = find(id);
  if (viewer->player != 0) {
    viewer->sink->send_message(protocol::encode_error("already_joined", "this connection already has a player"));
    return;
  }
  Home& home = homes_.at(id);
  if (home.looking_up) {
    viewer->sink->send_message(protocol::encode_error("already_joining", "this connection's join is under way"));
    return;
  }
  if (!token.empty()) {
    // With the fleet, the token's record says which process played the player last, whether
    // or not this one holds it: a copy here, away, is stale once another process resumed it.
    // The join waits for Redis, when its answer may come later (not a polling session's first
    // answer). (A read: asked while Redis answers, even if it refuses our writes.)
    if (fleet_ && fleet_->connected() && !home.looked_up && viewer->sink->answers_later()) {
      look_up_token(id, std::move(name), token);
      return;
    }
    if (const game::EntityId player = follow_token(id, token); player != 0) {
      const std::string seat = end_attempt(home).seat;
      stats_.resumes++;
      admit(id, name, token, player, true, seat);
      return;
    }
  }
  if (!home.pinned && !home.seat_checked) place_afresh(id);
  // A move above freed the viewer found first (or left it to the fan-out's graveyard, without
  // a sink): from here on, only the one in the world it is in now.
  viewer = find(id);
  if (fleet_ && fleet_->up() && !home.seat_checked && viewer->sink->answers_later()) {
    claim_seat(id, std::move(name), token);
    return;
  }
  const JoinAttempt attempt = end_attempt(home);
  GameWorld& w = *worlds_[home.world];
  // Seats the fleet reserved here are taken by their players; a join without one leaves them.
  // Redis gave this player its place (the fleet's count has it already); else a seat that
  // this process gave out itself, still held, is known good; else the reservations seen must
  // fit: any other seat that Redis could not check counts for nothing (anyone can write
  // "?seat=x", and the real holders would find their places taken).
  const bool own_seat =
      !attempt.granted && !attempt.seat.empty() && fleet_ && fleet_->take_own_seat(w.name(), attempt.seat);
  const bool room = attempt.granted || own_seat || w.load().players + seats_held(w) < w.load().capacity;
  const game::EntityId player = room ? w.world().add_player(name) : 0;
  if (player == 0) {
    stats_.joins_refused++;
    viewer->sink->send_message(protocol::encode_error(
        "server_full", home.pinned ? "this world is full (game.max_players): try again later, or another world"
                                   : "every world is full (game.max_players): try again later"));
    return;
  }
  std::string player_token = new_token();
  w.directory().add(player_token, player);
  stats_.joins++;
  admit(id, name, player_token, player, false, attempt.seat);
}

void GameService::look_up_token(ViewerId id, std::string name, const std::string& token) {
  homes_.at(id).looking_up = true;
  // The copy held here as the question goes: only that one can be older than the answer.
  HeldCopy asked;
  for (std::uint32_t i = 0; i < worlds_.size() && asked.player == 0; ++i) {
    if (const game::EntityId p = worlds_[i]->directory().find(token); p != 0) {
      asked = {i, p, worlds_[i]->directory().hold(p)};
    }
  }
  fleet_->find_player(token, [this, id, name = std::move(name), token, asked](std::optional<SavedPlayer> record,
                                                                              std::string process) {
    on_viewer_loop(id, [this, id, name, token, asked, record = std::move(record), process = std::move(process)]() mutable {
      join_after_lookup(id, name, token, std::move(record), process, asked);
    });
  });
}

game::EntityId GameService::follow_token(ViewerId id, const std::string& token) {
  for (std::uint32_t i = 0; i < worlds_.size(); ++i) {
    if (const game::EntityId p = worlds_[i]->directory().find(token); p != 0 && worlds_[i]->world().find(p)) {
      if (i != homes_.at(id).world) move_viewer(id, i);
      return p;
    }
  }
  return 0;
}

void GameService::place_afresh(ViewerId id) {
  // Placed when it connected; since then its world may have filled, or another may have got
  // more company (placement prefers the fullest world under the lively size): it joins where
  // a new player would be placed now.
  const Home& home = homes_.at(id);
  if (const std::uint32_t to = placement(); to != home.world && !worlds_[to]->full()) move_viewer(id, to);
}

void GameService::claim_seat(ViewerId id, std::string name, const std::string& token) {
  Home& home = homes_.at(id);
  home.looking_up = true;
  fleet_->claim(own_worlds()[home.world], home.seat,
                [this, id, name = std::move(name), token](FleetDirectory::Claim claim, std::string seat) {
                  on_viewer_loop(id, [this, id, name, token, claim, seat = std::move(seat)]() mutable {
                    join_after_claim(id, name, token, claim, std::move(seat));
                  });
                });
}

GameService::JoinAttempt GameService::end_attempt(Home& home) {
  JoinAttempt attempt{std::move(home.seat), home.place_granted};
  home.seat.clear();
  home.seat_checked = home.looked_up = home.place_granted = false;
  return attempt;
}

void GameService::admit(ViewerId id, const std::string& name, const std::string& token, game::EntityId player,
                        bool resumed, const std::string& seat) {
  GameWorld& w = *worlds_[homes_.at(id).world];
  game::World& world = w.world();
  PlayerDirectory& directory = w.directory();
  // The same player open in another tab or a half-dead socket: the newest connection wins.
  if (const ViewerId previous = directory.attach(player, id); previous != 0) {
    if (Viewer* old = w.tick().find(previous)) lose_player(*old, "this player was resumed elsewhere");
  }
  world.set_away(player, false);
  // Back with its token, away or not (a take-over from a connection still open: a phone that
  // changed networks mid-fight): not pounced on at once, as the page's shield ring says.
  if (resumed) world.protect(player);
  Viewer* v = w.tick().find(id);
  v->player = player;
  v->reset_controls();
  const auto& cfg = world.config();
  protocol::WelcomeMsg welcome{player, cfg.tick_rate, cfg.world_width, cfg.world_height, config_.session.view_radius,
                               token, resumed, w.name()};
  v->sink->send_message(protocol::encode_welcome(welcome));
  if (fleet_) {
    if (auto record = directory.record(world, player)) {
      record->world = w.name();
      fleet_->joined(w.name(), seat, std::move(*record));
    }
  }
  spdlog::debug("{} player {} ({}) in {}", resumed ? "resumed" : "joined as", player, name, w.name());
}

void GameService::leave(Viewer& viewer, GameWorld& world) {
  if (viewer.player == 0) return;
  const game::EntityId player = viewer.player;
  viewer.player = 0;
  viewer.reset_controls();
  remove_player(world, player, true);
}

void GameService::remove_player(GameWorld& w, game::EntityId player, bool forget_record) {
  if (forget_record && fleet_) {
    if (const std::string* token = w.directory().token_of(player)) fleet_->forget_player(*token);
  }
  w.world().remove_player(player);
  w.directory().forget(player);
}

void GameService::drop_stale_copy(const SavedPlayer& stale) {
  GameWorld* w = world_named(stale.world);
  // Still the copy the refused record was taken from, held as it was then? A connection that
  // took it or let it go since, or a copy put back from a newer record, is not stale.
  const auto unchanged = [w, stale] {
    return stale.id != 0 && w->directory().find(stale.token) == stale.id && w->directory().hold(stale.id) == stale.hold;
  };
  if (!w || !unchanged()) return;
  const ViewerId owner = w->directory().owner(stale.id);
  if (owner == 0) {
    remove_stale_copy(*w, stale.id);
    return;
  }
  // Played here right now: its viewer is told, and let go, on its own loop (which may be
  // building its frame meanwhile), if it still plays that copy then.
  on_viewer_loop(owner, [this, stale, w, owner, unchanged] {
    if (!unchanged()) return;
    if (Viewer* v = w->tick().find(owner); v && v->player == stale.id) lose_player(*v, "this player was resumed on another server");
    remove_stale_copy(*w, stale.id);
  });
}

void GameService::lose_player(Viewer& v, const char* why) {
  v.player = 0;
  v.reset_controls();
  v.sink->send_message(protocol::encode_error("session_taken", why));
}

void GameService::remove_stale_copy(GameWorld& w, game::EntityId player) {
  spdlog::info("player {} in {} was resumed on another process since: its copy here is dropped", player, w.name());
  remove_player(w, player, false);  // the record is the other process's now
  fleet_->count_stale_copy();
}

void GameService::on_viewer_loop(ViewerId id, std::function<void()> then) {
  const Viewer* v = find(id);
  if (!v) return;  // gone meanwhile
  server_.loops().on_loop(v->sink->loop(), [this, then = std::move(then)] {
    std::lock_guard<std::recursive_mutex> lock(mutex());
    then();
  });
}

void GameService::join_after_claim(ViewerId id, std::string name, const std::string& token,
                                    FleetDirectory::Claim claim, std::string seat) {
  const auto it = homes_.find(id);
  if (it == homes_.end()) return;  // gone meanwhile; a seat it took expires unused
  Home& home = it->second;
  home.looking_up = false;
  home.seat_checked = true;
  home.seat = std::move(seat);
  home.place_granted = claim == FleetDirectory::Claim::Held || claim == FleetDirectory::Claim::Taken;
  const Viewer* viewer = find(id);
  if (!viewer || viewer->player != 0) return;
  if (claim == FleetDirectory::Claim::Full) {
    home.seat_checked = home.looked_up = false;
    stats_.joins_refused++;
    viewer->sink->send_message(protocol::encode_error(
        "server_full", seats_held(*worlds_[home.world]) > 0
                           ? "this world is full, its last places held for players on their way: try again later, or /place"
                           : "this world is full: try again later, or /place"));
    return;
  }
  join(id, std::move(name), token);  // with the seat (Held, Taken), or judged locally (Failed)
}

void GameService::join_after_lookup(ViewerId id, std::string name, const std::string& token,
                                     std::optional<SavedPlayer> record, const std::string& process, HeldCopy asked) {
  const auto it = homes_.find(id);
  if (it == homes_.end()) return;  // the viewer went meanwhile: nothing to bring back
  Home& home = it->second;
  home.looking_up = false;
  home.looked_up = true;
  const Viewer* viewer = find(id);
  if (!viewer || viewer->player != 0) return;
  const bool elsewhere = record && !process.empty() && process != fleet_->id();
  // The world of the copy held when the question went, if it was stale (played on another
  // process since) and is gone now, dropped here or already by a refused refresh: its place
  // is the player's.
  std::optional<std::uint32_t> stale_in;
  if (elsewhere && asked.player != 0 && worlds_[asked.world]->directory().find(token) == 0) stale_in = asked.world;
  for (std::uint32_t i = 0; i < worlds_.size(); ++i) {
    GameWorld& w = *worlds_[i];
    const game::EntityId held = w.directory().find(token);
    if (held == 0) continue;
    if (elsewhere && i == asked.world && held == asked.player && w.directory().hold(held) == asked.hold &&
        (w.directory().is_detached(held) || fleet_->join_taken(token))) {
      // Held here since before the question (away, or played right now by another connection:
      // an old tab, a half-dead socket), and played on another process since this process's
      // last join of it that Redis took: its record is newer than this copy. (A join here that
      // Redis has not taken yet is the newest: it is played on.) The newest connection wins,
      // with the newest state.
      if (const ViewerId owner = w.directory().owner(held); owner != 0) {
        if (Viewer* old = w.tick().find(owner)) lose_player(*old, "this player was resumed elsewhere");
      }
      remove_stale_copy(w, held);
      stale_in = i;
    } else {
      // Ours (the record says so, or says nothing), or played here right now, or brought back
      // meanwhile by another connection with the token: the join below resumes that copy,
      // and no second one is made.
      record.reset();
    }
  }
  if (record) {
    // Back in the viewer's world, or the first other one with room, as an away player that
    // the join below resumes at once.
    record->token = token;
    SavedState state;
    state.players.push_back(*record);
    const std::uint64_t expires = server_.now_ms() + static_cast<std::uint64_t>(config_.session.reconnect_window_ms);
    bool back = false;
    if (stale_in) {
      // Where its stale copy was, in the place that copy had (held seats do not take it).
      GameWorld& w = *worlds_[*stale_in];
      back = w.directory().restore(state, w.world(), expires) == 1;
    }
    for (std::uint32_t k = 0; k < worlds_.size() && !back; ++k) {
      GameWorld& w = *worlds_[(home.world + k) % worlds_.size()];
      // A seat it holds here is one of those held: its own place.
      const std::size_t held = seats_held(w) - (k == 0 && !home.seat.empty() && seats_held(w) > 0 ? 1 : 0);
      if (w.load().players + held >= w.load().capacity) continue;
      back = w.directory().restore(state, w.world(), expires) == 1;
    }
    if (!back) spdlog::info("a player from the fleet's records found no room here; it joins afresh");
  }
  join(id, std::move(name), token);
}

}  // namespace skirmish::server
