// What a Connection may ask of whoever owns it, and what it is given: a narrow interface,
// so that a connection knows nothing of the server's listeners, routes or registry, and the
// same Connection can live on any loop (see docs/architecture.md).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "protocol/http_types.h"
#include "server/server_stats.h"

namespace skirmish::server {

class Connection;
using ConnId = std::uint32_t;

// Everything a connection uses but does not own: its loop, its limits, the counters it adds
// to, and the read buffer every connection of the loop shares (reads are handled one at a
// time, before the next one starts).
struct ConnectionContext {
  uv_loop_t* loop = nullptr;
  const config::Config* config = nullptr;
  ServerStats* stats = nullptr;
  char* read_buffer = nullptr;
  std::size_t read_buffer_size = 0;
};

class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Why a WebSocket handshake on this request target may not upgrade (not the endpoint's
  // path, a world we do not have): the reason of its 404. nullopt: it may.
  virtual std::optional<std::string> refuse_websocket(const std::string& target) const = 0;
  // Every request, first: the host may learn who the client is (a trusted proxy's
  // X-Forwarded-For; Connection::set_client) and refuse it (e.g. over its per-IP limit).
  // A response: send it and end the connection.
  virtual std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) = 0;
  // A whole HTTP request that is not a handshake. nullopt: the answer comes later, through
  // Connection::finish_deferred (a long poll).
  virtual std::optional<protocol::HttpResponse> on_request(Connection& conn, const protocol::HttpRequest& request) = 0;
  // The handshake was answered: the connection is an open WebSocket from now on.
  virtual void on_open(Connection& conn, const protocol::HttpRequest& request) = 0;
  virtual void on_text(Connection& conn, std::string_view text) = 0;
  virtual void on_binary(Connection& conn, std::string_view data) = 0;
  // The handle is closed; the connection is freed as soon as this returns.
  virtual void on_closed(Connection& conn) = 0;
  // Asks for conn.resume_held_input() once the current callback chain is over (the caller
  // may be walking its own state).
  virtual void resume_later(ConnId id) = 0;
};

}  // namespace skirmish::server
