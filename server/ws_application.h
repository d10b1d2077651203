// What runs on top of the WebSocket endpoint (the game). The server hands it each open
// WebSocket; the connection stays valid until on_close(), and it answers through it, on the
// connection's own loop (Connection::loop_port() to reach it from another).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/http_types.h"

namespace skirmish::server {

class Connection;
class MetricsText;

class WsApplication {
 public:
  virtual ~WsApplication() = default;
  // Held by the server around every call below (but on_text and on_binary) and every route,
  // on whichever loop's thread makes it, and by the application's own timers: the application's state is touched by one
  // thread at a time. Recursive: a call may lead to another (an answer that ends a request).
  std::recursive_mutex& mutex() { return mutex_; }
  // Why a handshake on this request target (its path is the endpoint's) cannot open, answered
  // with this status and reason (e.g. 404: it names no world of ours). nullopt: it may open.
  virtual std::optional<protocol::HttpReject> refuse_websocket(const std::string& /*target*/) const {
    return std::nullopt;
  }
  // Whether the application may hold this request's connection open (a long poll): such a
  // request counts against its client's address like a WebSocket (server.max_connections_per_ip),
  // and ends when its client goes away. Called on any loop's thread without the mutex: it
  // must read nothing but the request.
  virtual bool holds_connection(const protocol::HttpRequest& /*request*/) const { return false; }
  // A WebSocket on /ws completed its handshake; `request` is the upgrade request.
  virtual void on_open(Connection& conn, const protocol::HttpRequest& request) = 0;
  // These two come without the mutex held: a message is decoded (the costly part) before it
  // is taken, so loops decode in parallel; the application takes it for the rest.
  virtual void on_text(Connection& conn, std::string_view text) = 0;
  virtual void on_binary(Connection& conn, std::string_view data) = 0;
  // The socket is gone (closed cleanly or not); the connection is freed right after.
  virtual void on_close(Connection& conn) = 0;
  // The server begins a graceful stop: answer what is waiting (long polls) before the
  // connections are closed.
  virtual void on_server_stopping() {}
  // Adds the application's numbers to /metrics (Prometheus text) and /healthz.
  virtual void write_metrics(MetricsText& out) const = 0;
  virtual void describe(nlohmann::json& health) const = 0;

 private:
  std::recursive_mutex mutex_;
};

}  // namespace skirmish::server
