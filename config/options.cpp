#include "config/options.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <string_view>

#include "config/endpoint_url.h"
#include "protocol/forwarded_for.h"

namespace skirmish::config {

using nlohmann::json;

namespace {

// Accessors are written once per option, `[](Config& c) -> auto& { return c.x.y; }`, and
// serve both reading and writing.
template <class Access>
Option number(std::string key, std::string env, std::string flag, ValueKind kind, double lo, double hi,
              std::string help, Access access) {
  Option o;
  o.key = std::move(key);
  o.env = std::move(env);
  o.flag = std::move(flag);
  o.help = std::move(help);
  o.kind = kind;
  o.min = lo;
  o.max = hi;
  o.set = [access](Config& c, const json& v) {
    auto& field = access(c);
    field = v.get<std::remove_reference_t<decltype(field)>>();
  };
  o.get = [access](const Config& c) { return json(access(const_cast<Config&>(c))); };
  return o;
}

template <class Access>
Option integer(std::string key, std::string env, std::string flag, double lo, double hi, std::string help,
               Access access) {
  return number(std::move(key), std::move(env), std::move(flag), ValueKind::Int, lo, hi, std::move(help), access);
}

template <class Access>
Option real(std::string key, std::string env, std::string flag, double lo, double hi, std::string help,
            Access access) {
  return number(std::move(key), std::move(env), std::move(flag), ValueKind::Float, lo, hi, std::move(help), access);
}

template <class Access>
Option text(std::string key, std::string env, std::string flag, ValueKind kind, std::vector<std::string> choices,
            std::string help, Access access) {
  Option o;
  o.key = std::move(key);
  o.env = std::move(env);
  o.flag = std::move(flag);
  o.help = std::move(help);
  o.kind = kind;
  o.choices = std::move(choices);
  o.set = [access](Config& c, const json& v) {
    auto& field = access(c);
    field = v.get<std::remove_reference_t<decltype(field)>>();
  };
  o.get = [access](const Config& c) { return json(access(const_cast<Config&>(c))); };
  return o;
}

Option checked(Option o, std::function<std::string(const json&)> check) {
  o.check = std::move(check);
  return o;
}

// Checks of values whose kind is right (a string, a list) but whose parts may not be; run where
// the value is read, so the error names where it came from.
std::string check_public_url(const json& v) {
  std::string why;
  const auto url = v.get<std::string>();
  return url.empty() || parse_public_url(url, why) ? "" : why;
}

std::string check_redis_url(const json& v) {
  std::string why;
  const auto url = v.get<std::string>();
  return url.empty() || parse_redis_url(url, why) ? "" : why;
}

// A URL that may hold a password: shown with the password hidden.
Option secret_url(Option o) {
  o.shown = [](const json& v) { return v.is_string() ? json(redact_redis_url(v.get<std::string>())) : v; };
  return o;
}

// The daemon listens on an address, not a name it would have to look up.
std::string check_host(const json& v) {
  const auto host = v.get<std::string>();
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) return "";
  // An IPv6 address may name its interface ("fe80::1%eth0"), as libuv takes it.
  const auto zone = host.find('%');
  if (inet_pton(AF_INET6, host.substr(0, zone).c_str(), buf) == 1 && (zone == std::string::npos || zone + 1 < host.size())) {
    return "";
  }
  return "is not an IP address (0.0.0.0 listens on every IPv4 address, :: on every IPv6 one)";
}

// Only what the server speaks: a name it agreed to would be answered in another protocol.
// skirmish.v1 names the JSON ticks a client gets anyway (a client may ask for it by name).
std::string check_subprotocols(const json& v) {
  for (const auto& name : v.get<std::vector<std::string>>()) {
    if (name != "skirmish.v2" && name != "skirmish.v1") {
      return "names '" + name + "': the subprotocols this server speaks are skirmish.v2 (binary ticks) and skirmish.v1 (JSON)";
    }
  }
  return "";
}

std::string check_trusted_proxies(const json& v) {
  return protocol::AddressSet().add_all(v.get<std::vector<std::string>>()).value_or("");
}

std::string check_monster_kinds(const json& v) {
  if (!v.is_array() || v.empty()) return "must be a non-empty array of monster kinds";
  if (v.size() > 64) return "at most 64 monster kinds";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& k = v[i];
    const std::string where = "kind #" + std::to_string(i) + ": ";
    if (!k.is_object()) return where + "must be an object";
    if (!k.contains("name") || !k["name"].is_string() || k["name"].get<std::string>().empty()) {
      return where + "needs a non-empty string \"name\"";
    }
    static const char* const kPositive[] = {"speed", "max_hp", "damage", "attack_range", "aggro_radius",
                                            "leash_range", "attack_cooldown_ms", "respawn_ms", "weight"};
    // These become int fields: a fraction would be cut (weight 0.5 -> 0, a kind that never
    // spawns), and a number beyond int (for the others, float) range cannot be converted.
    static const char* const kWhole[] = {"max_hp", "damage", "attack_cooldown_ms", "respawn_ms", "weight"};
    constexpr double kIntMax = std::numeric_limits<int>::max();
    constexpr double kFloatMax = std::numeric_limits<float>::max();
    for (const char* field : kPositive) {
      if (!k.contains(field) || !k[field].is_number() || k[field].get<double>() <= 0) {
        return where + "needs \"" + field + "\" as a number above 0";
      }
      const bool whole = std::find(std::begin(kWhole), std::end(kWhole), std::string_view(field)) != std::end(kWhole);
      if (whole && (!k[field].is_number_integer() || k[field].get<double>() > kIntMax)) {
        return where + "needs \"" + field + "\" as an integer from 1 to 2147483647";
      }
      if (!whole && k[field].get<double>() > kFloatMax) return where + "needs \"" + field + "\" within float range";
    }
    // Optional, and 0 allowed: how far from the camp's centre this kind spawns at least.
    if (k.contains("camp_distance") &&
        (!k["camp_distance"].is_number() || !(k["camp_distance"].get<double>() >= 0) ||
         k["camp_distance"].get<double>() > kFloatMax)) {
      return where + "needs \"camp_distance\" as a number from 0 (optional)";
    }
    for (auto it = k.begin(); it != k.end(); ++it) {
      bool known = it.key() == "name" || it.key() == "camp_distance";
      for (const char* field : kPositive) known = known || it.key() == field;
      if (!known) return where + "unknown field \"" + it.key() + "\"";
    }
  }
  return "";
}

json monster_kinds_to_json(const std::vector<game::MonsterKind>& kinds) {
  json out = json::array();
  for (const auto& k : kinds) {
    out.push_back({{"name", k.name}, {"speed", k.speed}, {"max_hp", k.max_hp}, {"damage", k.damage},
                   {"attack_range", k.attack_range}, {"aggro_radius", k.aggro_radius},
                   {"leash_range", k.leash_range}, {"attack_cooldown_ms", k.attack_cooldown_ms},
                   {"respawn_ms", k.respawn_ms}, {"weight", k.weight}, {"camp_distance", k.camp_distance}});
  }
  return out;
}

std::vector<game::MonsterKind> monster_kinds_from_json(const json& v) {
  std::vector<game::MonsterKind> kinds;
  for (const json& k : v) {
    game::MonsterKind m{};
    m.name = k["name"].get<std::string>();
    m.speed = k["speed"].get<float>();
    m.max_hp = k["max_hp"].get<int>();
    m.damage = k["damage"].get<int>();
    m.attack_range = k["attack_range"].get<float>();
    m.aggro_radius = k["aggro_radius"].get<float>();
    m.leash_range = k["leash_range"].get<float>();
    m.attack_cooldown_ms = k["attack_cooldown_ms"].get<int>();
    m.respawn_ms = k["respawn_ms"].get<int>();
    m.weight = k["weight"].get<int>();
    m.camp_distance = k.value("camp_distance", 0.0f);
    kinds.push_back(std::move(m));
  }
  return kinds;
}

std::vector<Option> build_options() {
  constexpr double kMaxMs = 3600 * 1000.0;
  std::vector<Option> o;
  // server
  o.push_back(checked(text("server.host", "SKIRMISH_HOST", "--host", ValueKind::String, {},
                           "address to listen on (0.0.0.0 all IPv4, :: all IPv6)",
                           [](Config& c) -> auto& { return c.server.host; }),
                      check_host));
  o.push_back(integer("server.port", "SKIRMISH_PORT", "--port", 0, 65535, "TCP port (0 = any free port)",
                      [](Config& c) -> auto& { return c.server.port; }));
  o.push_back(text("server.web_root", "SKIRMISH_WEB_ROOT", "--web-root", ValueKind::String, {},
                   "serve the demo from this folder instead of the files built into the binary",
                   [](Config& c) -> auto& { return c.server.web_root; }));
  o.push_back(text("server.log_level", "SKIRMISH_LOG_LEVEL", "--log-level", ValueKind::Choice,
                   {"trace", "debug", "info", "warn", "error", "critical", "off"}, "log level",
                   [](Config& c) -> auto& { return c.server.log_level; }));
  o.push_back(integer("server.max_connections", "SKIRMISH_MAX_CONNECTIONS", "--max-connections", 1, 1000000,
                      "connections held at once; more get 503",
                      [](Config& c) -> auto& { return c.server.max_connections; }));
  o.push_back(integer("server.max_connections_per_ip", "SKIRMISH_MAX_CONNECTIONS_PER_IP", "--max-connections-per-ip", 0,
                      1000000,
                      "connections from one client address (through a trusted proxy: its WebSockets and long polls); more get 503 (0 = no limit); also the players it may "
                      "leave away in a world at once, waiting for their tokens (past that, its longest away goes)",
                      [](Config& c) -> auto& { return c.server.max_connections_per_ip; }));
  o.push_back(integer("server.shutdown_grace_ms", "SKIRMISH_SHUTDOWN_GRACE_MS", "--shutdown-grace-ms", 0, kMaxMs,
                      "on SIGINT/SIGTERM/SIGHUP/SIGQUIT, how long to wait for WebSocket close handshakes (and requests half-received); for its first half, at most 1 s, a request on a kept-alive connection is still answered, so that polling clients hear of the stop",
                      [](Config& c) -> auto& { return c.server.shutdown_grace_ms; }));
  o.push_back(integer("server.close_timeout_ms", "SKIRMISH_CLOSE_TIMEOUT_MS", "--close-timeout-ms", 1, kMaxMs,
                      "how long a closing WebSocket may take to answer our close frame",
                      [](Config& c) -> auto& { return c.server.close_timeout_ms; }));
  o.push_back(integer("server.request_timeout_ms", "SKIRMISH_REQUEST_TIMEOUT_MS", "--request-timeout-ms", 1, kMaxMs,
                      "an HTTP request or handshake must be complete within this time",
                      [](Config& c) -> auto& { return c.server.request_timeout_ms; }));
  o.push_back(integer("server.max_messages_per_second", "SKIRMISH_MAX_MESSAGES_PER_SECOND",
                      "--max-messages-per-second", 0, 1000000,
                      "HTTP requests, WebSocket messages and pings one connection may send per second (burst as many); beyond, reading pauses and the rest waits; 0 = no limit",
                      [](Config& c) -> auto& { return c.server.max_messages_per_second; }));
  o.push_back(integer("server.flood_close_ms", "SKIRMISH_FLOOD_CLOSE_MS", "--flood-close-ms", 0, kMaxMs,
                      "a WebSocket over that allowance this long without a break is closed with 1008; 0 = never",
                      [](Config& c) -> auto& { return c.server.flood_close_ms; }));
  o.push_back(integer("server.io_threads", "SKIRMISH_IO_THREADS", "--io-threads", 0, 64,
                      "event loops (threads) serving connections and building frames; 0 = one per CPU the process "
                      "may run on (its affinity; fewer under a cgroup CPU quota), 1 = one",
                      [](Config& c) -> auto& { return c.server.io_threads; }));
  o.push_back(text("server.pin_loops", "SKIRMISH_PIN_LOOPS", "--pin-loops", ValueKind::Choice, {"auto", "off"},
                   "auto = with one event loop per CPU the process may run on (more than one), each loop keeps to "
                   "its own CPU; off = the scheduler places them",
                   [](Config& c) -> auto& { return c.server.pin_loops; }));
  o.push_back(checked(text("server.public_url", "SKIRMISH_PUBLIC_URL", "--public-url", ValueKind::String, {},
                           "how browsers reach this process (http[s]://host[:port]); the fleet gives it out in world "
                           "URLs; empty: ws://localhost:PORT",
                           [](Config& c) -> auto& { return c.server.public_url; }),
                      check_public_url));
  o.push_back(checked(text("server.trusted_proxies", "SKIRMISH_TRUSTED_PROXIES", "--trusted-proxies",
                           ValueKind::StringList, {},
                           "comma-separated proxies (addresses or networks) whose X-Forwarded-For names the client; "
                           "empty: none",
                           [](Config& c) -> auto& { return c.server.trusted_proxies; }),
                      check_trusted_proxies));
  // http
  o.push_back(integer("http.max_header_bytes", "SKIRMISH_MAX_HEADER_BYTES", "--max-header-bytes", 256, 1 << 20,
                      "request line plus headers; more gets 431 (414 when the request line alone is over it); "
                      "chunk extensions get as many, then 413",
                      [](Config& c) -> auto& { return c.http.max_header_bytes; }));
  o.push_back(integer("http.max_body_bytes", "SKIRMISH_MAX_BODY_BYTES", "--max-body-bytes", 0, 16 << 20,
                      "request body; more gets 413", [](Config& c) -> auto& { return c.http.max_body_bytes; }));
  // websocket
  o.push_back(integer("websocket.max_message_bytes", "SKIRMISH_MAX_MESSAGE_BYTES", "--max-message-bytes", 125,
                      64 << 20, "largest WebSocket message accepted; more is closed with 1009",
                      [](Config& c) -> auto& { return c.ws.max_message_size; }));
  o.push_back(integer("websocket.soft_limit_bytes", "SKIRMISH_SOFT_LIMIT_BYTES", "--soft-limit-bytes", 1024, 1 << 30,
                      "queued outgoing bytes over which a client's tick frames are skipped (and an HTTP client's pipelined "
                      "requests wait until it reads the answers)",
                      [](Config& c) -> auto& { return c.flow.soft_limit_bytes; }));
  o.push_back(integer("websocket.hard_limit_bytes", "SKIRMISH_HARD_LIMIT_BYTES", "--hard-limit-bytes", 1024, 1 << 30,
                      "queued outgoing bytes over which a client is closed (1013, try again later)",
                      [](Config& c) -> auto& { return c.flow.hard_limit_bytes; }));
  o.push_back(integer("websocket.slow_client_timeout_ms", "SKIRMISH_SLOW_CLIENT_TIMEOUT_MS", "--slow-client-timeout-ms",
                      1, kMaxMs,
                      "a client over the soft limit this long is closed (1013, try again later); an HTTP client "
                      "that reads nothing of its queued answers this long is dropped",
                      [](Config& c) -> auto& { return c.flow.slow_client_timeout_ms; }));
  o.push_back(integer("websocket.ping_interval_ms", "SKIRMISH_PING_INTERVAL_MS", "--ping-interval-ms", 1, kMaxMs,
                      "a connection silent this long is pinged",
                      [](Config& c) -> auto& { return c.flow.ping_interval_ms; }));
  o.push_back(integer("websocket.ping_timeout_ms", "SKIRMISH_PING_TIMEOUT_MS", "--ping-timeout-ms", 1, kMaxMs,
                      "a pinged connection that stays silent this long is dropped",
                      [](Config& c) -> auto& { return c.flow.ping_timeout_ms; }));
  o.push_back(integer("websocket.send_buffer_bytes", "SKIRMISH_SEND_BUFFER_BYTES", "--send-buffer-bytes", 0, 64 << 20,
                      "kernel send buffer per connection (SO_SNDBUF); 0 = the kernel's own sizing",
                      [](Config& c) -> auto& { return c.flow.send_buffer_bytes; }));
  o.push_back(text("websocket.allowed_origins", "SKIRMISH_ALLOWED_ORIGINS", "--allowed-origins",
                   ValueKind::StringList, {}, "comma-separated Origin allow-list for WebSocket handshakes (which must carry one) and the "
                   "polling API (a request without one passes); empty allows any (else 403)",
                   [](Config& c) -> auto& { return c.handshake.allowed_origins; }));
  o.push_back(checked(text("websocket.subprotocols", "SKIRMISH_SUBPROTOCOLS", "--subprotocols", ValueKind::StringList,
                           {}, "comma-separated subprotocols we accept, in order of preference (skirmish.v2: binary ticks; skirmish.v1: JSON, as without one)",
                           [](Config& c) -> auto& { return c.handshake.subprotocols; }),
                      check_subprotocols));
  // game
  o.push_back(integer("game.tick_rate", "SKIRMISH_TICK_RATE", "--tick-rate", 1, 128, "simulation ticks per second",
                      [](Config& c) -> auto& { return c.game.tick_rate; }));
  {
    Option world = real("game.world_size", "SKIRMISH_WORLD_SIZE", "--world-size", 200, 1000000,
                        "width and height of the square world, in units",
                        [](Config& c) -> auto& { return c.game.world_width; });
    world.set = [](Config& c, const json& v) { c.game.world_width = c.game.world_height = v.get<float>(); };
    o.push_back(std::move(world));
  }
  o.push_back(integer("game.monsters", "SKIRMISH_MONSTERS", "--monsters", 0, 200000, "monsters in each world",
                      [](Config& c) -> auto& { return c.game.monster_count; }));
  o.push_back(integer("game.obstacles", "SKIRMISH_OBSTACLES", "--obstacles", 0, 10000, "rock obstacles in the world",
                      [](Config& c) -> auto& { return c.game.obstacle_count; }));
  o.push_back(integer("game.max_players", "SKIRMISH_MAX_PLAYERS", "--max-players", 1, 1000000,
                      "players in each world at once; more get an error",
                      [](Config& c) -> auto& { return c.game.max_players; }));
  o.push_back(real("game.view_radius", "SKIRMISH_VIEW_RADIUS", "--view-radius", 50, 100000,
                   "units around a player that its client is sent",
                   [](Config& c) -> auto& { return c.session.view_radius; }));
  o.push_back(integer("game.player_respawn_ms", "SKIRMISH_PLAYER_RESPAWN_MS", "--player-respawn-ms", 0, kMaxMs,
                      "delay before a dead player respawns",
                      [](Config& c) -> auto& { return c.game.player_respawn_ms; }));
  o.push_back(integer("game.player_regen_per_second", "SKIRMISH_PLAYER_REGEN_PER_SECOND", "--player-regen-per-second",
                      0, 1000, "hp a player heals per second out of combat (0 = never)",
                      [](Config& c) -> auto& { return c.game.player_regen_per_second; }));
  o.push_back(integer("game.player_regen_delay_ms", "SKIRMISH_PLAYER_REGEN_DELAY_MS", "--player-regen-delay-ms", 0,
                      kMaxMs, "time without taking or dealing a hit before a player starts to heal",
                      [](Config& c) -> auto& { return c.game.player_regen_delay_ms; }));
  o.push_back(integer("game.spawn_protection_ms", "SKIRMISH_SPAWN_PROTECTION_MS", "--spawn-protection-ms", 0, kMaxMs,
                      "after joining or respawning, monsters ignore a player this long (until it attacks)",
                      [](Config& c) -> auto& { return c.game.spawn_protection_ms; }));
  o.push_back(real("game.safe_zone_radius", "SKIRMISH_SAFE_ZONE_RADIUS", "--safe-zone-radius", 0, 100000,
                   "radius of the spawn camp at the world's centre, where monsters never go (0 = none)",
                   [](Config& c) -> auto& { return c.game.safe_zone_radius; }));
  o.push_back(integer("game.reconnect_window_ms", "SKIRMISH_RECONNECT_WINDOW_MS", "--reconnect-window-ms", 0, kMaxMs,
                      "how long a disconnected player can be reclaimed with its token",
                      [](Config& c) -> auto& { return c.session.reconnect_window_ms; }));
  o.push_back(integer("game.max_inputs_per_tick", "SKIRMISH_MAX_INPUTS_PER_TICK", "--max-inputs-per-tick", 1, 1000,
                      "inputs applied per client per tick; more are dropped",
                      [](Config& c) -> auto& { return c.session.max_inputs_per_tick; }));
  o.push_back(integer("game.bad_message_limit", "SKIRMISH_BAD_MESSAGE_LIMIT", "--bad-message-limit", 1, 1000000,
                      "malformed messages that close a client with 1008 (the last one closes it)",
                      [](Config& c) -> auto& { return c.session.bad_message_limit; }));
  o.push_back(integer("game.max_catch_up_ticks", "SKIRMISH_MAX_CATCH_UP_TICKS", "--max-catch-up-ticks", 1, 1000,
                      "ticks a world may owe when it fell behind, stepped in turns of at most a tick period (frames "
                      "are sent after each turn); older debt is dropped",
                      [](Config& c) -> auto& { return c.session.max_catch_up_ticks; }));
  o.push_back(integer("game.send_every_ticks", "SKIRMISH_SEND_EVERY_TICKS", "--send-every-ticks", 1, 4,
                      "viewers get a frame every this many ticks at most (each frame carries all changes since the last); "
                      "1 = every tick; under load the server goes further by itself",
                      [](Config& c) -> auto& { return c.session.send_every_ticks; }));
  o.push_back(integer("game.worlds", "SKIRMISH_WORLDS", "--worlds", 1, 64,
                      "independent worlds in this process (world-1 .. world-N); a client picks one with /ws?world=NAME",
                      [](Config& c) -> auto& { return c.session.worlds; }));
  o.push_back(integer("game.lively_players", "SKIRMISH_LIVELY_PLAYERS", "--lively-players", 1, 1000000,
                      "players a world gets before new players who pick none are placed in the next world",
                      [](Config& c) -> auto& { return c.session.lively_players; }));
  o.push_back(integer("game.seed", "SKIRMISH_SEED", "--seed", 0, 9007199254740991.0,
                      "world seed: the same seed gives the same map and monsters",
                      [](Config& c) -> auto& { return c.session.seed; }));
  o.push_back(text("game.state_file", "SKIRMISH_STATE_FILE", "--state-file", ValueKind::String, {},
                   "players are saved here on shutdown and restored on start (empty: off)",
                   [](Config& c) -> auto& { return c.session.state_file; }));
  o.push_back(integer("polling.max_backlog_ticks", "SKIRMISH_MAX_BACKLOG_TICKS", "--max-backlog-ticks", 1, 100000,
                      "tick frames kept for an HTTP polling session; past it, one resync frame",
                      [](Config& c) -> auto& { return c.polling.max_backlog_ticks; }));
  o.push_back(integer("polling.max_backlog_bytes", "SKIRMISH_MAX_BACKLOG_BYTES", "--max-backlog-bytes", 1024, 1 << 30,
                      "bytes of undelivered frames kept for an HTTP polling session; past it, one resync frame at the next poll",
                      [](Config& c) -> auto& { return c.polling.max_backlog_bytes; }));
  o.push_back(integer("polling.max_sessions", "SKIRMISH_MAX_SESSIONS", "--max-sessions", 1, 1000000,
                      "HTTP polling sessions at once; more get 503",
                      [](Config& c) -> auto& { return c.polling.max_sessions; }));
  o.push_back(integer("polling.max_sessions_per_ip", "SKIRMISH_MAX_SESSIONS_PER_IP", "--max-sessions-per-ip", 0, 1000000,
                      "HTTP polling sessions from one client address; more get 503; 0 = no limit",
                      [](Config& c) -> auto& { return c.polling.max_sessions_per_ip; }));
  o.push_back(integer("polling.max_waiting", "SKIRMISH_MAX_WAITING_POLLS", "--max-waiting-polls", 1, 1000000,
                      "long polls held open at once; more get 503",
                      [](Config& c) -> auto& { return c.polling.max_waiting; }));
  o.push_back(integer("polling.longpoll_timeout_ms", "SKIRMISH_LONGPOLL_TIMEOUT_MS", "--longpoll-timeout-ms", 1, kMaxMs,
                      "how long a long poll waits for news when the client does not say",
                      [](Config& c) -> auto& { return c.polling.longpoll_timeout_ms; }));
  o.push_back(integer("polling.max_longpoll_ms", "SKIRMISH_MAX_LONGPOLL_MS", "--max-longpoll-ms", 1, kMaxMs,
                      "the longest wait a client may ask for with ?timeout=S",
                      [](Config& c) -> auto& { return c.polling.max_longpoll_ms; }));
  // fleet
  o.push_back(text("fleet.agones", "SKIRMISH_AGONES", "--agones", ValueKind::Choice, {"auto", "on", "off"},
                   "talk to the Agones SDK sidecar on localhost:$AGONES_SDK_HTTP_PORT (default 9358): ready, "
                   "health every 2 s, players, shutdown; auto = when AGONES_SDK_HTTP_PORT is set",
                   [](Config& c) -> auto& { return c.fleet.agones; }));
  o.push_back(secret_url(checked(text("fleet.redis_url", "SKIRMISH_REDIS_URL", "--redis-url", ValueKind::String, {},
                                      "redis://[[user]:password@]host[:port] (6379 by default) of the fleet's directory (worlds, seat "
                                      "reservations, player records); a password is better given in the environment or "
                                      "the file than on the command line; empty: no fleet",
                                      [](Config& c) -> auto& { return c.fleet.redis_url; }),
                                 check_redis_url)));
  o.push_back(integer("fleet.heartbeat_ms", "SKIRMISH_FLEET_HEARTBEAT_MS", "--fleet-heartbeat-ms", 100, 60000,
                      "how often the process publishes its worlds and reads the fleet's; an entry lives 3 heartbeats",
                      [](Config& c) -> auto& { return c.fleet.heartbeat_ms; }));
  o.push_back(integer("fleet.seat_hold_ms", "SKIRMISH_SEAT_HOLD_MS", "--seat-hold-ms", 1000, 600000,
                      "how long a seat reservation waits for its player to connect and join",
                      [](Config& c) -> auto& { return c.fleet.seat_hold_ms; }));
  {
    Option kinds;
    kinds.key = "game.monster_kinds";
    kinds.help = "monster kinds: name, speed, max_hp, damage, attack_range, aggro_radius, leash_range, "
                 "attack_cooldown_ms, respawn_ms, weight, and optionally camp_distance (file only)";
    kinds.kind = ValueKind::Json;
    kinds.check = check_monster_kinds;
    kinds.set = [](Config& c, const json& v) { c.game.monster_kinds = monster_kinds_from_json(v); };
    kinds.get = [](const Config& c) { return monster_kinds_to_json(c.game.monster_kinds); };
    o.push_back(std::move(kinds));
  }
  return o;
}

}  // namespace

const std::vector<Option>& options() {
  static const std::vector<Option> table = build_options();
  return table;
}

}  // namespace skirmish::config
