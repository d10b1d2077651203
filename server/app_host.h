// What the application on top of the server (the game: its transports and its routes) sees of
// it: routes, answers that come later, the clock, the port, the loops. Not the listeners, the
// signals, the connections' limits or the stop: the application knows the server only
// through this, as a connection knows only its ConnectionHost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/http_types.h"
#include "server/connection_host.h"
#include "server/fan_out.h"

namespace skirmish::server {

// Who asked for a request a route answers: its connection, by id (a deferred answer finds
// nothing once it is gone), and the client's address (per-IP limits; a trusted proxy's client).
struct RequestOrigin {
  ConnId conn = 0;
  std::string_view ip;
  bool secure = false;  // a trusted proxy said the client came over TLS (its URLs are https/wss)
};

class AppHost {
 public:
  // Serves requests whose normalised path is `path`, or starts with it when it ends in '/',
  // before static files, with the application's mutex held. A handler that returns nullopt
  // answers later with finish_deferred() (a long poll); if the connection goes away first,
  // `on_gone` is told its id. Add routes before the server listens.
  using Route = std::function<std::optional<protocol::HttpResponse>(const protocol::HttpRequest&, const RequestOrigin&)>;
  virtual void add_route(std::string path, Route handler) = 0;
  virtual void set_deferred_gone_handler(std::function<void(ConnId)> on_gone) = 0;
  // Answers a request a route deferred, on the loop that holds its connection (any thread).
  // When that connection is gone by then, `if_gone` runs instead, with the application's
  // mutex held.
  virtual void finish_deferred(ConnId id, protocol::HttpResponse response, std::function<void()> if_gone = {}) = 0;
  // Monotonic milliseconds, the clock of libuv's loops; readable from any thread.
  virtual std::uint64_t now_ms() const = 0;
  virtual bool shutting_down() const = 0;
  // The port actually bound (0 before listening).
  virtual int port() const = 0;
  virtual std::size_t connection_count() const = 0;
  // The loops as the worlds use them: a world's home loop, and its tick's frames built on
  // every loop at once.
  virtual FanOutRunner& loops() = 0;

 protected:
  ~AppHost() = default;
};

}  // namespace skirmish::server
