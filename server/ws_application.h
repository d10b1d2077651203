// What runs on top of the WebSocket endpoint (the game). The server tells it about
// sockets by id only; it answers through Server::send_text / close.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/http_types.h"

namespace skirmish::server {

using ConnId = std::uint32_t;
class MetricsText;

class WsApplication {
 public:
  virtual ~WsApplication() = default;
  // A WebSocket on /ws completed its handshake; `request` is the upgrade request.
  virtual void on_open(ConnId id, const protocol::HttpRequest& request) = 0;
  virtual void on_text(ConnId id, std::string_view text) = 0;
  virtual void on_binary(ConnId id, std::string_view data) = 0;
  // The socket is gone (closed cleanly or not); `id` is never used again.
  virtual void on_close(ConnId id) = 0;
  // The server begins a graceful stop: answer what is waiting (long polls) before the
  // connections are closed.
  virtual void on_server_stopping() {}
  // Adds the application's numbers to /metrics (Prometheus text) and /healthz.
  virtual void write_metrics(MetricsText& out) const = 0;
  virtual void describe(nlohmann::json& health) const = 0;
};

}  // namespace skirmish::server
