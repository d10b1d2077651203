// One viewer of a world, whatever its transport: a WebSocket, or an HTTP polling session.
// The world's tick walks an array of these (each on the heap: its address is stable); what a viewer's frames and messages turn
// into on the wire is its sink's business, so the tick does not know the transport.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "game/entity.h"
#include "protocol/game_messages.h"
#include "server/frame_format.h"
#include "server/viewer_id.h"

namespace skirmish::server {

class InputQueue;

class ViewerSink {
 public:
  enum class Readiness : std::uint8_t {
    Ready,   // can take a frame now
    Resync,  // can, but frames built for it were dropped: this one must list its view in full
    // Cannot (a WebSocket over its soft limit, a polling session nobody polls): no frame is
    // built, and its next one lists its view in full.
    Skip,
  };
  virtual ~ViewerSink() = default;
  virtual Readiness readiness() const = 0;
  // How this viewer's frames are encoded (fixed for its life).
  virtual FrameFormat frame_format() const { return FrameFormat::Json; }
  // One tick frame's payload (in frame_format()), valid during the call only.
  virtual void send_frame(std::string_view payload) = 0;
  // A message that is not a tick: a reply, or news (session_taken).
  virtual void send_message(std::string_view json) = 0;
  // The viewer now looks at another world, which `hello` describes: whatever of the old world
  // was built for it and not yet delivered must not follow the hello (a polling backlog).
  virtual void start_over(std::string_view hello) { send_message(hello); }
  // The viewer broke the rules too often: end its transport with 1008 and `reason`.
  virtual void close_for_policy(std::string_view reason) = 0;
  // The viewer is now in the world whose inputs go to `queue` (called with the game's lock
  // held, any thread). A transport that reads inputs on another loop pushes them there
  // without the game's lock; one that does not (polling) ignores it.
  virtual void route_inputs(InputQueue* /*queue*/) {}

  // Threads. A tick's frames for this viewer are built and sent on the event loop it lives on
  // (readiness and send_frame are called on that loop's thread only, with no lock held), or,
  // when it needs the game's lock, on the world's home loop with that lock held. send_message and
  // close_for_policy may be called on any thread, with the game's lock held.
  virtual std::uint8_t loop() const { return 0; }
  virtual bool needs_game_lock() const { return false; }
  // Whether the answer to a join may come later, as a message of its own (a WebSocket), or
  // must come within the call (a polling session's POST /session answers with it). A join
  // with a token only the fleet's Redis knows waits for Redis only when it may.
  virtual bool answers_later() const { return true; }
};

// Written under the game's lock, except for the delivery state (resync, known, history,
// last_frame), which only the fan-out on the viewer's loop touches while a tick's frames are
// being built. A viewer removed meanwhile keeps its memory (sink set to null) until that is over.
struct Viewer {
  ViewerSink* sink = nullptr;
  ViewerId id = 0;
  game::EntityId player = 0;  // 0: a spectator
  std::uint32_t player_index = UINT32_MAX;  // where the player was in World::entities(): saves a lookup a tick
  float view_x = 0, view_y = 0;
  // Movement is held until the next input changes it, so a client sends inputs when its
  // controls change, not every tick; an attack is applied once, at the next tick.
  float move_dx = 0, move_dy = 0;
  std::uint64_t move_since = 0;  // the first step that moved with move_dx, move_dy (0: unknown)
  bool attack = false;
  bool resync = false;       // its frames were skipped: the next one lists its view in full
  // Its loop found it could not take a frame (delivery state): a budget does not count it
  // until it can again; it is still asked every due tick.
  bool blocked = false;
  FrameFormat format = FrameFormat::Json;
  FrameHistory history;  // v2 only
  std::uint8_t phase = 0;    // which of every k ticks it is served on, without a budget (0..11)
  std::uint16_t inputs_this_tick = 0;
  // Its last numbered input applied (tick 0: none yet), and whether a frame has yet to say so:
  // written under the game's lock (inputs applied, a join); the plan of a tick's frames
  // copies them into the viewer's job, under the lock too, and the fan-out reads only that.
  protocol::InputAck ack;
  bool ack_unsaid = false;
  std::uint64_t last_frame = 0;  // the bridge's stamp (GameBridge::Stamp) at its last frame; 0: none yet
  // When its last frame was planned (even one then skipped), in the world's order of planning:
  // its place in line under a budget, among viewers last served on the same tick.
  std::uint64_t turn = 0;
  int bad_messages = 0;
  std::vector<game::EntityId> known;  // sorted ids the viewer has been sent

  // It stops steering a player, or starts on a new one: no movement or attack held, and the
  // acknowledgements start afresh (they are of one player's inputs).
  void reset_controls() {
    move_dx = move_dy = 0;
    move_since = 0;
    attack = false;
    ack = {};
    ack_unsaid = false;
  }
};

}  // namespace skirmish::server
