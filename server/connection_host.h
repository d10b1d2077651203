// What a Connection may ask of whoever owns it, and what it is given: a narrow interface,
// so that a connection knows nothing of the server's listeners, routes or registry, and the
// same Connection can live on any loop (see docs/architecture.md).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "protocol/http_types.h"
#include "server/server_stats.h"

namespace skirmish::server {

class Connection;
// Unique for the process's life; the low byte is the index of the event loop that owns it.
using ConnId = std::uint64_t;

// The event loop a connection lives on, as code on other threads may use it: run a task there
// (where the connection may be looked up by id), or learn whether the caller is on it already.
class LoopPort {
 public:
  virtual ~LoopPort() = default;
  virtual bool on_thread() const = 0;
  // Any thread; false when the loop has stopped (the task is dropped).
  virtual bool post(std::function<void()> task) = 0;
  // On the loop's thread: the connection with this id, or nullptr once it is gone.
  virtual Connection* find(ConnId id) = 0;
  virtual std::uint8_t index() const = 0;
};

// Everything a connection uses but does not own: its loop, its limits, the counters it adds
// to, and the read buffer every connection of the loop shares (reads are handled one at a
// time, before the next one starts).
struct ConnectionContext {
  LoopPort* port = nullptr;
  uv_loop_t* loop = nullptr;
  const config::Config* config = nullptr;
  ServerStats* stats = nullptr;
  char* read_buffer = nullptr;
  std::size_t read_buffer_size = 0;
};

class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Why a WebSocket handshake on this request target may not upgrade: 404 for another path or
  // a world we do not have, 400 for a query we cannot read. nullopt: it may.
  virtual std::optional<protocol::HttpReject> refuse_websocket(const std::string& target) const = 0;
  // Every request, first: the host may learn who the client is (a trusted proxy's
  // X-Forwarded-For; Connection::set_client) and refuse it (e.g. over its per-IP limit).
  // A response: send it and end the connection.
  virtual std::optional<protocol::HttpResponse> identify(Connection& conn, const protocol::HttpRequest& request) = 0;
  // A whole HTTP request that is not a handshake. nullopt: the answer comes later, through
  // Connection::finish_deferred (a long poll).
  virtual std::optional<protocol::HttpResponse> on_request(Connection& conn, const protocol::HttpRequest& request) = 0;
  // Whether a request the host answers later waits for news with the connection held (a long
  // poll): its client going away (EOF) ends it. Another deferred answer (a placement that asks
  // Redis) is still given to a client that has only stopped sending. Any thread; pure.
  virtual bool holds_connection(const protocol::HttpRequest& request) const = 0;
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
