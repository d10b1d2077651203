// The game's wire messages (JSON text frames), documented in docs/protocol.md.
// Messages in, bytes out: no game logic here, and nothing from game/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "protocol/player_name.h"

namespace skirmish::protocol {

constexpr int kGameProtocolVersion = 1;

// ---- client -> server
struct JoinMsg {
  std::string name;
  std::string token;  // reconnect token from an earlier welcome, or empty
};
struct InputMsg {
  std::uint32_t seq = 0;
  bool has_seq = false;  // the client numbered it: frames will say when it was applied
  float dx = 0, dy = 0;  // wanted direction, each within [-1, 1]; the server normalises
  bool attack = false;
};
struct PingMsg {
  double t = 0;  // the client's clock, echoed back
};
struct LeaveMsg {};
struct WatchMsg {  // spectators: look at this point
  float x = 0, y = 0;
};
using ClientMsg = std::variant<JoinMsg, InputMsg, PingMsg, LeaveMsg, WatchMsg>;

struct DecodeError {
  std::string code;     // "bad_json", "bad_message", "unknown_type", "bad_field"
  std::string message;  // for humans
};

std::variant<ClientMsg, DecodeError> decode_client_message(std::string_view text);
// The same from JSON already parsed (an HTTP body): a message is parsed once, at the edge.
std::variant<ClientMsg, DecodeError> decode_client_message(const nlohmann::json& j);

// A client's JSON text as a document; a discarded one when it is not JSON. Unlike
// nlohmann::json::parse alone, text with a NUL byte is refused: that parser takes a NUL for the
// end of its input (so "{...}\0junk" would pass), and a raw NUL is never JSON (RFC 8259 7).
nlohmann::json parse_client_json(std::string_view text);
// Whether `text` could be JSON as far as the NUL rule goes (for callers with their own parser).
inline bool free_of_nul(std::string_view text) { return text.find('\0') == std::string_view::npos; }

// ---- server -> client
struct ObstacleRect {
  float x, y, w, h;
};
struct MonsterKindInfo {
  std::string name;
  int max_hp;
  float speed, attack_range, aggro_radius;
};
// The rules of a player's body, so that a client predicts its own movement (and shows its
// cooldown) with the server's numbers rather than guesses.
struct PlayerRulesInfo {
  float speed = 0;             // units a second
  int max_hp = 0;
  int damage = 0;              // a hit's damage
  float attack_range = 0;      // reaches a target this near
  int attack_cooldown_ms = 0;  // between two attacks
  int respawn_ms = 0;          // from death to the respawn
  int spawn_protection_ms = 0; // monsters leave a player alone this long after a (re)spawn or resume, until it attacks
};
struct HelloMsg {  // sent on connect: everything needed to draw the world before joining
  int tick_rate;
  float world_width, world_height, view_radius;
  std::vector<ObstacleRect> obstacles;
  std::vector<MonsterKindInfo> monster_kinds;
  PlayerRulesInfo player;
  float safe_x = 0, safe_y = 0, safe_radius = 0;  // the spawn camp; radius 0: none
  std::string world_name;  // which of the server's worlds this is (world.name); empty: not said
};
struct WelcomeMsg {  // the answer to join
  std::uint32_t player_id;
  int tick_rate;
  float world_width, world_height, view_radius;
  std::string token;
  bool resumed;  // true when the token gave back an existing player
  std::string world_name;  // the world the player is in (world.name); empty: not said
};

std::string encode_hello(const HelloMsg& m);
std::string encode_welcome(const WelcomeMsg& m);
std::string encode_pong(double client_t, std::int64_t server_ts_ms);
std::string encode_error(std::string_view code, std::string_view message);
// For clients without a close frame (polling sessions): the server ends the session, with a
// WebSocket close code and reason.
std::string encode_closing(std::uint16_t code, std::string_view reason);

// ---- tick frames, assembled from pieces encoded once per tick.
// Which entity fields an encoded delta carries.
enum EntityField : std::uint8_t {
  kFieldPosition = 1,
  kFieldHp = 2,
  kFieldState = 4,
  kFieldFacing = 8,
  kFieldScore = 16,
  kFieldAway = 32,  // players only
  kFieldAll = 63,
};
struct EntityView {
  std::uint32_t id;
  std::string_view kind;  // "player" or the monster kind's name
  float x, y, facing;
  int hp, max_hp, score;
  std::string_view state;
  std::string_view name;  // players only
  bool away = false;       // players: no client connected (not attackable, does not move)
  // Dead players: the first tick they are alive again, and where. 0: not a dead player.
  std::uint64_t respawn_tick = 0;
  float respawn_x = 0, respawn_y = 0;
};
// An entity's fields as they appear on the wire: positions in tenths of a unit, facing in
// tenths of a radian. Deciding what changed on these, not on the floats, means a client is
// sent a field exactly when the text it would see differs, and never for movement too
// small to show.
struct WireEntity {
  std::int32_t x10 = 0, y10 = 0, facing10 = 0;
  int hp = 0, score = 0;
  std::string_view state;
  bool away = false;
  // Sent with the state of a dead player (never compared on its own: it is set at death).
  std::uint64_t respawn_tick = 0;
  std::int32_t respawn_x10 = 0, respawn_y10 = 0;
  // Protocol v2's facing (256 steps a turn). Not compared: facing10 decides when it is sent.
  std::uint8_t facing256 = 0;
};
WireEntity to_wire(const EntityView& e);
// A coordinate in whole tenths of a unit, as both formats send it (NaN -> 0, clamped to +-1e8).
std::int32_t wire_tenths(float v);
// The EntityField bits whose wire value differs between `before` and `now`.
std::uint8_t changed_fields(const WireEntity& before, const WireEntity& now);

// {"id":..,"kind":..,...}: every field (the first time a client sees the entity).
void append_entity_full(std::string& out, const EntityView& e);
// {"id":..,<only the fields in `fields`>}.
void append_entity_delta(std::string& out, const EntityView& e, std::uint8_t fields);
// The same two from an entity's wire values (what a tick's encoder keeps of it), with the
// parts that are not on the wire given apart: the same bytes as from its EntityView.
void append_entity_full(std::string& out, std::uint32_t id, std::string_view kind, std::string_view name, int max_hp,
                        const WireEntity& wire);
void append_entity_delta(std::string& out, std::uint32_t id, bool player, const WireEntity& wire, std::uint8_t fields);

struct EventView {
  std::string_view type;  // "attack", "death", "respawn"
  std::uint32_t attacker, target;
  int damage;
  float x, y;
};
void append_event(std::string& out, const EventView& e);

// Writes {"type":"tick","tick":N,"ts":T,"players":P,"entities":[...],"removed":[...],"events":[...]}
// piece by piece into a caller-owned buffer, so a frame is built by copying pre-encoded bytes.
// The viewer's own last input the world applied: its `seq`, and the tick whose step first
// moved with it. A client that predicts its own player knows from it which of its inputs a
// position reflects, and for how many ticks the last one has been moving it.
struct InputAck {
  std::uint32_t seq = 0;
  std::uint64_t tick = 0;
};

class TickFrameWriter {
 public:
  // Clears `out` and starts a frame. `full` marks a resync: the frame lists everything in the
  // client's view in full, and the client drops whatever it holds that is not listed.
  void begin(std::string& out, std::uint64_t tick, std::int64_t ts_ms, std::size_t players, bool full = false,
             const InputAck* ack = nullptr);
  void add_entity(std::string_view encoded);
  void add_removed(std::uint32_t id);
  void add_event(std::string_view encoded);
  // Closes the JSON object. Sections must be added in order: entities, removed, events.
  void finish();

 private:
  enum class Section : std::uint8_t { Entities, Removed, Events, Done };
  void enter(Section s);
  std::string* out_ = nullptr;
  Section section_ = Section::Done;
  bool first_ = true;
};

// Appends a JSON string literal (quotes and escapes) for `s`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace skirmish::protocol
