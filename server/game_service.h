// The game on top of the WebSocket endpoint: sessions by connection id, join / leave /
// reconnect, inputs queued for the next tick, and the tick that steps the world and sends
// every client the part of it that it can see.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "game/world.h"
#include "server/game_bridge.h"
#include "server/stats_history.h"
#include "server/tick_driver.h"
#include "server/ws_application.h"

namespace skirmish::server {

class Connection;
class Server;

struct GameStats {
  std::uint64_t inputs_applied = 0;
  std::uint64_t inputs_dropped = 0;  // over game.max_inputs_per_tick
  std::uint64_t bad_messages = 0;
  std::uint64_t binary_messages = 0;
  std::uint64_t joins = 0;
  std::uint64_t joins_refused = 0;  // the world was full (game.max_players)
  std::uint64_t resumes = 0;
  std::uint64_t tick_frames_sent = 0;
  std::uint64_t tick_bytes_sent = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t sessions_refused = 0;  // over polling.max_sessions or max_sessions_per_ip
  std::uint64_t polls = 0;
  std::uint64_t long_polls = 0;
  std::uint64_t backlog_resyncs = 0;  // backlogs over the cap, coalesced into a full frame
};

class GameService final : public WsApplication {
 public:
  GameService(uv_loop_t* loop, Server& server, const config::Config& config);

  // Restores players saved by the last run (game.state_file), then starts ticking.
  void start();
  // Stops ticking and saves the players that can still be reclaimed.
  void stop();

  void on_open(ConnId id, const protocol::HttpRequest& request) override;
  void on_text(ConnId id, std::string_view text) override;
  void on_binary(ConnId id, std::string_view data) override;
  void on_close(ConnId id) override;
  void on_server_stopping() override;
  void write_metrics(MetricsText& out) const override;
  void describe(nlohmann::json& health) const override;

  const game::World& world() const { return world_; }
  const TickDriver& ticks() const { return ticks_; }
  const GameStats& stats() const { return stats_; }
  std::size_t client_count() const { return clients_.size(); }

 private:
  // One viewer of the game: a WebSocket connection or an HTTP polling session.
  struct Client {
    ConnId conn = 0;            // the WebSocket; 0 for an HTTP session
    // The WebSocket's connection: valid for the client's whole life, because the server
    // tells us on_close() before it frees the connection. Saves a lookup per tick.
    Connection* connection = nullptr;
    game::EntityId player = 0;  // 0: spectator
    float view_x = 0, view_y = 0;
    std::vector<game::EntityId> known;  // sorted ids the client has been sent
    // Movement is held until the next input changes it, so a client sends inputs when
    // its controls change, not every tick; an attack is applied once, at the next tick.
    float move_dx = 0, move_dy = 0;
    bool attack = false;
    int inputs_this_tick = 0;
    bool resync = false;  // frames were skipped: the next one lists the view in full
    int bad_messages = 0;
    std::vector<std::string> replies;  // HTTP sessions: answers to the request being handled
    std::vector<std::string>* notices = nullptr;  // HTTP sessions: where unasked-for news goes
  };
  // Short and long polling (docs/protocol.md): the same game, tick frames kept in a backlog
  // until the client asks for them.
  struct HttpSession {
    Client client;
    // Tick frames not yet delivered, comma-separated: one buffer whose size is what waits,
    // released whenever it is taken.
    std::string backlog;
    std::size_t backlog_ticks = 0;
    std::vector<std::string> notices;  // news that is not a tick (session_taken), delivered first
    // The backlog overflowed with nobody asking: no frames are built for this session until
    // it polls again, and then it gets one full frame at the next tick.
    bool dormant = false;
    std::string ip;                    // who opened it: polling.max_sessions_per_ip
    ConnId waiting = 0;                // a long poll waiting for news, or 0
    bool waiting_keep_alive = true;    // what that request asked for
    std::uint64_t wait_until_ms = 0;
    std::uint64_t last_seen_ms = 0;    // last request: sessions expire after the reconnect window
  };

  void tick();
  void handle_message(Client& client, std::string_view text);
  void reply(Client& client, std::string message);
  // News the client did not ask for (its player was taken over): over the WebSocket, or
  // into an HTTP session's backlog for its next poll.
  void notify(Client& client, std::string message);
  // Answers a waiting long poll with what the session holds (possibly nothing).
  void answer_waiting(HttpSession& session, bool keep_alive = true);
  void reject_message(Client& client, std::string_view code, std::string_view message);
  void join(Client& client, std::string name, const std::string& token);
  // Builds the client's tick JSON into payload_, after protocol::kMaxFrameHeader bytes of
  // headroom where the WebSocket header is written in place.
  void build_view(Client& client);
  // HTTP polling (game_http_api.cpp).
  std::optional<protocol::HttpResponse> handle_session_request(const protocol::HttpRequest& request, ConnId conn);
  protocol::HttpResponse create_session(const protocol::HttpRequest& request, ConnId conn);
  void deliver_backlogs();
  void expire_sessions(std::uint64_t now_ms);
  void on_poll_gone(ConnId conn);
  static std::string take_backlog(HttpSession& session);
  void erase_session(std::unordered_map<std::string, HttpSession>::iterator it);
  // Memory freed by many sessions at once goes back to the OS, not only to the heap.
  void return_freed_memory();
  void leave(Client& client);
  void forget_player(game::EntityId player);
  // The player's client is gone: keep it for the reconnect window, then forget it.
  void detach(game::EntityId player);
  void expire_detached(std::uint64_t now_ms);
  void restore_saved_players();
  void save_players() const;
  void sample_stats();
  std::string new_token();
  void remember_token(const std::string& token, game::EntityId player);
  void send(ConnId id, const std::string& text);

  Server& server_;
  const config::Config& config_;
  game::World world_;
  GameBridge bridge_;
  TickDriver ticks_;
  GameStats stats_;
  std::unordered_map<ConnId, Client> clients_;  // node-based: Client* stays valid until erased
  std::unordered_map<std::string, HttpSession> sessions_;
  std::size_t waiting_polls_ = 0;
  std::unordered_map<std::string, int> sessions_by_ip_;
  std::size_t sessions_freed_ = 0;  // sessions or backlogs freed since memory was last returned to the OS
  // Reconnect tokens. A player lives in the world while a connection owns it or, after
  // the connection dropped, until its detach deadline: then the token can claim it back.
  std::unordered_map<std::string, game::EntityId> players_by_token_;
  // Points at the key in players_by_token_ (map keys never move): one copy of each token.
  std::unordered_map<game::EntityId, const std::string*> token_by_player_;
  std::unordered_map<game::EntityId, Client*> owner_;           // attached players
  std::unordered_map<game::EntityId, std::uint64_t> detached_;  // player -> expiry (loop ms)
  std::vector<game::PlayerInput> inputs_;  // scratch: this tick's input of every player
  std::string hello_;                     // encoded once: the world's static description
  std::string hello_frame_;               // ... and framed once for WebSocket clients
  std::string payload_;                   // scratch for one client's tick frame: headroom, then JSON
  StatsHistory history_;
  // Long-poll deadlines and idle sessions are checked here as well as on every tick, so a
  // low tick rate does not stretch a client's timeout.
  uv_timer_t poll_timer_;
  std::random_device random_;  // tokens and session ids: wholly random, 128 bits each
  // Set once the world runs: only then may stop() save it over the state file (a daemon that
  // never started, e.g. its port was taken, must not replace the saved players with none).
  bool started_ = false;
};

}  // namespace skirmish::server
