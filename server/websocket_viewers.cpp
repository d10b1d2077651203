#include "server/websocket_viewers.h"

#include "protocol/request_target.h"
#include "protocol/tick_v2.h"

namespace skirmish::server {

namespace {

std::optional<float> query_number(const std::string& target, std::string_view name) {
  const auto v = protocol::query_param(target, name);
  if (!v) return std::nullopt;
  return protocol::parse_decimal_float(*v);
}

}  // namespace

ViewerSink::Readiness WebSocketViewers::Sink::readiness() const {
  return conn_.is_open() && !conn_.over_soft_limit() ? Readiness::Ready : Readiness::Skip;
}

void WebSocketViewers::Sink::send_frame(std::string_view payload) {
  conn_.send_frame(format_ == FrameFormat::Binary ? protocol::Opcode::Binary : protocol::Opcode::Text, payload);
}

void WebSocketViewers::Sink::send_message(std::string_view json) {
  if (port_.on_thread()) {
    if (conn_.is_open()) conn_.send_text(json);
    return;
  }
  port_.post([port = &port_, id = id_, text = std::string(json)] {
    if (Connection* c = port->find(id); c && c->is_open()) c->send_text(text);
  });
}

void WebSocketViewers::Sink::close_for_policy(std::string_view reason) {
  if (port_.on_thread()) {
    conn_.close_websocket(1008, reason);
    return;
  }
  port_.post([port = &port_, id = id_, why = std::string(reason)] {
    if (Connection* c = port->find(id)) c->close_websocket(1008, why);
  });
}

void WebSocketViewers::on_open(Connection& conn, const protocol::HttpRequest& request) {
  // The subprotocol the handshake agreed on decides the format of the tick frames.
  const auto format = conn.subprotocol() == protocol::v2::kSubprotocol ? FrameFormat::Binary : FrameFormat::Json;
  auto sink = std::make_unique<Sink>(conn, format);
  const auto& cfg = game_.world_config();
  const float x = query_number(request.target, "x").value_or(cfg.world_width / 2);
  const float y = query_number(request.target, "y").value_or(cfg.world_height / 2);
  // The handshake was refused unless `world` is empty or names one of ours.
  const std::string world = protocol::query_param(request.target, "world").value_or("");
  // A seat the fleet reserved for this player (/place gave it in the URL).
  const std::string seat = protocol::query_param(request.target, "seat").value_or("");
  sink->viewer = game_.open_viewer(*sink, x, y, world, seat, conn.ip());
  conn.set_app_data(sink.get());  // for queue_input, which runs without the game's lock
  // The shared hello goes to the kernel as the payload of its frame, not copied first: a
  // hello lists every obstacle (tens of KB in a big world). (Copied only if the kernel does
  // not take it all at once: the rest waits in the connection's queue.)
  conn.send_text(game_.hello(sink->viewer));
  sinks_[conn.id()] = std::move(sink);
}

void WebSocketViewers::on_message(Connection& conn, std::variant<protocol::ClientMsg, protocol::DecodeError>& decoded) {
  const auto it = sinks_.find(conn.id());
  if (it == sinks_.end()) return;
  if (auto* error = std::get_if<protocol::DecodeError>(&decoded)) {
    game_.reject(it->second->viewer, *error);
  } else {
    game_.handle(it->second->viewer, std::get<protocol::ClientMsg>(decoded));
  }
}

bool WebSocketViewers::queue_input(Connection& conn,
                                   const std::variant<protocol::ClientMsg, protocol::DecodeError>& decoded) {
  const auto* msg = std::get_if<protocol::ClientMsg>(&decoded);
  const auto* input = msg ? std::get_if<protocol::InputMsg>(msg) : nullptr;
  if (input == nullptr) return false;
  // Set on open and cleared on close, both on this loop's thread: the sink lives while it is set.
  auto* sink = static_cast<Sink*>(conn.app_data());
  InputQueue* queue = sink ? sink->inputs.load(std::memory_order_acquire) : nullptr;
  if (queue == nullptr) return false;
  queue->push({sink->viewer, input->dx, input->dy, input->attack, input->has_seq, input->seq});
  return true;
}

void WebSocketViewers::on_text(Connection& conn, std::string_view text) {
  auto decoded = protocol::decode_client_message(text);
  // An input goes to its world's queue without the game's lock (the world applies it at its
  // next tick); everything else, and an input of a viewer in no world, is handled with it.
  if (queue_input(conn, decoded)) return;
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  on_message(conn, decoded);
}

void WebSocketViewers::on_binary(Connection& conn, std::string_view) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  // Answered but not held against the client: binary frames are valid WebSocket, just not
  // our protocol, and a generic client (a conformance suite, a proxy's probe) may send some.
  game_.stats().binary_messages++;
  if (conn.is_open()) {
    conn.send_text(protocol::encode_error("bad_message", "binary messages are not part of the protocol: send JSON text"));
  }
}

void WebSocketViewers::on_close(Connection& conn) {
  const auto it = sinks_.find(conn.id());
  if (it == sinks_.end()) return;
  conn.set_app_data(nullptr);
  game_.close_viewer(it->second->viewer);
  sinks_.erase(it);
}

}  // namespace skirmish::server
