// The game on the daemon: game.worlds independent worlds (GameWorld: tick, player directory,
// hello, statistics), and the two transports that bring viewers to them (WebSocketViewers,
// PollingSessions). The rules of placing viewers in worlds, joining, leaving and taking a
// player over live here; the worlds and the transports know nothing of each other.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "server/fleet_directory.h"
#include "server/game_port.h"
#include "server/game_world.h"
#include "server/polling_sessions.h"
#include "server/websocket_viewers.h"
#include "server/ws_application.h"

namespace skirmish::server {

class GameService final : public WsApplication, private GamePort {
 public:
  GameService(uv_loop_t* loop, AppHost& server, const config::Config& config);

  // Restores players saved by the last run (game.state_file), then starts ticking.
  void start();
  // Stops ticking and saves the players that can still be reclaimed; false when that save
  // failed (the process should not report a clean stop).
  [[nodiscard]] bool stop();
  // Players in every world (connected, or within their reconnect window).
  std::size_t players() const;
  // New players who name no world go to `world` while it has room (an Agones allocation's
  // label picked it); "" (or a name we do not have): placed as usual.
  void prefer_world(const std::string& world);

  std::optional<protocol::HttpReject> refuse_websocket(const std::string& target) const override;
  bool holds_connection(const protocol::HttpRequest& request) const override {
    return PollingSessions::is_long_poll(request);
  }
  void on_open(Connection& conn, const protocol::HttpRequest& request) override { ws_.on_open(conn, request); }
  void on_text(Connection& conn, std::string_view text) override { ws_.on_text(conn, text); }
  void on_binary(Connection& conn, std::string_view data) override { ws_.on_binary(conn, data); }
  void on_close(Connection& conn) override { ws_.on_close(conn); }
  void on_server_stopping() override;
  void write_metrics(MetricsText& out) const override;
  void describe(nlohmann::json& health) const override;

 private:
  // A world= that does not decode is refused (400), by /stats.json and the handshake alike: read
  // as absent, it would show the first world, or place the client anywhere.
  static constexpr const char* kWorldBadlyEncoded = "world= is not percent-encoded properly";

  // Where a viewer is: its world (an index into worlds_), and whether it picked that world.
  struct Home {
    std::uint32_t world = 0;
    bool pinned = false;
    std::string seat;          // the fleet's reservation it came with, until it joins
    bool looking_up = false;   // its join waits for Redis to find its token
    bool looked_up = false;    // Redis was asked for its token already
    bool seat_checked = false; // Redis was asked for its place already
    bool place_granted = false;  // and gave it one (its seat, or a free place): counted there
    std::string from;            // its client's address
  };

  // GamePort: what the transports ask of the game.
  ViewerId open_viewer(ViewerSink& sink, float x, float y, std::string_view world, std::string_view seat,
                       std::string_view from) override;
  void close_viewer(ViewerId id) override;
  void handle(ViewerId id, protocol::ClientMsg& message) override;
  void reject(ViewerId id, const protocol::DecodeError& error) override;
  bool has_player(ViewerId id) override;
  const std::string& hello(ViewerId id) const override;
  const game::GameConfig& world_config() const override { return config_.game; }
  std::string new_token() override;
  GameStats& stats() override { return stats_; }

  // The world named `name`, or nullptr.
  GameWorld* world_named(std::string_view name) const;
  // The world a viewer that named none starts in: where a new player would be placed (the
  // first world when all are full: it can watch).
  std::uint32_t placement() const;
  // Where a new player who names no world goes here; nullopt when every world is full.
  std::optional<std::uint32_t> local_choice() const;
  Viewer* find(ViewerId id, GameWorld** world = nullptr);
  // Moves a viewer without a player to another world, and sends it that world's hello.
  void move_viewer(ViewerId id, std::uint32_t to);
  // A join, in stages: a token Redis must look up first (look_up_token, then
  // join_after_lookup joins again), a token this process holds (follow_token: the viewer goes
  // to its world), a viewer placed in a world placement no longer picks (place_afresh),
  // a place the fleet must grant (claim_seat, then join_after_claim joins again), then a new
  // player if there is room; admit() gives the connection its player.
  void join(ViewerId id, std::string name, const std::string& token);
  void look_up_token(ViewerId id, std::string name, const std::string& token);
  // The player `token` names in any world here (the viewer moved to that world), or 0.
  game::EntityId follow_token(ViewerId id, const std::string& token);
  void place_afresh(ViewerId id);
  void claim_seat(ViewerId id, std::string name, const std::string& token);
  // What one join attempt had from the fleet; ending it gives the connection a fresh start
  // for its next join (after a leave).
  struct JoinAttempt {
    std::string seat;      // the reservation it came with
    bool granted = false;  // Redis gave it its place (counted there already)
  };
  static JoinAttempt end_attempt(Home& home);
  void admit(ViewerId id, const std::string& name, const std::string& token, game::EntityId player, bool resumed,
             const std::string& seat);
  void leave(Viewer& viewer, GameWorld& world);
  // Out of its world and its directory for good; with `forget_record`, out of the fleet's
  // player records too (a leave, a disconnect with no reconnect window), unless another
  // process wrote the record last.
  void remove_player(GameWorld& w, game::EntityId player, bool forget_record);
  // A player's token looked up in the fleet's Redis: back from its record when this process
  // does not hold it (when there is a record and it fits), or holds only a stale copy, away
  // here while another process played it since (`process` wrote the record last); then
  // joined as if it had been here all along.
  // `asked`: the copy held here when the question went (only that one can be older than the
  // answer).
  struct HeldCopy {
    std::uint32_t world = 0;
    game::EntityId player = 0;  // 0: none
    std::uint64_t hold = 0;     // PlayerDirectory::hold then
  };
  void join_after_lookup(ViewerId id, std::string name, const std::string& token, std::optional<SavedPlayer> record,
                         const std::string& process, HeldCopy asked);
  // Another process resumed the player of `stale` (a record this process went to refresh)
  // since: that copy goes, if it is still here and held as it was (its connection, if it has
  // one, is told `session_taken`, as a second tab's would be). No record is written or
  // deleted: the record is the other process's.
  void drop_stale_copy(const SavedPlayer& stale);
  void remove_stale_copy(GameWorld& w, game::EntityId player);
  // `v`'s player was resumed by a newer connection (`why` says where): it stops steering it,
  // is told `session_taken`, and goes on watching.
  void lose_player(Viewer& v, const char* why);
  // Runs `then` with the game's lock held on the loop of viewer `id`'s connection (now, when
  // that is this thread). A join the fleet's answer continues (on loop 0) goes there first:
  // only a viewer's own loop moves it to another world, since other loops may be building
  // frames for it meanwhile (a world on another home loop fans out while loop 0 is free), and
  // so its new world's hello goes out before any frame of that world.
  void on_viewer_loop(ViewerId id, std::function<void()> then);
  // The fleet's answer about a joining player's seat: join on with it, or refuse.
  void join_after_claim(ViewerId id, std::string name, const std::string& token, FleetDirectory::Claim claim,
                        std::string seat);
  // Seats the fleet holds in a world for players on their way (0 without a fleet).
  std::size_t seats_held(const GameWorld& w) const;
  // The fleet's view of our worlds, and where browsers reach each (server.public_url).
  std::vector<FleetWorld> own_worlds() const;
  // Every player held (or those played right now), with its world's name, as of `now_ms`
  // (wall clock: what a record's age is counted from).
  std::vector<SavedPlayer> player_records(bool online_only, std::uint64_t now_ms) const;
  // POST /place: a world with room anywhere in the fleet, with a seat when the fleet is up.
  std::optional<protocol::HttpResponse> place(const protocol::HttpRequest& request, const RequestOrigin& origin);
  protocol::HttpResponse place_locally(const protocol::HttpRequest& request, const RequestOrigin& origin);
  void restore_saved_players();
  bool save_players() const;  // false: the file could not be written
  void add_routes();

  AppHost& server_;
  const config::Config& config_;
  GameStats stats_;
  std::vector<std::unique_ptr<GameWorld>> worlds_;
  std::unordered_map<ViewerId, Home> homes_;  // per message, never per tick
  ViewerId next_viewer_ = 1;
  std::unique_ptr<FleetDirectory> fleet_;  // with fleet.redis_url
  WebSocketViewers ws_;
  PollingSessions polling_;
  std::random_device random_;  // tokens and session ids: wholly random, 128 bits each
  // Set once the worlds run: only then may stop() save them over the state file (a daemon
  // that never started, e.g. its port was taken, must not replace the saved players with none).
  bool started_ = false;
  std::string preferred_world_;  // prefer_world()
};

}  // namespace skirmish::server
