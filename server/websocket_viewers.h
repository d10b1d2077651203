// The WebSocket transport of the game: each open /ws connection is one viewer, whose
// frames go straight to its connection. Text messages are decoded here, once, into typed
// messages for the game, on the connection's loop and before the game's lock is taken.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "protocol/http_types.h"
#include "server/connection.h"
#include "server/game_port.h"
#include "server/input_queue.h"

namespace skirmish::server {

class WebSocketViewers {
 public:
  // `mutex`: the game's. on_open and on_close come with it held (the server holds it); the
  // messages come without it, and take it themselves when they need it.
  WebSocketViewers(GamePort& game, std::recursive_mutex& mutex) : game_(game), mutex_(mutex) {}

  void on_open(Connection& conn, const protocol::HttpRequest& request);
  // A text message: decoded here first, without the lock, so loops decode in parallel; an
  // input goes to its world's queue without the lock too.
  void on_text(Connection& conn, std::string_view text);
  void on_binary(Connection& conn, std::string_view data);
  void on_close(Connection& conn);
  std::size_t size() const { return sinks_.size(); }

 private:
  // With the game's lock held: what a decoded message (or the reason it did not decode) does.
  void on_message(Connection& conn, std::variant<protocol::ClientMsg, protocol::DecodeError>& decoded);
  // On the connection's loop, without the game's lock: when `decoded` is an input of a viewer
  // in a world, queues it for that world's next tick and returns true.
  bool queue_input(Connection& conn, const std::variant<protocol::ClientMsg, protocol::DecodeError>& decoded);

  class Sink final : public ViewerSink {
   public:
    Sink(Connection& conn, FrameFormat format) : conn_(conn), port_(conn.loop_port()), id_(conn.id()), format_(format) {}
    Readiness readiness() const override;
    FrameFormat frame_format() const override { return format_; }
    void send_frame(std::string_view payload) override;
    // From another loop's thread these are posted to the connection's loop, where they find it
    // by id (it may be gone by then).
    void send_message(std::string_view json) override;
    void close_for_policy(std::string_view reason) override;
    std::uint8_t loop() const override { return port_.index(); }
    void route_inputs(InputQueue* queue) override { inputs.store(queue, std::memory_order_release); }
    ViewerId viewer = 0;
    // Its world's input queue (written under the game's lock, read by its loop without it).
    std::atomic<InputQueue*> inputs{nullptr};

   private:
    // Valid for the sink's whole life: the server tells us on_close() before it frees it.
    // Used directly only on its loop's thread.
    Connection& conn_;
    LoopPort& port_;
    ConnId id_;
    FrameFormat format_;
  };
  GamePort& game_;
  std::recursive_mutex& mutex_;
  std::unordered_map<ConnId, std::unique_ptr<Sink>> sinks_;  // the sink's address is the viewer's, stable
};

}  // namespace skirmish::server
