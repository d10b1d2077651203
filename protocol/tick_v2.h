// Protocol v2's binary tick message (subprotocol "skirmish.v2"), specified byte by byte in
// docs/protocol.md. Values are coded against what both ends already know: the client's
// previous frame, the sorted list of entities it holds (named by index, not id) and each
// held entity's last sent position. Over TCP what was sent is what was received, so no acks.
//
// The server side is in pieces, like v1's: an entity's update body and entering body are
// encoded once per tick and shared; the per-client parts (an update's skip, an entering
// record's id delta, the frame header) are a few bytes written while a frame is assembled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/game_messages.h"

namespace skirmish::protocol::v2 {

class ByteReader;  // tick_v2.cpp

inline constexpr std::string_view kSubprotocol = "skirmish.v2";

// Bits of the head byte.
enum Head : std::uint8_t {
  kKindTick = 0x01,
  kKindMask = 0x0F,
  kHeadFull = 0x10,
  kHeadAbsolute = 0x20,
  kHeadPlayers = 0x40,
  kHeadAck = 0x80,
};
// Bits of an update's h byte (bits 0-2 are the skip).
enum UpdateBits : std::uint8_t {
  kSkipMask = 0x07,
  kPosShift = 3,
  kPosMask = 0x18,
  kUpdFacing = 0x20,
  kUpdHp = 0x40,
  kUpdMore = 0x80,
};
// Forms 1 and 2 are corrections to the client's prediction: its held position plus the move
// it saw between its last two frames (zero for an entity that entered in the last one).
enum PosForm : std::uint8_t { kPosNone = 0, kPosNudge = 1, kPosDelta = 2, kPosAbsolute = 3 };
// Bits of an update's m byte.
enum MoreBits : std::uint8_t { kMoreState = 0x01, kMoreScore = 0x02, kMoreAway = 0x04, kMoreAwayValue = 0x08 };
inline constexpr std::uint8_t kStateRespawn = 0x80;

void put_varint(std::string& out, std::uint64_t v);
void put_svarint(std::string& out, std::int64_t v);
// 256 steps a turn; decodes into (-pi, pi].
std::uint8_t facing_byte(float radians);
float facing_radians(std::uint8_t b);
// The state's code (docs/protocol.md), or -1 for a name that has none.
int state_code(std::string_view name);
std::string_view state_name(int code);  // "" for an unknown code
std::string_view event_name(int code);  // "attack", "death", "respawn"; "" for an unknown code

// ---- encoding pieces (server)

// Where a client predicts an entity to be: `held + (held - previous)`, from the position it
// holds and the one it held at the frame before (docs/protocol.md).
struct Prediction {
  std::int64_t x10 = 0, y10 = 0;  // 64 bits: twice a coordinate minus another
};

// An update's fields after the position (facing, hp, state, score): the same for every
// client in a tick, so encoded once. Sets h's FACING, HP and MORE bits and the m byte.
void encode_update_tail(std::string& tail, std::uint8_t& h, std::uint8_t& m, const WireEntity& w,
                        std::uint8_t fields, bool is_player, std::uint64_t frame_tick);
// An update's position, against what the client predicts (null: the server does not know
// its prediction, and the position goes absolute). Returns the h bits of its form.
std::uint8_t encode_position(std::string& out, std::int32_t x10, std::int32_t y10, const Prediction* predicted);
// A whole update body (what follows the h byte and the skip), for tests and tools: `h` gets
// every bit but the skip.
void encode_update(std::string& body, std::uint8_t& h, const WireEntity& w, std::uint8_t fields, bool is_player,
                   const Prediction* predicted, std::uint64_t frame_tick);
// An entering record without its id delta. `kind`: 0 a player, n the monster kind n-1.
void encode_entering(std::string& body, const WireEntity& w, std::uint32_t kind, std::uint8_t facing, int max_hp,
                     std::string_view name, std::uint64_t frame_tick);
void encode_event(std::string& out, std::uint8_t type, std::uint32_t attacker, std::uint32_t target, int damage,
                  std::int32_t x10, std::int32_t y10);

// Assembles one client's frame from pieces. Sections may be added in any order; finish()
// writes them in the order of the format.
class TickWriter {
 public:
  // `previous`: the tick and ts of the client's previous frame, when it is known (not on a
  // first or FULL frame); `players_changed`: the count differs from that frame's.
  struct Previous {
    std::uint64_t tick;
    std::int64_t ts_ms;
  };
  // `ack`: the client's last applied input, to be said in this frame (ACK).
  void begin(std::uint64_t tick, std::int64_t ts_ms, std::size_t players, bool full,
             std::optional<Previous> previous, bool players_changed, const InputAck* ack = nullptr);
  // A held entity, `held_index` in the list as it was before this frame (ascending calls):
  // h without the skip, then its body; or the body in parts (m when h has MORE).
  void add_update(std::size_t held_index, std::uint8_t h, std::string_view body);
  void add_update(std::size_t held_index, std::uint8_t h, std::uint8_t m, std::string_view position,
                  std::string_view tail);
  void add_removed(std::size_t held_index);
  void add_entering(std::uint32_t id, std::string_view body);  // ascending ids
  void add_event(std::string_view encoded);
  void finish(std::string& out);

 private:
  void put_update_head(std::size_t held_index, std::uint8_t h);
  std::uint8_t head_ = 0;
  std::uint64_t tick_ = 0;
  std::int64_t ts_ = 0;
  std::size_t players_ = 0;
  InputAck ack_;
  std::string updates_, removed_, entering_, events_;
  std::size_t n_updates_ = 0, n_removed_ = 0, n_entering_ = 0, n_events_ = 0;
  std::size_t update_cursor_ = 0, removed_cursor_ = 0;
  std::uint32_t last_entering_ = 0;
};

// ---- decoding (clients: the load tester, tests)

// One entity record as v1 would have sent it. `fields` holds the EntityField bits present;
// `entering` marks a full record (kind, name and max_hp are then set too).
struct EntityRecord {
  std::uint32_t id = 0;
  bool entering = false;
  std::uint8_t fields = 0;
  std::string kind;  // entering only: "player" or the monster kind's name
  std::string name;  // entering players only
  int max_hp = 0;
  std::int32_t x10 = 0, y10 = 0;
  float facing = 0;
  int hp = 0, score = 0;
  std::string_view state;
  bool away = false;
  std::uint64_t respawn_tick = 0;  // with state, for a dead player; 0: none
  std::int32_t respawn_x10 = 0, respawn_y10 = 0;
};
struct EventRecord {
  std::string_view type;  // "attack", "death", "respawn"
  std::uint32_t attacker = 0, target = 0;
  int damage = 0;
  std::int32_t x10 = 0, y10 = 0;
};
// A tick message, whichever format it came in.
struct TickMessage {
  std::uint64_t tick = 0;
  std::int64_t ts_ms = 0;
  std::size_t players = 0;
  bool full = false;
  std::optional<InputAck> ack;  // present when the frame says it
  std::vector<EntityRecord> entities;  // updates first, then entering ones (v1: in id order)
  std::vector<std::uint32_t> removed;
  std::vector<EventRecord> events;
  void clear();
};

// Reads v1's JSON tick into the same shape (for tests comparing the two). False when the
// text is not a tick message.
bool parse_v1_tick(std::string_view json_text, TickMessage& out);

class TickDecoder {
 public:
  // `monster_kinds`: the names from hello's monster_kinds, in order.
  explicit TickDecoder(std::vector<std::string> monster_kinds = {}) : kinds_(std::move(monster_kinds)) {}

  // Decodes one binary tick message into `out` (cleared first) and updates what the client
  // holds. On malformed input returns why; the decoder is then out of step with the server
  // (the client should reconnect) and stays unusable until reset().
  std::optional<std::string> decode(std::string_view bytes, TickMessage& out);
  // Only the header (tick, ts, players), for clients that do not keep a view; they must
  // then never call decode() on the same stream.
  std::optional<std::string> decode_header(std::string_view bytes, TickMessage& out);
  void reset();
  std::size_t held() const { return held_.size(); }

 private:
  struct Held {
    std::uint32_t id;
    std::int32_t x10, y10;    // the position it holds
    std::int32_t px10, py10;  // and the one it held the frame before (== x10, y10 when new)
  };
  std::optional<std::string> read_header(ByteReader& r, TickMessage& out);
  std::vector<std::string> kinds_;
  std::vector<Held> held_, next_;
  std::vector<std::uint8_t> gone_;  // per held entry: removed this frame
  bool have_previous_ = false, broken_ = false;
  std::uint64_t tick_ = 0;
  std::int64_t ts_ = 0;
  std::size_t players_ = 0;
};

}  // namespace skirmish::protocol::v2
