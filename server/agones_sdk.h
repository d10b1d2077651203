// The daemon as an Agones game server: it tells the SDK sidecar (REST, on localhost) that it is
// Ready once it listens (retried each second until the sidecar answers: the sidecar may start
// after us), Health every 2 s, its player count as the label "players" when it changes, and
// Shutdown at the end of a graceful stop. With each Health it reads its GameServer: an
// allocation that sets the label skirmish/world names the world new players go to. Nothing
// waits on the sidecar: a sidecar that is down or answers errors costs a log line (once per
// kind of trouble), never the game.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "server/local_http_client.h"

namespace skirmish::server {

class MetricsText;

class AgonesSdk {
 public:
  // `players`: how many players the daemon holds now. `on_world`: the GameServer's label
  // skirmish/world changed (to "" when it went).
  AgonesSdk(uv_loop_t* loop, int port, std::function<std::size_t()> players,
            std::function<void(const std::string&)> on_world = {});
  // The label an allocation sets (GameServerAllocation metadata) to pick the world.
  static constexpr const char* kWorldLabel = "skirmish/world";
  AgonesSdk(const AgonesSdk&) = delete;
  AgonesSdk& operator=(const AgonesSdk&) = delete;
  // Destroy it only once the loop has run after shutdown() (its timer is closed there).

  // Once listening: Ready (until it is taken), then Health and the player label every 2 s.
  void start();
  // The graceful stop is done: Shutdown. The request keeps the loop alive until it is answered
  // or times out (2 s); the timer is closed.
  void shutdown();

  bool ready() const { return ready_; }
  void write_metrics(MetricsText& m) const;

  static constexpr std::uint64_t kHealthPeriodMs = 2000;
  static constexpr int kReadyTimeoutMs = 30000;

 private:
  static void on_timer(uv_timer_t* t);
  void send_ready();
  void beat();
  // Logs the first failure of each kind of call, and its first success after failures.
  void note(int kind, const char* what, int status);
  enum Kind { kReady, kHealth, kLabel, kShutdown, kGameServer, kKinds };

  LocalHttpClient http_;
  std::function<std::size_t()> players_;
  std::function<void(const std::string&)> on_world_;
  std::string world_label_;  // as last read
  uv_timer_t timer_;
  std::atomic<bool> ready_{false};  // read by /metrics on any loop
  bool ready_in_flight_ = false;
  std::uint64_t beats_before_ready_ = 0;
  bool stopping_ = false;
  std::int64_t label_sent_ = -1;  // the player count the sidecar last took; -1: none
  bool failing_[kKinds] = {};
  std::atomic<std::uint64_t> calls_{0}, failures_{0};
};

}  // namespace skirmish::server
