// This process as one member of a fleet whose directory is Redis (fleet.redis_url). Every
// heartbeat it publishes its worlds (name, players, capacity, tick rate, URL) under a key that
// lives three heartbeats, and reads everyone else's; it places players anywhere in the fleet
// with seat reservations that Redis checks atomically (players + live reservations below the
// capacity), and keeps player records (token -> name, score, ...) in Redis so a player whose
// process died resumes on another.
//
// Redis is only ever talked to from loop 0, asynchronously (RedisClient); when it is down the
// process serves its own worlds, lists only those, and places players locally without seats.
// Threads: every method is called with the game's mutex held, from any loop; what must reach
// Redis is posted to loop 0, and every answer is handled there with the mutex held again.
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "server/loop_inbox.h"
#include "server/redis_client.h"
#include "server/saved_players.h"

namespace skirmish::server {

class MetricsText;

// A world somewhere in the fleet, as its process published it.
struct FleetWorld {
  std::string process;  // the publishing process's id
  std::string name;
  std::string url;  // where a browser opens its WebSocket: ws(s)://host:port/ws?world=NAME
  std::size_t players = 0;
  std::size_t capacity = 0;
  int tick_rate = 0;
  bool local = false;  // one of this process's own
};

class FleetDirectory {
 public:
  struct Hooks {
    // This process's worlds now (process, url and local filled in by the directory too).
    std::function<std::vector<FleetWorld>()> worlds;
    // The records of the players this process holds, for Redis (each with its world): those
    // playing now (`online_only`), or every one, away ones too.
    std::function<std::vector<SavedPlayer>(bool online_only)> players;
    // A record this process went to refresh names another process: the player was resumed
    // there since, and the copy the record was taken from (`stale`: its token, world, id and
    // hold) is stale, if this process still holds it so (called on loop 0, mutex held).
    std::function<void(const SavedPlayer& stale)> taken;
  };

  FleetDirectory(uv_loop_t* loop, const config::Config& config, std::recursive_mutex& mutex, Hooks hooks);
  FleetDirectory(const FleetDirectory&) = delete;
  FleetDirectory& operator=(const FleetDirectory&) = delete;

  // Loop 0: connects and starts the heartbeat.
  void start();
  // Loop 0, as the graceful stop begins: out of the directory at once (nobody is placed here
  // any more), and every player's record written as it is now, for resuming elsewhere.
  void leave();
  // Loop 0: leaves (if it has not) and disconnects. Destroy the directory only after the loop
  // has run again.
  void stop();

  const std::string& id() const { return id_; }
  // In the fleet: Redis answers and took this process's entry and its place in the set of
  // processes. While not, the process places players only in its own worlds (Redis down, or
  // refusing our writes: out of memory, a read-only replica, a set of another type).
  bool up() const { return up_ && listing_ == Listing::Listed; }
  // Redis answers (reads work, whether or not it takes our writes).
  bool connected() const { return up_; }
  // "up"; "down"; "joining" (answering, our entry not yet answered); or "refusing writes".
  std::string state() const;
  // The other processes' worlds as of the last heartbeat; none while Redis is down.
  const std::vector<FleetWorld>& remote_worlds() const { return remote_; }
  // Live processes in the fleet, this one included (1 while Redis is down).
  std::size_t processes() const { return up_ ? remote_processes_ + 1 : 1; }
  // Seats reserved in one of our worlds and not yet taken, as last seen (a direct join,
  // without a seat, must leave them free).
  std::size_t reserved(const std::string& world) const;

  // Whether `seat` is one this process reserved in its own world `world` (a /place answered
  // here) whose hold is not over; then it is used up. For a join whose seat Redis could not
  // check: a seat we gave out ourselves is known good without asking.
  bool take_own_seat(const std::string& world, const std::string& seat);

  // A seat in the first of `candidates` (in the order to try) that has room. `done` runs on
  // loop 0 with the mutex held: the world and the seat, or nullopt with `full` true when every
  // candidate refused, false when Redis failed (then the caller places locally).
  using Reserved = std::function<void(std::optional<std::pair<FleetWorld, std::string>>, bool full)>;
  void reserve(std::vector<FleetWorld> candidates, Reserved done);
  // A seat in our world `world` for a player joining here: the seat `held` if it is still
  // reserved there (Held), else a new one if the world has room (Taken), else Full; Failed
  // when Redis cannot say (the caller then judges by what it knows: `held` comes back). `done`
  // runs on loop 0 with the mutex held, with the seat.
  enum class Claim { Held, Taken, Full, Failed };
  using Claimed = std::function<void(Claim, std::string seat)>;
  void claim(FleetWorld world, std::string held, Claimed done);
  // A player joined (or resumed in) our world `world`; `seat` is the reservation it came with
  // ("" for none). The world's count and the reservation change together in Redis, and
  // `record` is written there for resuming elsewhere.
  void joined(const std::string& world, const std::string& seat, SavedPlayer record);
  // Whether Redis has taken the record of this process's last join of `token` (false while
  // that write is unanswered or failed, or Redis was away for it).
  bool join_taken(const std::string& token) const { return untaken_joins_.count(token) == 0; }
  // A player's record changed in a way worth keeping now (its connection went: it may come
  // back on another process).
  void update_player(SavedPlayer record);
  // The player left for good: its record goes, if this process wrote it last (a record
  // another process wrote since is that process's player).
  void forget_player(const std::string& token);
  // The record of `token` from Redis, and the id of the process that wrote it last (the one
  // the player is played on, or was last); nullopt when there is none or Redis cannot say.
  // `done` runs on loop 0 with the mutex held.
  using Found = std::function<void(std::optional<SavedPlayer>, std::string process)>;
  void find_player(const std::string& token, Found done);

  // A copy of a player was dropped here as stale (another process resumed the player since).
  void count_stale_copy() { stale_copies_++; }

  void write_metrics(MetricsText& m) const;
  void describe(nlohmann::json& health) const;

 private:
  static void on_heartbeat(uv_timer_t* t);
  // Loop 0: run `task` there with the mutex held.
  void on_loop0(std::function<void()> task);
  void on_redis(bool up);
  void heartbeat();
  void publish();
  void refresh();
  // Take: the player is played here from now on (a join, a resume), whoever wrote its record
  // before. Keep: a refresh, written only while the record is absent or ours; a record another
  // process wrote since is left alone, and hooks_.taken told.
  enum class Write : std::uint8_t { Take, Keep };
  void write_records(const std::vector<SavedPlayer>& records, Write how);
  // The records of the players online here, refreshed; those whose join or resume here Redis
  // has not taken yet (the write not yet answered, Redis away, or the write failed) taken
  // while they are still played here (their joins are the newest). Such a player away by now
  // is refreshed once and forgotten: it may have been played elsewhere since.
  void write_online_records();
  // A join whose record Redis has not taken yet: a refresh or the close of its connection
  // takes the record rather than refreshing it (see untaken_joins_).
  void remember_take(const std::string& token);
  // A write's answer: an error is counted and logged (see note_error).
  RedisClient::Callback checked_write();
  // Our entry's answer, then our place in the set's: listed, or refused (logged when that
  // changes).
  void entry_answered(const RedisClient::Reply& entry, const RedisClient::Reply& member);
  // Counts an error answer and logs it, unless one to the same `what` was logged in the last
  // minute (log_quietly).
  void note_error(const std::string& what, const std::string& error);
  // A warning, logged at most once a minute per label (the next says how many were not).
  void log_quietly(const std::string& label, const std::string& line);
  // The other processes' worlds are not known (Redis down, or the directory unreadable).
  void forget_others();
  // EVAL of the seat script for world `w`: keep `held`, or take `fresh`.
  // `joining`: a player takes the place now (see kSeatScript).
  std::vector<std::string> seat_command(const FleetWorld& w, const std::string& held, const std::string& fresh,
                                        bool joining) const;
  // One reserve(): the worlds to try in order, and whether Redis failed for one of them.
  struct Placing {
    std::vector<FleetWorld> candidates;
    bool failed = false;
  };
  void try_reserve(std::shared_ptr<Placing> placing, std::size_t at, Reserved done);
  std::string key(const std::string& what) const { return "skirmish:" + what; }
  std::string world_key(const char* what, const std::string& process, const std::string& world) const {
    return "skirmish:" + std::string(what) + ":" + process + ":" + world;
  }

  uv_loop_t* loop_;
  const config::Config& config_;
  std::recursive_mutex& mutex_;
  Hooks hooks_;
  std::string id_;
  std::uint64_t entry_ttl_ms_;   // a process's entry: three heartbeats
  std::uint64_t record_ttl_ms_;  // a player's record: its reconnect window and the refresh period
  RedisClient redis_;
  LoopInbox inbox_;
  uv_timer_t heartbeat_;
  std::uint64_t beats_ = 0;
  bool stopping_ = false;
  bool left_ = false;
  std::atomic<bool> up_{false};  // Redis answers
  // Whether Redis took our entry at the last heartbeat (Unknown until it answers).
  enum class Listing : std::uint8_t { Unknown, Listed, Refused };
  std::atomic<Listing> listing_{Listing::Unknown};
  // Under the mutex.
  std::vector<FleetWorld> remote_;
  std::size_t remote_processes_ = 0;
  std::map<std::string, std::size_t> reserved_;  // our world -> seats held in it
  struct OwnSeat {
    std::string world;
    std::chrono::steady_clock::time_point until;  // its hold ends (fleet.seat_hold_ms)
  };
  std::map<std::string, OwnSeat> own_seats_;  // seat -> ..., reserved by us in our worlds
  // Tokens of players joined or resumed here whose record Redis has not taken: from the join
  // until its write is answered, and for as long as Redis is away or fails the write. Their
  // refreshes take the record while the player is played here (or as its connection closes);
  // once away, one refresh and the token is forgotten. Pruned to the players held here when
  // it outgrows them by 64.
  std::set<std::string> untaken_joins_;
  std::uint64_t seats_taken_ = 0, seats_full_ = 0, seats_failed_ = 0, records_found_ = 0, stale_copies_ = 0;
  std::uint64_t redis_errors_ = 0;  // error answers to our commands
  std::string refused_why_;         // Redis's answer when it refused our entry
  RedisClient::Reply entry_reply_;  // this heartbeat's answer to our entry, until the set's comes
  // Per label of log_quietly (a handful of fixed ones): the lines not logged since the last
  // one that was, and when that was (loop time).
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> logged_errors_;
};

}  // namespace skirmish::server
