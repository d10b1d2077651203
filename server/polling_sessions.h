// The game over plain HTTP (docs/protocol.md, "Polling"): sessions instead of sockets, tick
// frames kept in a per-session backlog, delivered by short polls at once or by long polls
// the moment a tick exists. Waiting long polls are deferred HTTP responses on the event
// loop, woken by the tick: no threads, no busy waiting. Each session is one viewer.
#pragma once

#include <uv.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "protocol/http_types.h"
#include "server/game_port.h"
#include "server/app_host.h"

namespace skirmish::server {

class PollingSessions {
 public:
  // `mutex`: the game's, held by the server around routes; the session timer takes it too.
  PollingSessions(uv_loop_t* loop, AppHost& server, const config::Config& config, GamePort& game,
                  std::recursive_mutex& mutex);
  PollingSessions(const PollingSessions&) = delete;
  PollingSessions& operator=(const PollingSessions&) = delete;

  // Starts the timer that answers long polls whose time is up and expires idle sessions.
  void start();
  void stop();
  // A graceful stop: every session gets the notice `closing` (1001), and every waiting long
  // poll is answered now, with "Connection: close".
  void tell_all_stopping();
  std::size_t size() const { return sessions_.size(); }
  // A long poll (/session/ID/longpoll), which may wait for news with its connection open.
  static bool is_long_poll(const protocol::HttpRequest& request);
  std::size_t waiting() const { return waiting_polls_; }

 private:
  struct Session;
  // What the game sees of a session: frames go to its backlog, messages to the HTTP answer
  // being built (replies to an input request) or else to its notices.
  class Sink final : public ViewerSink {
   public:
    Sink(PollingSessions& owner, Session& session) : owner_(owner), session_(session) {}
    Readiness readiness() const override;
    void send_frame(std::string_view payload) override;
    void send_message(std::string_view json) override;
    void start_over(std::string_view hello) override;
    void close_for_policy(std::string_view) override {}  // HTTP answers each bad request with its 400
    // Its backlog and notices are the game's state: frames are built for it with the game's
    // mutex held, on the world's home loop (answers go to their connection's loop).
    bool needs_game_lock() const override { return true; }
    bool answers_later() const override { return false; }

   private:
    PollingSessions& owner_;
    Session& session_;
  };
  struct Session {
    std::string id;
    ViewerId viewer = 0;
    std::unique_ptr<Sink> sink;
    // Tick frames not yet delivered, comma-separated: one buffer whose size is what waits,
    // released whenever it is taken.
    std::string backlog;
    std::size_t backlog_ticks = 0;
    std::vector<std::string> notices;  // news that is not a tick (session_taken), delivered first
    static constexpr std::size_t kMaxNotices = 32;  // one or two in any real session
    std::vector<std::string>* replies = nullptr;  // while an input request is handled
    // The backlog overflowed with nobody asking: no frames are built for this session until
    // it polls again, and then it gets one full frame.
    bool dormant = false;
    bool needs_full = false;           // frames it was built were dropped: the next lists its view in full
    std::string ip;                    // who opened it: polling.max_sessions_per_ip
    ConnId waiting = 0;                // a long poll waiting for news, or 0
    bool waiting_keep_alive = true;    // what that request asked for
    std::uint64_t wait_until_ms = 0;
    std::uint64_t last_seen_ms = 0;    // last request: sessions expire after the reconnect window
  };
  using SessionMap = std::unordered_map<std::string, std::unique_ptr<Session>>;

  std::optional<protocol::HttpResponse> handle(const protocol::HttpRequest& request, const RequestOrigin& origin);
  protocol::HttpResponse create(const protocol::HttpRequest& request, const RequestOrigin& origin);
  std::optional<protocol::HttpResponse> poll(Session& session, const protocol::HttpRequest& request, ConnId conn,
                                             bool long_poll);
  protocol::HttpResponse input(Session& session, const protocol::HttpRequest& request);
  // What the game answers `msg` from this session (welcome, error, pong...), rather than
  // its notices; the session is back to its notices however the handling ends.
  std::vector<std::string> handle_collecting(Session& session, protocol::ClientMsg& msg);
  void on_frame(Session& session, std::string_view payload);
  // Answers a waiting long poll with what the session holds (possibly nothing).
  void answer_waiting(Session& session, bool keep_alive = true);
  static std::string take_backlog(Session& session);
  // Queues a message that answers none of the session's requests (session_taken, closing).
  static void add_notice(Session& session, std::string_view json);
  void expire(std::uint64_t now_ms);
  void on_poll_gone(ConnId conn);
  void erase(SessionMap::iterator it);
  // Memory freed by many sessions at once goes back to the OS, not only to the heap.
  void return_freed_memory();

  AppHost& server_;
  const config::Config& config_;
  GamePort& game_;
  std::recursive_mutex& mutex_;
  SessionMap sessions_;
  std::unordered_map<ConnId, Session*> waiting_by_conn_;
  std::size_t waiting_polls_ = 0;
  std::unordered_map<std::string, int> sessions_by_ip_;
  std::size_t sessions_freed_ = 0;  // sessions or backlogs freed since memory was last returned to the OS
  uv_timer_t timer_;
};

}  // namespace skirmish::server
