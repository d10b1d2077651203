// The game on the daemon: one world (WorldTick), the player directory (tokens, reconnects,
// the state file), and the two transports that bring viewers to it (WebSocketViewers,
// PollingSessions). The rules of joining, leaving and taking a player over live here; the
// tick and the transports know nothing of each other.
#pragma once

#include <uv.h>

#include <random>
#include <string>

#include "config/config.h"
#include "server/game_port.h"
#include "server/player_directory.h"
#include "server/polling_sessions.h"
#include "server/stats_history.h"
#include "server/websocket_viewers.h"
#include "server/world_tick.h"
#include "server/ws_application.h"

namespace skirmish::server {

class Server;

class GameService final : public WsApplication, private GamePort {
 public:
  GameService(uv_loop_t* loop, Server& server, const config::Config& config);

  // Restores players saved by the last run (game.state_file), then starts ticking.
  void start();
  // Stops ticking and saves the players that can still be reclaimed.
  void stop();

  void on_open(Connection& conn, const protocol::HttpRequest& request) override { ws_.on_open(conn, request); }
  void on_text(Connection& conn, std::string_view text) override { ws_.on_text(conn, text); }
  void on_binary(Connection& conn, std::string_view data) override { ws_.on_binary(conn, data); }
  void on_close(Connection& conn) override { ws_.on_close(conn); }
  void on_server_stopping() override { polling_.answer_all_waiting(); }
  void write_metrics(MetricsText& out) const override;
  void describe(nlohmann::json& health) const override;

 private:
  // GamePort: what the transports ask of the game.
  ViewerId open_viewer(ViewerSink& sink, float x, float y) override;
  void close_viewer(ViewerId id) override;
  void handle(ViewerId id, protocol::ClientMsg& message) override;
  void reject(ViewerId id, const protocol::DecodeError& error) override;
  bool has_player(ViewerId id) override;
  const std::string& hello() const override { return hello_; }
  const game::GameConfig& world_config() const override { return world_.world().config(); }
  std::string new_token() override;
  GameStats& stats() override { return stats_; }

  void join(Viewer& viewer, std::string name, const std::string& token);
  void leave(Viewer& viewer);
  void forget_player(game::EntityId player);
  void restore_saved_players();
  void save_players() const;
  void sample_stats();

  Server& server_;
  const config::Config& config_;
  GameStats stats_;
  PlayerDirectory directory_;
  WorldTick world_;
  std::string hello_;  // encoded once: the world's static description
  WebSocketViewers ws_;
  PollingSessions polling_;
  StatsHistory history_;
  std::uint64_t sampled_second_ = 0;  // the game second of the last stats sample
  std::random_device random_;  // tokens and session ids: wholly random, 128 bits each
  // Set once the world runs: only then may stop() save it over the state file (a daemon that
  // never started, e.g. its port was taken, must not replace the saved players with none).
  bool started_ = false;
};

}  // namespace skirmish::server
