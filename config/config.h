// One validated configuration value for the whole daemon. Each subsystem takes its own
// part: protocol/ gets HttpLimits, WsLimits and HandshakePolicy, game/ gets GameConfig.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "game/game_config.h"
#include "protocol/handshake.h"
#include "protocol/http_types.h"
#include "protocol/ws_types.h"

namespace skirmish::config {

struct ServerSettings {
  std::string host = "0.0.0.0";  // all IPv4 interfaces; "::" for IPv6 (and IPv4 where the OS maps it)
  int port = 8080;               // 0 picks a free port (tests)
  std::string web_root;          // empty: serve the web/ files built into the binary
  std::string log_level = "info";
  // Time a WebSocket gets to answer our close frame before we drop the TCP connection.
  int close_timeout_ms = 2000;
  // How long SIGINT/SIGTERM waits for clients to finish their close handshakes. For its first
  // half (at most 1 s), connections between requests stay open and a request on one is
  // answered (polling clients hear of the stop: the notice `closing`).
  int shutdown_grace_ms = 2000;
  // A request (or a handshake) must arrive complete within this time, which also
  // bounds slowloris clients that trickle a header byte at a time.
  int request_timeout_ms = 10000;
  // Over this many connections, new ones are refused with 503 (file descriptors are finite).
  int max_connections = 20000;
  // Connections from one client address; 0 = no limit. Off by default because load tests
  // and NATs put thousands of players behind one address; set it on a public server.
  int max_connections_per_ip = 0;
  // HTTP requests, WebSocket messages and pings one connection may send per second, with a
  // burst of as many (a message in fragments costs one a frame). Beyond that the daemon stops
  // reading the socket until the allowance refills (TCP pushes back on the sender) and the
  // rest of that read waits, in order:
  // nothing is dropped, a flood is only slowed. A flood then costs one read per pause
  // instead of the core the tick needs. A browser sends a few inputs a second; 0 = no limit.
  int max_messages_per_second = 200;
  // A WebSocket that stays over that allowance this long without a break is abusive, not
  // bursty: it is closed with 1008. 0 = never.
  int flood_close_ms = 10000;
  // Event loops serving connections, each on a thread of its own, the connections dealt to
  // them in turn; a world's frames are built and written on all of them at once. 0: one per
  // core. 1: everything on the main thread.
  int io_threads = 0;
  // "auto": with as many loops as CPUs the process may run on (and more than one), each loop
  // keeps to one CPU. "off": the scheduler places them.
  std::string pin_loops = "auto";
  // How browsers reach this process ("https://eu1.example.com", "http://10.0.0.5:8080"): the
  // fleet hands it out in world URLs. Empty: ws://localhost:PORT.
  std::string public_url;
  // Reverse proxies (addresses or networks, e.g. "127.0.0.1", "10.0.0.0/8") whose
  // X-Forwarded-For names the client: from them, per-IP limits and logs use that client's
  // address. From anyone else the header is ignored. Empty: no proxy is trusted.
  std::vector<std::string> trusted_proxies;
};

// Backpressure and liveness for WebSocket connections.
struct FlowSettings {
  // Over the soft limit of queued outgoing bytes a client gets no tick frames (they are
  // skipped and it is resynced when it drains): a phone on a bad link catches up instead
  // of falling ever further behind. 256 KiB is several seconds of ticks for a busy view.
  std::size_t soft_limit_bytes = 256 * 1024;
  // Over the hard limit, or over the soft one for slow_client_timeout_ms, it is closed
  // (1013, "try again later": the demo reconnects): memory per client stays bounded whatever
  // the client does.
  std::size_t hard_limit_bytes = 2 * 1024 * 1024;
  int slow_client_timeout_ms = 10000;
  // A connection silent this long is pinged; one that still says nothing within
  // ping_timeout_ms is dropped (half-open TCP connections never say anything).
  int ping_interval_ms = 15000;
  int ping_timeout_ms = 10000;
  // SO_SNDBUF for each connection (the kernel doubles it for its bookkeeping). 0 leaves it to
  // the kernel, which grows it up to net.ipv4.tcp_wmem's maximum (4 MiB on Linux): minutes of
  // frames for a stalled reader before our own queue, and so the limits above, see any (a
  // probe's never-reading clients lived 253 s, against 42 s with 64 KiB). A game's stream is
  // tens of KB a second, so 64 KiB holds seconds of it for a reader that is merely late.
  int send_buffer_bytes = 64 * 1024;
};

// How the server runs the game around the pure simulation.
struct SessionSettings {
  float view_radius = 800;          // units around a player (or spectator) that it is sent
  int reconnect_window_ms = 15000;  // a dropped player waits this long for its token
  int max_inputs_per_tick = 4;      // per client; more are dropped and counted
  int bad_message_limit = 10;       // undecodable messages before close 1008
  int max_catch_up_ticks = 20;      // ticks stepped in one turn when the loop fell behind (1 s at 20 Hz)
  int send_every_ticks = 1;         // viewers get a frame at most every this many ticks (bandwidth)
  std::uint64_t seed = 1;           // world seed: the same seed gives the same map
  // Where players are saved on shutdown and restored from on start, so a restart keeps them
  // reclaimable by their tokens. Relative to the working directory; empty: not saved.
  std::string state_file = "skirmishd-state.json";
  // Independent worlds in this process, named world-1 .. world-N; each has its own map
  // (seed + its index), monsters, ids and tick. game.max_players is each world's capacity.
  int worlds = 1;
  // A player who does not pick a world is placed in the first one with fewer players than
  // this (a lively fight), before a quieter one is opened; once all are that full, in the
  // one with the most room left.
  int lively_players = 40;
};

// Short and long polling of the game over plain HTTP, for browsers that cannot open a WebSocket.
struct PollingSettings {
  // Tick frames kept for a session between polls. 100 is 5 s at 20 Hz: more than a short
  // poller's interval; past it the backlog is replaced by one full resync frame.
  int max_backlog_ticks = 100;
  // Past this many bytes of undelivered frames the backlog is dropped too (whichever of
  // the two comes first), and the session gets one full frame when it next polls.
  int max_backlog_bytes = 32 * 1024;
  int max_waiting = 5000;             // long polls held open at once; more get 503
  // Sessions at once, and from one client address (0 = no limit per address); more get 503.
  // A session costs its view's frames every tick, like a WebSocket player.
  int max_sessions = 1000;
  int max_sessions_per_ip = 100;
  int longpoll_timeout_ms = 25000;    // default wait of a long poll with no news
  int max_longpoll_ms = 30000;        // the most a client may ask for (?timeout=S)
};

// Running as one of many game servers.
struct FleetSettings {
  // Agones (Kubernetes game servers): the daemon tells its SDK sidecar, over the sidecar's REST
  // API on localhost:$AGONES_SDK_HTTP_PORT (default 9358), that it is ready, healthy, how many
  // players it holds, and that it is shutting down. "auto": when AGONES_SDK_HTTP_PORT is set.
  std::string agones = "auto";
  // Redis as the fleet's directory, "redis://host:port"; empty: this process is alone. Each
  // process publishes its worlds there, lists everyone's in /worlds, places players anywhere
  // in the fleet with a seat reservation, and keeps player records there for resuming on
  // another process. Redis being down costs the fleet view, never the process's own game.
  std::string redis_url;
  // How often a process publishes its worlds and reads the fleet's; its entry lives three
  // heartbeats, so a process that died leaves the directory within three or four.
  int heartbeat_ms = 1000;
  // How long a seat reservation waits for its player to connect and join.
  int seat_hold_ms = 10000;
};

struct Config {
  ServerSettings server;
  protocol::HttpLimits http;
  protocol::WsLimits ws;
  FlowSettings flow;
  // The game's protocol v2 (binary ticks) is offered by default; without it every client gets v1.
  protocol::HandshakePolicy handshake{{}, {"skirmish.v2"}};
  game::GameConfig game;
  SessionSettings session;
  PollingSettings polling;
  FleetSettings fleet;
};

}  // namespace skirmish::config
