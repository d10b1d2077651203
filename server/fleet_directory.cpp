#include "server/fleet_directory.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>
#include <set>

#include "config/endpoint_url.h"
#include "server/metrics_text.h"

namespace skirmish::server {

using nlohmann::json;

namespace {

// A place in one world, atomically, when the world's process is alive (its entry is there).
// Reservations expire by Redis's own clock, so the processes' clocks do not matter.
// ARGV[5] 'reserve' (POST /place): a new seat (ARGV[3]) held for ARGV[4] ms, when the players
// plus the reservations not yet expired leave room. 'join' (a player joining now): the seat it
// holds (ARGV[2]) if it has not expired, else room as above; either way the place becomes a
// player at once (the seat gone, the count one up), so one seat lets in one player only.
// KEYS: players count, seats, process entry. ARGV: capacity, seat held ('' for none), new seat
// id, hold ms, mode. 1: the held seat was used; 2: a new place; 0: full; -1: no process.
constexpr const char* kSeatScript = R"lua(
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local joining = ARGV[5] == 'join'
if joining and ARGV[2] ~= '' and redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('INCR', KEYS[1])
  return 1
end
local players = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if players + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 0 end
if joining then
  redis.call('INCR', KEYS[1])
  return 2
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) * 2)
return 2
)lua";

// A seat became a player: the count and the reservation change together, so no one in
// between sees the seat free and the player not yet counted.
// KEYS: players count, seats. ARGV: players, seat id ("" for none), count ttl ms.
constexpr const char* kTakeSeatScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
)lua";

// The start of a script that changes a player's record only if this process may: it returns 0
// when the record (KEYS[1]) names another process than ARGV[1] (a malformed record, or one
// without a process, is anyone's). One rule for every such change, so they cannot disagree.
constexpr const char* kUnlessAnotherProcess = R"lua(
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record.process) == 'string' and record.process ~= ARGV[1] then
    return 0
  end
end
)lua";

// A refresh of a player's record: written only while the record is absent or this process's,
// so that a process holding a stale copy (the player resumed elsewhere since) never writes
// over the newer record. Returns 0 when the record is another process's.
// KEYS: the record. ARGV: this process's id, the record, ttl ms.
const std::string kKeepRecordScript = std::string(kUnlessAnotherProcess) + R"lua(
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua";

// A player's record deleted (it left), unless another process wrote it since.
// KEYS: the record. ARGV: this process's id.
const std::string kForgetRecordScript = std::string(kUnlessAnotherProcess) + R"lua(
return redis.call('DEL', KEYS[1])
)lua";

// Drops expired reservations and counts the rest, for each seats key given.
constexpr const char* kCountSeatsScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  out[i] = redis.call('ZCARD', k)
end
return out
)lua";

// The other processes' entries (KEYS), read within bounds: each as it is when it is a string of
// at most ARGV[1] bytes and the answer so far leaves room for it within ARGV[2] bytes; its
// length (an integer) when it is skipped; false (a nil) when it is gone or not a string. So one
// foreign entry of any size costs the answer nothing (see RedisClient's bounds on answers).
constexpr const char* kReadEntriesScript = R"lua(
local out, total = {}, 0
local most, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, k in ipairs(KEYS) do
  if redis.call('TYPE', k).ok ~= 'string' then
    out[i] = false
  else
    local n = redis.call('STRLEN', k)
    if n > most or total + n > budget then
      out[i] = n
    else
      out[i] = redis.call('GET', k)
      total = total + n
    end
  end
end
return out
)lua";

// The members of the set of processes (KEYS[1]) that look like our ids (see plausible_id), at
// most ARGV[1] of them, in the set's own order: junk in the set never reaches us, however much
// of it there is, and the view does not change from one heartbeat to the next.
constexpr const char* kReadProcessesScript = R"lua(
local out, most = {}, tonumber(ARGV[1])
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if #m == 12 and not m:find('[^0-9a-f]') then
    out[#out + 1] = m
    if #out == most then break end
  end
end
return out
)lua";

// Process ids are ours: random_hex(6). Anything else in the set is not one of ours.
bool plausible_id(const std::string& id) {
  if (id.size() != 12) return false;
  for (const char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Printable ASCII of at most `max` bytes: safe to put into JSON and in front of players.
bool printable(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// A count that fits: a non-negative integer up to `max`.
std::optional<std::size_t> count_of(const json& v, std::size_t max) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) return std::nullopt;
  const auto n = v.get<std::uint64_t>();
  if (n > max) return std::nullopt;
  return static_cast<std::size_t>(n);
}

std::string random_hex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(rd() & 0xff));
    out += b;
  }
  return out;
}

config::RedisEndpoint endpoint(const config::Config& c) {
  std::string why;
  if (auto parsed = config::parse_redis_url(c.fleet.redis_url, why)) return *parsed;
  config::RedisEndpoint fallback;  // not reached: the configuration checked the URL
  fallback.host = "127.0.0.1";
  return fallback;
}

// A world of a process's published entry; nullopt when it is not what our processes publish
// (whoever can write to Redis can write anything there, and it must not cost us the process).
std::optional<FleetWorld> world_from_json(const json& w, const std::string& process) {
  if (!w.is_object()) return std::nullopt;
  const auto name = w.find("name");
  const auto url = w.find("url");
  if (name == w.end() || !name->is_string() || url == w.end() || !url->is_string()) return std::nullopt;
  FleetWorld out;
  out.process = process;
  out.name = name->get<std::string>();
  out.url = url->get<std::string>();
  if (!printable(out.name, 64) || !printable(out.url, 512)) return std::nullopt;
  if (out.url.rfind("ws://", 0) != 0 && out.url.rfind("wss://", 0) != 0) return std::nullopt;
  // Ours end in /ws?world=NAME, which /place extends with "&seat=...".
  if (out.url.find("/ws?world=") == std::string::npos) return std::nullopt;
  const auto players = count_of(w.value("players", json()), 1u << 30);
  const auto capacity = count_of(w.value("capacity", json()), 1u << 30);
  const auto tick_rate = count_of(w.value("tick_rate", json()), 1000);
  if (!players || !capacity || !tick_rate) return std::nullopt;
  out.players = *players;
  out.capacity = *capacity;
  out.tick_rate = static_cast<int>(*tick_rate);
  return out;
}

// What one process may put in the fleet's view at most, and the view at most: a hostile
// entry must not make every /place try thousands of worlds.
constexpr std::size_t kMaxWorldsPerProcess = 64;
constexpr std::size_t kMaxFleetWorlds = 4096;
// A process's entry is a few KiB (kMaxWorldsPerProcess worlds at most): a larger one is not
// ours to read every heartbeat (a 9 MB one held the loop 150-240 ms a beat).
constexpr std::size_t kMaxEntryBytes = 64 * 1024;
// All the entries read in one heartbeat, and the processes read (more would be more worlds
// than kMaxFleetWorlds anyway).
constexpr std::size_t kMaxEntriesBytes = 8u << 20;
constexpr std::size_t kMaxProcessesRead = 4096;

}  // namespace

FleetDirectory::FleetDirectory(uv_loop_t* loop, const config::Config& config, std::recursive_mutex& mutex, Hooks hooks)
    : loop_(loop),
      config_(config),
      mutex_(mutex),
      hooks_(std::move(hooks)),
      id_(random_hex(6)),
      entry_ttl_ms_(3 * static_cast<std::uint64_t>(config.fleet.heartbeat_ms)),
      record_ttl_ms_(static_cast<std::uint64_t>(config.session.reconnect_window_ms) +
                     10 * static_cast<std::uint64_t>(config.fleet.heartbeat_ms)),
      redis_(loop, endpoint(config).host, endpoint(config).port, config.fleet.heartbeat_ms),
      inbox_(loop) {
  uv_timer_init(loop_, &heartbeat_);
  heartbeat_.data = this;
  redis_.set_on_change([this](bool up) { on_redis(up); });
  const config::RedisEndpoint where = endpoint(config);
  redis_.set_credentials(where.username, where.password);
}

void FleetDirectory::start() {
  spdlog::info("fleet: this process is {} in the directory at {}", id_, config::redact_redis_url(config_.fleet.redis_url));
  redis_.start();
  const auto period = static_cast<std::uint64_t>(config_.fleet.heartbeat_ms);
  uv_timer_start(&heartbeat_, on_heartbeat, period, period);
}

void FleetDirectory::leave() {
  if (left_) return;
  left_ = true;
  if (!redis_.up()) {
    spdlog::warn("fleet: stopping while Redis is down: the players' records are not written now (another process "
                 "resumes them only from what Redis last took)");
    return;
  }
  // Out of the directory now rather than when the entry expires: nobody is sent here.
  redis_.command({"SREM", key("processes"), id_});
  std::vector<std::string> del{"DEL", key("process:" + id_)};
  for (const auto& w : hooks_.worlds()) {
    del.push_back(world_key("players", id_, w.name));
    del.push_back(world_key("seats", id_, w.name));
  }
  redis_.command(del);
  // The players' records stay, fresh: the players are told to go (1001) and may resume on
  // another process within moments. Written now, not at the end of the stop, so that a
  // record written there by then is not overwritten by this one.
  write_online_records();
}

void FleetDirectory::stop() {
  if (stopping_) return;
  leave();
  // What is still waiting for loop 0 (records of players who just went) goes out first.
  inbox_.close();
  stopping_ = true;
  up_ = false;
  redis_.stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_), nullptr);
}

void FleetDirectory::on_loop0(std::function<void()> task) {
  inbox_.post([this, task = std::move(task)] {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (stopping_) return;
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("fleet: {}", e.what());  // a bug, or something odd from Redis: not the process's end
    }
  });
}

void FleetDirectory::on_heartbeat(uv_timer_t* t) {
  auto* self = static_cast<FleetDirectory*>(t->data);
  std::lock_guard<std::recursive_mutex> lock(self->mutex_);
  self->heartbeat();
}

void FleetDirectory::on_redis(bool up) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  up_ = up;
  listing_ = Listing::Unknown;
  if (!up) {
    // Stale entries would send players to processes that may be gone: only ours are listed.
    // Reservations can be neither made nor checked: direct joins need not leave room for them
    // (a seat this process gave out still lets its holder in, up to game.max_players).
    forget_others();
    reserved_.clear();
    return;
  }
  if (left_) return;  // stopping: not back into the directory
  heartbeat();  // "joined the directory" once Redis has taken the entry
  // What changed while Redis was away: the records of those playing here, afresh. (Away ones
  // may be playing on another process by now, whose record is newer.)
  write_online_records();
}

void FleetDirectory::heartbeat() {
  if (stopping_ || left_ || !redis_.up()) return;
  beats_++;
  publish();
  refresh();
  // The records of players playing here are refreshed every few beats (and written on each
  // join and each disconnect): their TTL covers the gap. Away players' records are left to
  // run out: such a player may be playing on another process now, whose record is newer.
  if (beats_ % 5 == 0) write_online_records();
}

void FleetDirectory::publish() {
  const auto worlds = hooks_.worlds();
  json list = json::array();
  std::vector<std::string> count_seats{"EVAL", kCountSeatsScript, std::to_string(worlds.size())};
  const std::string ttl = std::to_string(entry_ttl_ms_);
  for (const auto& w : worlds) {
    list.push_back({{"name", w.name}, {"players", w.players}, {"capacity", w.capacity}, {"tick_rate", w.tick_rate},
                    {"url", w.url}});
    redis_.command({"SET", world_key("players", id_, w.name), std::to_string(w.players), "PX", ttl}, checked_write());
    count_seats.push_back(world_key("seats", id_, w.name));
  }
  // The process's own address: its worlds' URLs without the path. The entry before the set's
  // member: a reader who finds the member and no entry drops the member.
  const std::string url = worlds.empty() ? std::string() : worlds.front().url.substr(0, worlds.front().url.find("/ws?"));
  // Both answers decide whether the others can see us (they come in order).
  redis_.command({"SET", key("process:" + id_), json{{"id", id_}, {"url", url}, {"worlds", list}}.dump(), "PX", ttl},
                 [this](const RedisClient::Reply& r) {
                   std::lock_guard<std::recursive_mutex> lock(mutex_);
                   entry_reply_ = r;
                 });
  redis_.command({"SADD", key("processes"), id_}, [this](const RedisClient::Reply& r) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    entry_answered(entry_reply_, r);
  });
  std::vector<std::string> names;
  for (const auto& w : worlds) names.push_back(w.name);
  redis_.command(count_seats, [this, names](const RedisClient::Reply& r) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (r.kind == RedisClient::Reply::Kind::Error) note_error("counting our seats", r.text);
    if (r.kind != RedisClient::Reply::Kind::Array || r.elements.size() != names.size()) return;
    for (std::size_t i = 0; i < names.size(); ++i) {
      reserved_[names[i]] = static_cast<std::size_t>(std::max(0LL, r.elements[i].integer));
    }
  });
}

void FleetDirectory::refresh() {
  // One more than kMaxProcessesRead: this process's own id is among them.
  redis_.command({"EVAL", kReadProcessesScript, "1", key("processes"), std::to_string(kMaxProcessesRead + 1)},
                 [this](const RedisClient::Reply& members) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (stopping_ || members.kind == RedisClient::Reply::Kind::Failed) return;  // Redis went: on_redis clears the view
    if (members.kind != RedisClient::Reply::Kind::Array) {
      // The view cannot be read (the set is of another type, say): an old one would keep
      // dead processes in it for good.
      note_error("reading the fleet's processes", members.kind == RedisClient::Reply::Kind::Error ? members.text : "not a set");
      forget_others();
      return;
    }
    std::vector<std::string> ids;
    std::vector<std::string> keys;
    for (const auto& m : members.elements) {
      if (m.kind != RedisClient::Reply::Kind::String || m.text == id_) continue;
      if (!plausible_id(m.text)) continue;  // not one of ours: left alone
      if (ids.size() == kMaxProcessesRead) break;  // (the script's bound, should something else answer)
      ids.push_back(m.text);
      keys.push_back(key("process:" + m.text));
    }
    if (ids.empty()) {
      forget_others();
      return;
    }
    std::vector<std::string> read{"EVAL", kReadEntriesScript, std::to_string(keys.size())};
    read.insert(read.end(), keys.begin(), keys.end());
    read.push_back(std::to_string(kMaxEntryBytes));
    read.push_back(std::to_string(kMaxEntriesBytes));
    redis_.command(read, [this, ids](const RedisClient::Reply& entries) {
      std::lock_guard<std::recursive_mutex> relock(mutex_);
      if (stopping_ || entries.kind == RedisClient::Reply::Kind::Failed) return;
      if (entries.kind != RedisClient::Reply::Kind::Array || entries.elements.size() != ids.size()) {
        note_error("reading the fleet's entries", entries.kind == RedisClient::Reply::Kind::Error ? entries.text : "not a list");
        forget_others();
        return;
      }
      std::vector<FleetWorld> worlds;
      std::size_t alive = 0;
      std::vector<std::string> gone{"SREM", key("processes")};
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto& e = entries.elements[i];
        if (e.kind == RedisClient::Reply::Kind::Integer) {  // skipped by the script: not read
          const bool oversized = static_cast<std::size_t>(e.integer) > kMaxEntryBytes;
          // Past the heartbeat's budget it is a live process all the same (its worlds unread).
          if (!oversized) alive++;
          const std::string why = oversized ? "over " + std::to_string(kMaxEntryBytes / 1024) + " KiB"
                                            : "past " + std::to_string(kMaxEntriesBytes >> 20) +
                                                  " MiB of entries read this heartbeat";
          log_quietly("an oversized entry", "fleet: skipped the entry of process " + ids[i] + ": " +
                                                std::to_string(e.integer) + " bytes, " + why);
          continue;
        }
        if (e.kind != RedisClient::Reply::Kind::String) {
          gone.push_back(ids[i]);  // its entry expired: it stopped beating
          continue;
        }
        const json doc = json::parse(e.text, nullptr, false);
        if (!doc.is_object() || !doc.contains("worlds") || !doc["worlds"].is_array()) continue;
        alive++;
        std::size_t taken = 0;
        for (const auto& w : doc["worlds"]) {
          if (taken == kMaxWorldsPerProcess || worlds.size() == kMaxFleetWorlds) break;
          if (auto world = world_from_json(w, ids[i])) {
            worlds.push_back(std::move(*world));
            taken++;
          }
        }
      }
      if (gone.size() > 2) redis_.command(gone, checked_write());
      remote_ = std::move(worlds);
      remote_processes_ = alive;
    });
  });
}

void FleetDirectory::write_online_records() {
  std::vector<SavedPlayer> taken, kept;
  std::set<std::string> online;
  for (auto& p : hooks_.players(true)) {
    online.insert(p.token);
    (untaken_joins_.count(p.token) ? taken : kept).push_back(std::move(p));
  }
  if (!untaken_joins_.empty()) {
    // Away ones since: whether they were played elsewhere meanwhile is not known here, so their
    // records are only refreshed (a newer one stays, and the copy here goes), and forgotten.
    for (auto& p : hooks_.players(false)) {
      if (untaken_joins_.count(p.token) && !online.count(p.token)) {
        untaken_joins_.erase(p.token);
        kept.push_back(std::move(p));
      }
    }
  }
  write_records(taken, Write::Take);
  write_records(kept, Write::Keep);
}

void FleetDirectory::remember_take(const std::string& token) {
  untaken_joins_.insert(token);
  // Bounded by the players held here: tokens of players gone since (expired, left, dropped)
  // are let go when the set outgrows them (counted from the worlds' numbers, so that a join
  // while Redis is away does not go through every player).
  std::size_t held_here = 0;
  for (const auto& w : hooks_.worlds()) held_here += w.players;
  if (untaken_joins_.size() <= held_here + 64) return;
  std::set<std::string> held;
  for (const auto& p : hooks_.players(false)) {
    if (untaken_joins_.count(p.token)) held.insert(p.token);
  }
  untaken_joins_ = std::move(held);
}

void FleetDirectory::write_records(const std::vector<SavedPlayer>& records, Write how) {
  const std::string ttl = std::to_string(record_ttl_ms_);
  for (const auto& p : records) {
    json record = player_to_json(p);
    record["process"] = id_;
    if (how == Write::Take) {
      // Until Redis has it, the join stays the newest: a write that fails is taken again at
      // the next refresh (or connection), not just refreshed.
      redis_.command({"SET", key("player:" + p.token), record.dump(), "PX", ttl},
                     [this, token = p.token](const RedisClient::Reply& r) {
                       std::lock_guard<std::recursive_mutex> lock(mutex_);
                       if (r.kind == RedisClient::Reply::Kind::Error) note_error("a write", r.text);
                       if (r.failed()) {
                         if (!stopping_) remember_take(token);
                       } else {
                         untaken_joins_.erase(token);
                       }
                     });
      continue;
    }
    redis_.command({"EVAL", kKeepRecordScript, "1", key("player:" + p.token), id_, record.dump(), ttl},
                   [this, stale = p](const RedisClient::Reply& r) {
                     std::lock_guard<std::recursive_mutex> lock(mutex_);
                     if (r.kind == RedisClient::Reply::Kind::Error) note_error("a write", r.text);
                     if (r.kind != RedisClient::Reply::Kind::Integer || r.integer != 0 || stopping_) return;
                     if (hooks_.taken) hooks_.taken(stale);
                   });
  }
}

RedisClient::Callback FleetDirectory::checked_write() {
  return [this](const RedisClient::Reply& r) {
    if (r.kind != RedisClient::Reply::Kind::Error) return;
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    note_error("a write", r.text);
  };
}

void FleetDirectory::entry_answered(const RedisClient::Reply& entry, const RedisClient::Reply& member) {
  using Kind = RedisClient::Reply::Kind;
  if (entry.kind == Kind::Failed || member.kind == Kind::Failed || stopping_) return;  // Redis went: on_redis says so
  if (entry.kind == Kind::Status && member.kind == Kind::Integer) {
    if (listing_ != Listing::Listed) spdlog::info("fleet: joined the directory as {}", id_);
    listing_ = Listing::Listed;
    refused_why_.clear();
    return;
  }
  redis_errors_++;
  const RedisClient::Reply& r = entry.kind != Kind::Status ? entry : member;
  const std::string why = r.kind == Kind::Error ? r.text : "an unexpected answer";
  if (listing_ != Listing::Refused) {
    spdlog::warn("fleet: Redis refuses this process's entry ({}); placing players only in this process's worlds "
                 "until it takes it",
                 why);
  }
  listing_ = Listing::Refused;
  refused_why_ = why;
}

void FleetDirectory::note_error(const std::string& what, const std::string& error) {
  redis_errors_++;
  log_quietly(what, "fleet: Redis refused " + what + ": " + error);
}

void FleetDirectory::log_quietly(const std::string& label, const std::string& line) {
  // Once a minute at most for one label, whatever the text: a key of another type is met every
  // heartbeat, and two commands under one label may be refused in turn with different texts
  // (a SET's and an EVAL's out-of-memory answers).
  constexpr std::uint64_t kQuietMs = 60'000;
  const std::uint64_t now = uv_now(loop_);
  auto [it, first] = logged_errors_.try_emplace(label);
  auto& [quiet, at] = it->second;
  if (!first && now - at < kQuietMs) {
    quiet++;
    return;
  }
  if (quiet > 0) {
    spdlog::warn("{} (and {} more like it since the last one logged)", line, quiet);
  } else {
    spdlog::warn("{}", line);
  }
  quiet = 0;
  at = now;
}

void FleetDirectory::forget_others() {
  remote_.clear();
  remote_processes_ = 0;
}

std::string FleetDirectory::state() const {
  if (!up_) return "down";
  switch (listing_.load()) {
    case Listing::Listed: return "up";
    case Listing::Refused: return "refusing writes";
    case Listing::Unknown: break;
  }
  return "joining";
}

std::size_t FleetDirectory::reserved(const std::string& world) const {
  const auto it = reserved_.find(world);
  return it == reserved_.end() ? 0 : it->second;
}

bool FleetDirectory::take_own_seat(const std::string& world, const std::string& seat) {
  const auto it = own_seats_.find(seat);
  if (it == own_seats_.end() || it->second.world != world || it->second.until <= std::chrono::steady_clock::now()) {
    return false;
  }
  own_seats_.erase(it);
  if (auto held = reserved_.find(world); held != reserved_.end() && held->second > 0) held->second--;
  return true;
}

void FleetDirectory::reserve(std::vector<FleetWorld> candidates, Reserved done) {
  auto placing = std::make_shared<Placing>();
  placing->candidates = std::move(candidates);
  on_loop0([this, placing, done = std::move(done)]() mutable { try_reserve(placing, 0, std::move(done)); });
}

void FleetDirectory::try_reserve(std::shared_ptr<Placing> placing, std::size_t at, Reserved done) {
  if (at >= placing->candidates.size()) {
    // Full, if every world said so; if Redis could not say for some, the caller judges ours.
    (placing->failed ? seats_failed_ : seats_full_)++;
    done(std::nullopt, !placing->failed);
    return;
  }
  const FleetWorld& w = placing->candidates[at];
  const std::string seat = random_hex(12);
  redis_.command(seat_command(w, "", seat, false),
                 [this, placing, at, seat, done = std::move(done)](const RedisClient::Reply& r) mutable {
                   std::lock_guard<std::recursive_mutex> lock(mutex_);
                   if (r.kind == RedisClient::Reply::Kind::Failed) {
                     seats_failed_++;
                     done(std::nullopt, false);  // Redis went: the caller places locally
                     return;
                   }
                   const FleetWorld& tried = placing->candidates[at];
                   if (r.kind != RedisClient::Reply::Kind::Integer || (r.integer < 0 && tried.process == id_)) {
                     // An error for this world (its keys of another type, say), or Redis lost
                     // our own entry (flushed, or it refuses our writes): not "full".
                     if (r.kind == RedisClient::Reply::Kind::Error) note_error("a seat reservation", r.text);
                     placing->failed = true;
                   }
                   if (r.kind != RedisClient::Reply::Kind::Integer || r.integer != 2) {
                     try_reserve(placing, at + 1, std::move(done));  // full, gone (-1) or failed: the next
                     return;
                   }
                   seats_taken_++;
                   if (tried.process == id_) {
                     reserved_[tried.name]++;  // seen at once by direct joins here
                     const auto now = std::chrono::steady_clock::now();
                     std::erase_if(own_seats_, [&](const auto& e) { return e.second.until <= now; });
                     own_seats_[seat] = {tried.name, now + std::chrono::milliseconds(config_.fleet.seat_hold_ms)};
                   }
                   done(std::make_pair(tried, seat), false);
                 });
}

std::vector<std::string> FleetDirectory::seat_command(const FleetWorld& w, const std::string& held,
                                                      const std::string& fresh, bool joining) const {
  return {"EVAL", kSeatScript, "3", world_key("players", w.process, w.name), world_key("seats", w.process, w.name),
          key("process:" + w.process), std::to_string(w.capacity), held, fresh,
          std::to_string(config_.fleet.seat_hold_ms), joining ? "join" : "reserve"};
}

void FleetDirectory::claim(FleetWorld world, std::string held, Claimed done) {
  on_loop0([this, world = std::move(world), held = std::move(held), done = std::move(done)]() mutable {
    const std::string fresh = random_hex(12);
    redis_.command(seat_command(world, held, fresh, true), [this, held,
                                                            done = std::move(done)](const RedisClient::Reply& r) {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      if (r.kind != RedisClient::Reply::Kind::Integer || r.integer < 0) {
        if (r.kind == RedisClient::Reply::Kind::Error) note_error("a seat claim", r.text);
        seats_failed_++;
        done(Claim::Failed, held);  // unchecked: the caller may know it as one of its own
      } else if (r.integer == 1) {
        own_seats_.erase(held);  // used up: not again while Redis cannot check
        done(Claim::Held, held);
      } else if (r.integer == 2) {
        seats_taken_++;
        done(Claim::Taken, "");  // a place, not a seat: counted as a player already
      } else {
        seats_full_++;
        done(Claim::Full, "");
      }
    });
  });
}

void FleetDirectory::joined(const std::string& world, const std::string& seat, SavedPlayer record) {
  // The local count of held seats is not lowered here: the seat may be made up (a resume does
  // not check it), and counting one seat too many until the next heartbeat only errs on the
  // side of room.
  // Until Redis has taken the record, a refresh of this player (one that loop 0 may send before
  // this write, as it runs timers before its inbox) takes it too, rather than finding the
  // record of the process it came from and dropping the copy just joined.
  remember_take(record.token);
  on_loop0([this, world, seat, record = std::move(record)] {
    if (!redis_.up()) return;  // taken at the next connection
    if (left_) {
      write_records({record}, Write::Take);  // stopping: out of the directory, but the record is worth having
      return;
    }
    // The count as it is when the command goes (commands go in order): never an older one.
    std::size_t players = 0;
    for (const auto& w : hooks_.worlds()) {
      if (w.name == world) players = w.players;
    }
    redis_.command({"EVAL", kTakeSeatScript, "2", world_key("players", id_, world), world_key("seats", id_, world),
                    std::to_string(players), seat, std::to_string(entry_ttl_ms_)},
                   checked_write());
    write_records({record}, Write::Take);
  });
}

void FleetDirectory::update_player(SavedPlayer record) {
  on_loop0([this, record = std::move(record)] {
    write_records({record}, untaken_joins_.count(record.token) ? Write::Take : Write::Keep);
  });
}

void FleetDirectory::forget_player(const std::string& token) {
  on_loop0([this, token] {
    untaken_joins_.erase(token);
    redis_.command({"EVAL", kForgetRecordScript, "1", key("player:" + token), id_}, checked_write());
  });
}

void FleetDirectory::find_player(const std::string& token, Found done) {
  on_loop0([this, token, done = std::move(done)]() mutable {
    redis_.command({"GET", key("player:" + token)}, [this, done = std::move(done)](const RedisClient::Reply& r) {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      std::optional<SavedPlayer> found;
      std::string process;
      if (r.kind == RedisClient::Reply::Kind::Error) note_error("a player's record", r.text);
      if (r.kind == RedisClient::Reply::Kind::String) {
        const json record = json::parse(r.text, nullptr, false);
        found = player_from_json(record);
        if (found && record.contains("process") && record["process"].is_string()) process = record["process"];
        if (found) records_found_++;
      }
      done(std::move(found), std::move(process));
    });
  });
}

void FleetDirectory::write_metrics(MetricsText& m) const {
  m.gauge("skirmish_fleet_redis_up", "1 while the fleet's Redis directory answers", up_ ? 1 : 0);
  m.gauge("skirmish_fleet_listed", "1 while Redis holds this process's entry (it is in the fleet)", up() ? 1 : 0);
  m.counter("skirmish_fleet_redis_errors_total", "error answers from Redis (refused writes, keys of another type)",
            static_cast<double>(redis_errors_));
  m.counter("skirmish_fleet_redis_losses_total", "connections to Redis lost", static_cast<double>(redis_.losses()));
  m.gauge("skirmish_fleet_processes", "live processes in the fleet, this one included", static_cast<double>(processes()));
  m.gauge("skirmish_fleet_worlds", "worlds in the fleet, this process's included",
          static_cast<double>(remote_.size() + hooks_.worlds().size()));
  m.labelled("counter", "skirmish_seat_reservations_total", "seat reservations asked of Redis, by result", "result",
             std::map<std::string, double>{{"taken", static_cast<double>(seats_taken_)},
                                           {"full", static_cast<double>(seats_full_)},
                                           {"error", static_cast<double>(seats_failed_)}});
  m.counter("skirmish_fleet_records_found_total", "players' records found in Redis by the token of a WebSocket join",
            static_cast<double>(records_found_));
  m.counter("skirmish_fleet_stale_copies_dropped_total",
            "players dropped here because another process had resumed them since (its record is newer)",
            static_cast<double>(stale_copies_));
}

void FleetDirectory::describe(json& health) const {
  health["fleet"] = {{"redis", state()},
                     {"process", id_},
                     {"processes", processes()},
                     {"worlds", remote_.size() + hooks_.worlds().size()}};
  if (listing_ == Listing::Refused) health["fleet"]["error"] = refused_why_;
}

}  // namespace skirmish::server
