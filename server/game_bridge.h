// Maps the simulation's state to wire messages, doing the expensive part once per tick:
// each changed entity and each event is JSON-encoded once, and a client's frame is then
// assembled by copying the pieces its view contains (interest management).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "game/visibility_index.h"
#include "game/world.h"
#include "protocol/game_messages.h"

namespace skirmish::server {

class GameBridge {
 public:
  GameBridge(const game::World& world, float view_radius);

  // After each World::step(): encodes the tick's changes and events once for everyone.
  // `online_players` is what frames report as "players": those with a client connected
  // (away players wait in the world for their token but are not online).
  void encode_tick(std::int64_t ts_ms, std::size_t online_players);

  // Builds one client's tick payload for a view centred on (cx, cy) into `out`, after
  // `headroom` zero bytes, given the ids the client already knows (sorted), and replaces
  // `known` with what it now knows: entities entering the view are sent in full, known ones
  // only with what changed, and ones that left the view or the world are listed in "removed".
  // With `full`, every visible entity is sent in full and the frame is marked as a resync.
  // Answers for the world as encode_tick() saw it: call it between encode_tick() and the next
  // change to the world.
  void build_frame(float cx, float cy, std::vector<game::EntityId>& known, std::string& out, bool full = false,
                   std::size_t headroom = 0);

  // What a client needs to draw the world before it joins.
  protocol::HelloMsg hello() const;

  // Bytes of JSON encoded this tick (for metrics and benchmarks).
  std::size_t encoded_bytes() const { return encoded_bytes_; }

 private:
  // The encoded pieces live in per-tick arenas (one string each for deltas, full records and
  // events) rather than in strings per entity: memory is what one tick needs, not a string
  // per entity that ever lived, and there is no allocation per piece.
  struct Span {
    std::uint32_t at = 0, len = 0;
  };
  struct Encoded {
    game::EntityId id = 0;
    Span full;                     // every field in fulls_, valid when full_tick == tick_stamp_
    std::uint32_t full_tick = 0;
    bool published = false;        // `wire` holds what clients were last told
    protocol::WireEntity wire;
  };
  struct EncodedEvent {
    float x, y;
    Span json;  // in events_json_
  };

  // Every field of entities()[index], encoded at most once per tick (on first demand: most
  // entities enter nobody's view in a given tick). Valid until the next full_of() call.
  std::string_view full_of(std::uint32_t index);
  protocol::EntityView view_of(const game::Entity& e) const;
  std::size_t event_bucket(float x, float y) const;
  static std::string_view in(const std::string& arena, Span span) { return {arena.data() + span.at, span.len}; }

  const game::World& world_;
  float view_radius_;
  std::int64_t ts_ms_ = 0;
  std::size_t online_players_ = 0;
  std::size_t encoded_bytes_ = 0;
  std::uint32_t tick_stamp_ = 0;  // counts encode_tick() calls
  // Indexed like world_.entities(); an entry whose id differs from the entity's is stale.
  std::vector<Encoded> encoded_;
  // This tick's delta of each entity (indexed the same way): an empty span when unchanged,
  // kSendFull when the entity entered the world this tick and every view gets it in full.
  // Kept apart from encoded_ so that the per-client loop touches 8 bytes per visible entity.
  static constexpr std::uint32_t kSendFull = UINT32_MAX;
  std::vector<Span> deltas_by_index_;
  std::string deltas_, fulls_, events_json_;
  game::VisibilityIndex visibility_;
  // Events bucketed on a grid of view-radius cells, so a client looks at 3x3 buckets only.
  int buckets_x_ = 1, buckets_y_ = 1;
  std::vector<std::vector<std::uint32_t>> event_buckets_;
  std::vector<EncodedEvent> events_;
  // Scratch reused by every build_frame call: no allocation per client per tick.
  std::vector<game::World::VisibleRef> visible_;
  std::vector<game::EntityId> removed_;
  protocol::TickFrameWriter writer_;
};

}  // namespace skirmish::server
