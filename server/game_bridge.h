// Maps the simulation's state to wire messages, doing the expensive part once per tick:
// each changed entity and each event is JSON-encoded once, and a viewer's frame is then
// assembled by copying the pieces its view contains (interest management).
//
// A viewer need not get every tick's frame (send-rate shedding, a slow reader): each frame
// carries everything that changed since *that viewer's* last frame. The bridge remembers,
// per entity and per wire field, the encode stamp at which the field last changed, and keeps
// the last kEventTicks ticks' events, so a viewer served every k-th tick loses nothing.
//
// Two parts: the bridge itself (encode_tick, prepare_views), which only the world's loop
// touches, and FrameAssembler, which builds viewers' frames from it. Between one
// prepare_views() and the next encode_tick() the bridge is only read (but for its table of
// shared pieces, written through atomics), and an assembler reads nothing else of the world:
// several assemblers (one per thread) may then build frames of the same tick at once, and
// those made Shared encode each piece once between them (PieceTable).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "game/visibility_index.h"
#include "game/world.h"
#include "protocol/game_messages.h"
#include "protocol/tick_v2.h"
#include "server/frame_format.h"
#include "server/piece_arena.h"
#include "server/piece_table.h"

namespace skirmish::server {

// Counts encode_tick() calls; 64 bits, so it never wraps (a wrapped stamp would make old
// changes look new and new ones old).
using Stamp = std::uint64_t;

class FrameAssembler;

class GameBridge {
 public:
  // Ticks of events kept for viewers that skipped frames; a viewer further behind than this
  // misses the older ones (it still gets every entity's state).
  static constexpr std::uint32_t kEventTicks = 32;
  static constexpr int kFieldCount = 6;  // the bits of protocol::EntityField

  GameBridge(const game::World& world, float view_radius);
  ~GameBridge();

  // After each World::step() (every one: removals are read from World::removed(), which
  // lists only the last step's): notes what changed and encodes the tick's events. Stamps count
  // these calls from 1; a viewer's frame is "since" the stamp of its previous frame.
  // `online_players` is what frames report as "players": those with a client connected.
  void encode_tick(std::int64_t ts_ms, std::size_t online_players);
  Stamp stamp() const { return stamp_; }
  // Before building frames (after the last encode_tick of a loop turn): indexes where every
  // entity stands.
  void prepare_views();

  // Builds one viewer's frame with the bridge's own assembler (one thread); see
  // FrameAssembler::build_frame.
  void build_frame(float cx, float cy, std::vector<game::EntityId>& known, Stamp since, std::string& out,
                   bool full = false, FrameFormat format = FrameFormat::Json, FrameHistory* history = nullptr);

  // What a client needs to draw the world before it joins.
  protocol::HelloMsg hello() const;

  // Bytes encoded for the latest tick: its events in both formats, and the pieces the bridge's
  // own assembler encoded for it (those of the tick before until it builds a frame).
  std::size_t encoded_bytes() const;

  // The bucket a point is in: view-radius squares numbered row by row, a point off the map in
  // the nearest. A tick's events are sorted by it; the fan-out builds frames in its order.
  std::uint32_t bucket_of(float x, float y) const;

 private:
  friend class FrameAssembler;
  struct Span {
    std::uint32_t at = 0, len = 0;
  };
  // A wire position and the stamp it was published at: what a viewer whose last frame was
  // at or after that stamp (and before the next mark) holds.
  struct PositionMark {
    Stamp stamp = 0;
    std::int32_t x10 = 0, y10 = 0;
  };
  // A v2 prediction needs the marks at a viewer's last two frames: for a viewer served every
  // 4th tick and an entity moving every tick, 9 marks back; and then some.
  static constexpr std::size_t kPositionMarks = 16;
  // What the bridge knows of one entity: everything its frames are made of, so that an
  // assembler never reads the world (which the next step changes).
  struct Encoded {
    game::EntityId id = 0;
    bool published = false;  // `wire` holds what the last encode_tick saw
    protocol::WireEntity wire;
    std::array<Stamp, kFieldCount> changed_at{};  // stamp each wire field last changed
    std::uint32_t kind = 0;  // v2's kind code: 0 a player, n the monster kind n-1
    std::string_view kind_name;  // v1's: "player" or the monster kind's name (the config's)
    std::string name;            // players' (copied when it enters the world)
    int max_hp = 0;
    std::uint8_t next_mark = 0, marks = 0;
    std::array<PositionMark, kPositionMarks> positions{};
  };
  struct EncodedEvent {
    std::uint32_t bucket;
    float x, y;
    Span json, bin;  // in its tick's arenas
  };
  // One tick's events, sorted by bucket, so a view's 3x3 buckets are three ranges; and the
  // tick and ts its frames said, which v2 frames code the next ones against.
  struct TickEvents {
    Stamp stamp = 0;
    std::uint64_t tick = 0;
    std::int64_t ts_ms = 0;
    std::string json, bin;
    std::vector<EncodedEvent> events;
  };

  // The newest position mark at or before `stamp`: what a viewer whose frame had that stamp
  // holds. Null when the marks no longer reach back that far.
  static const PositionMark* position_at(const Encoded& slot, Stamp stamp);
  void mark_position(Encoded& slot);
  std::uint8_t fields_since(std::uint32_t index, Stamp since) const;
  protocol::EntityView view_of(const game::Entity& e) const;
  struct BucketXY {
    int x, y;
  };
  BucketXY bucket_xy(float x, float y) const;
  static std::string_view in(const std::string& arena, Span span) { return {arena.data() + span.at, span.len}; }

  const game::World& world_;
  float view_radius_;
  std::int64_t ts_ms_ = 0;
  std::uint64_t tick_ = 0;  // the world's tick at the last encode_tick
  std::size_t online_players_ = 0;
  Stamp stamp_ = 0;
  // Indexed like world_.entities(); an entry whose id differs from the entity's is stale.
  std::vector<Encoded> encoded_;
  // Where each entity's entry is, by id. A removal moves the last entity into the hole
  // (swap-and-pop): its entry follows it (adopt), so it is not re-sent in full to everyone
  // as if new. Entries of removed ids are dropped at the next encode_tick.
  std::unordered_map<game::EntityId, std::uint32_t> slot_of_;
  void adopt(std::uint32_t index, game::EntityId id);
  // Per entity index, the newest stamp at which anything about it changed (a field, or its
  // entry into the world), and the stamp of that entry: the per-viewer loop reads these 8
  // bytes for an entity it knows and mostly stops there.
  std::vector<Stamp> last_change_;
  std::vector<Stamp> entered_at_;
  Stamp players_changed_at_ = 0;
  game::VisibilityIndex visibility_;
  std::uint64_t views_ = 0;  // prepare_views() calls: a view query answered before one is stale
  // The pieces Shared assemblers encoded in this tick (sized in encode_tick; during a
  // fan-out written only through its atomics).
  mutable PieceTable shared_;
  int buckets_x_ = 1, buckets_y_ = 1;
  std::array<TickEvents, kEventTicks> event_ring_;  // by stamp % kEventTicks
  std::size_t events_bytes_ = 0;
  std::unique_ptr<FrameAssembler> own_;  // build_frame's
};

// Builds viewers' frames from a GameBridge, reading it only: one per thread that builds
// frames. The pieces of a frame (an entity's full record, its delta for a set of fields, v2's
// entering record and update tail) are encoded the first time a viewer needs them in a tick,
// and reused by the other viewers (of every Shared assembler of the bridge: its table);
// scratch space is reused by every call: no allocation per viewer per tick.
class FrameAssembler {
 public:
  // Alone: the pieces it encodes are its own (the bridge's own build_frame, tests and
  // benchmarks). Shared: it also takes the pieces the other Shared assemblers of the same
  // bridge encoded in this tick, and offers its own to them (the assemblers of one world's
  // loops; see PieceTable).
  enum class Sharing : std::uint8_t { Alone, Shared };
  explicit FrameAssembler(Sharing sharing = Sharing::Alone) : sharing_(sharing) {}

  // Builds one viewer's tick payload for a view centred on (cx, cy) into `out`, given the ids
  // it knows (sorted) and the stamp of its last frame (`since`; 0 for none), and replaces
  // `known` with what it now knows: entities entering the view are sent in full, known ones
  // with the fields that changed after `since`, and ones that left the view or the world are
  // listed in "removed"; events after `since` are included. With `full`, every visible entity
  // is sent in full and the frame is marked as a resync. Answers for the world as of the
  // bridge's last prepare_views(). `format` Binary builds protocol v2's message, whose
  // positions are coded against what the viewer predicts from its last two frames: `since`
  // must be the stamp of the frame it last received, and `history` (required) is kept here
  // between its frames.
  void build_frame(const GameBridge& bridge, float cx, float cy, std::vector<game::EntityId>& known, Stamp since,
                   std::string& out, bool full = false, FrameFormat format = FrameFormat::Json,
                   FrameHistory* history = nullptr, const protocol::InputAck* ack = nullptr);
  // Bytes of pieces this assembler encoded in the current tick (not those it found).
  std::size_t encoded_bytes() const { return arena_.size(); }

 private:
  using Piece = PieceTable::Piece;

  // A new tick, or another bridge: empties the arena, sizes the table.
  void start_tick(const GameBridge& bridge);
  // The piece of `kind` for entity `index` and `fields` (fulls: kFieldAll): found in the
  // table (or the overflow), else encode(scratch, piece) writes it (and v2's h, m), and it is
  // kept and offered (and put in the overflow if the table declines it).
  template <class Encode>
  Piece obtain(std::uint32_t index, PieceTable::Kind kind, std::uint8_t fields, Encode&& encode);
  std::string_view full_of(std::uint32_t index);
  std::string_view delta_of(std::uint32_t index, std::uint8_t fields);
  std::string_view entering_of(std::uint32_t index);
  // v2's update tail for `fields` (all but the position), with its h bits and m byte.
  Piece update_tail_of(std::uint32_t index, std::uint8_t fields);
  // Writes an update's position for a viewer into position_; returns the h bits of its form.
  std::uint8_t encode_position(std::uint32_t index, game::EntityId id, Stamp since, const FrameHistory& history);
  void add_events(float cx, float cy, Stamp since, FrameFormat format);

  Sharing sharing_;
  const GameBridge* bridge_ = nullptr;  // whose tick the arena holds (an Alone one may serve several)
  Stamp stamp_ = 0;                     // the tick the arena holds
  PieceTable own_table_;                // an Alone assembler's pieces
  PieceTable* table_ = nullptr;         // own_table_, or the bridge's (Shared)
  PieceArena arena_;                    // the bytes of the pieces this assembler encoded in this tick
  // Pieces the table had no entry for (a slot's third field set in a tick: a resync, a viewer
  // served late), for this assembler's other viewers; direct-mapped, a clash encodes again.
  struct Overflow {
    Stamp stamp = 0;
    std::uint32_t index = 0;
    std::uint8_t kind = 0, fields = 0;
    Piece piece;
  };
  static constexpr std::size_t kOverflow = 1024;
  std::vector<Overflow> overflow_;  // kOverflow entries once one is needed
  Overflow& overflow_of(std::uint32_t index, PieceTable::Kind kind, std::uint8_t fields);
  std::string scratch_;                 // one piece being encoded
  // The last view query's answer and centre, for the assembler's tick (start_tick forgets it):
  // viewers looking at one point (spectators of one spot; a loop's jobs come sorted by place)
  // share one query, which was a third of skirmishd's own CPU with 1,000 such viewers.
  std::vector<game::World::VisibleRef> visible_;
  bool visible_valid_ = false;
  std::uint64_t visible_views_ = 0;  // GameBridge::views_ it answered for
  float visible_x_ = 0, visible_y_ = 0;
  std::vector<game::EntityId> removed_;
  std::vector<std::uint32_t> entered_now_;  // v2: ids entering in the frame being built
  std::string position_;                    // v2: one update's position, per viewer
  protocol::TickFrameWriter writer_;
  protocol::v2::TickWriter writer2_;
};

}  // namespace skirmish::server
