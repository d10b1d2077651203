// One world of the daemon: its tick (simulation, encoding, fan-out), the directory of its
// players' tokens, its hello and its statistics. GameService owns game.worlds of these and
// decides which viewer is in which; a world knows nothing of the others or of transports.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"
#include "server/player_directory.h"
#include "server/stats_history.h"
#include "server/world_placement.h"
#include "server/world_tick.h"

namespace skirmish::server {

class GameWorld {
 public:
  // `connections`: the process's open connections, for the statistics' samples. The world
  // ticks on loop `home` of `runner`.
  GameWorld(std::size_t home, const config::Config& config, std::string name, std::uint64_t seed,
            std::function<std::size_t()> connections, FanOutRunner& runner, std::recursive_mutex& mutex);
  GameWorld(const GameWorld&) = delete;
  GameWorld& operator=(const GameWorld&) = delete;

  const std::string& name() const { return name_; }
  WorldTick& tick() { return tick_; }
  const WorldTick& tick() const { return tick_; }
  game::World& world() { return tick_.world(); }
  const game::World& world() const { return tick_.world(); }
  PlayerDirectory& directory() { return directory_; }
  const PlayerDirectory& directory() const { return directory_; }
  // The hello message (JSON, naming this world), encoded once.
  const std::string& hello() const { return hello_; }
  const StatsHistory& history() const { return history_; }
  WorldLoad load() const { return {world().player_count(), capacity_}; }
  bool full() const { return world().player_count() >= capacity_; }

  void start() { tick_.start(); }
  void stop() { tick_.stop(); }

 private:
  void sample_stats();

  std::string name_;
  std::size_t capacity_;
  std::function<std::size_t()> connections_;
  PlayerDirectory directory_;
  WorldTick tick_;
  std::string hello_;
  StatsHistory history_;
  std::uint64_t sampled_second_ = 0;  // the game second of the last stats sample
};

}  // namespace skirmish::server
