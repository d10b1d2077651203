#include "protocol/game_messages.h"
#include "protocol/tick_v2.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "protocol/utf8.h"

namespace skirmish::protocol {

using nlohmann::json;

namespace {

DecodeError bad(std::string code, std::string message) { return DecodeError{std::move(code), std::move(message)}; }

bool finite_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

std::variant<ClientMsg, DecodeError> decode_input(const json& j) {
  InputMsg m;
  if (j.contains("seq")) {
    const json& seq = j["seq"];
    if (!seq.is_number_unsigned() || seq.get<std::uint64_t>() > 0xffffffffULL) {
      return bad("bad_field", "input.seq must be an integer from 0 to 4294967295");
    }
    m.seq = seq.get<std::uint32_t>();
    m.has_seq = true;
  }
  if (j.contains("move")) {
    const json& mv = j["move"];
    if (!mv.is_array() || mv.size() != 2 || !finite_number(mv[0]) || !finite_number(mv[1])) {
      return bad("bad_field", "input.move must be [dx, dy] with finite numbers");
    }
    m.dx = static_cast<float>(std::clamp(mv[0].get<double>(), -1.0, 1.0));
    m.dy = static_cast<float>(std::clamp(mv[1].get<double>(), -1.0, 1.0));
  }
  if (j.contains("attack")) {
    if (!j["attack"].is_boolean()) return bad("bad_field", "input.attack must be true or false");
    m.attack = j["attack"].get<bool>();
  }
  return ClientMsg{m};
}

std::variant<ClientMsg, DecodeError> decode_join(const json& j) {
  JoinMsg m;
  if (!j.contains("name") || !j["name"].is_string()) return bad("bad_field", "join.name must be a string");
  m.name = clean_player_name(j["name"].get<std::string>());
  if (m.name.empty()) return bad("bad_field", "join.name must have at least one visible character");
  // A null token is no token: what a browser's localStorage.getItem gives before the first join.
  if (j.contains("token") && !j["token"].is_null()) {
    if (!j["token"].is_string() || j["token"].get<std::string>().size() > 64) {
      return bad("bad_field", "join.token must be a string of at most 64 bytes (UTF-8)");
    }
    m.token = j["token"].get<std::string>();
  }
  return ClientMsg{m};
}

// The hot message, an input (5 a second from every player), read by nlohmann's SAX parser
// straight into an InputMsg: no DOM, whose map node and key string per field cost about as
// much again as the lexing. It accepts only what the DOM path accepts with the same result
// (a later duplicate key overrides, as there); anything else (another type, a bad or missing
// field, a nested value under an unknown key, bad JSON) stops it, and the DOM path answers,
// so the two can never disagree. The game message fuzzer checks that they do not.
class InputReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  // An input message, once sax_parse has returned true.
  std::optional<InputMsg> message() const {
    if (!closed_ || !typed_) return std::nullopt;
    return m_;
  }

  bool start_object(std::size_t) { return depth_++ == 0; }
  bool end_object() {
    closed_ = true;
    return true;
  }
  bool key(string_t& k) {
    if (k == "type") field_ = Field::Type;
    else if (k == "seq") field_ = Field::Seq;
    else if (k == "move") field_ = Field::Move;
    else if (k == "attack") field_ = Field::Attack;
    else field_ = Field::Other;
    return true;
  }
  bool string(string_t& v) {
    if (field_ != Field::Type && field_ != Field::Other) return false;
    if (field_ == Field::Type) {
      if (v != "input") return false;
      typed_ = true;
    }
    return true;
  }
  bool number_unsigned(number_unsigned_t v) {
    if (field_ == Field::Seq) {
      if (v > 0xffffffffULL) return false;
      m_.seq = static_cast<std::uint32_t>(v);
      m_.has_seq = true;
      return true;
    }
    return number(static_cast<double>(v));
  }
  bool number_integer(number_integer_t v) { return field_ != Field::Seq && number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) { return field_ != Field::Seq && number(v); }
  bool boolean(bool v) {
    if (field_ == Field::Attack) m_.attack = v;
    return field_ == Field::Attack || field_ == Field::Other;
  }
  bool null() { return field_ == Field::Other; }
  bool start_array(std::size_t) {
    if (field_ != Field::Move || in_move_) return false;
    in_move_ = true;
    move_count_ = 0;
    return true;
  }
  bool end_array() {
    if (move_count_ != 2) return false;
    in_move_ = false;
    m_.dx = static_cast<float>(std::clamp(move_[0], -1.0, 1.0));
    m_.dy = static_cast<float>(std::clamp(move_[1], -1.0, 1.0));
    return true;
  }
  bool binary(binary_t&) { return false; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  enum class Field : std::uint8_t { Type, Seq, Move, Attack, Other };

  bool number(double v) {
    if (field_ == Field::Other && !in_move_) return true;
    if (!in_move_ || move_count_ >= 2 || !std::isfinite(v)) return false;
    move_[move_count_++] = v;
    return true;
  }

  InputMsg m_;
  Field field_ = Field::Other;
  int depth_ = 0;
  bool typed_ = false, closed_ = false, in_move_ = false;
  int move_count_ = 0;
  double move_[2] = {0, 0};
};

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static const char* const kHex = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::variant<ClientMsg, DecodeError> decode_client_message(std::string_view text) {
  // Inputs are tiny; anything big is a client that is not ours.
  if (text.size() > 4096) return bad("bad_message", "message too long for a game message");
  if (!free_of_nul(text)) return bad("bad_json", "message is not valid JSON");
  InputReader reader;
  if (json::sax_parse(text, &reader)) {
    if (auto input = reader.message()) return ClientMsg{*input};
  }
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return bad("bad_json", "message is not valid JSON");
  return decode_client_message(j);
}

json parse_client_json(std::string_view text) {
  if (!free_of_nul(text)) return json(json::value_t::discarded);
  return json::parse(text, nullptr, false);
}

std::variant<ClientMsg, DecodeError> decode_client_message(const json& j) {
  if (!j.is_object()) return bad("bad_message", "message must be a JSON object");
  const auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return bad("bad_message", "message needs a string \"type\"");
  const std::string& type = type_it->get_ref<const std::string&>();
  if (type == "input") return decode_input(j);
  if (type == "join") return decode_join(j);
  if (type == "ping") {
    PingMsg m;
    if (j.contains("t")) {
      if (!finite_number(j["t"])) return bad("bad_field", "ping.t must be a number");
      m.t = j["t"].get<double>();
    }
    return ClientMsg{m};
  }
  if (type == "leave") return ClientMsg{LeaveMsg{}};
  if (type == "watch") {
    if (!j.contains("x") || !j.contains("y") || !finite_number(j["x"]) || !finite_number(j["y"])) {
      return bad("bad_field", "watch needs numbers x and y");
    }
    // A finite double can still be beyond float range (1e300): converting that is UB.
    constexpr double kFloatMax = std::numeric_limits<float>::max();
    return ClientMsg{WatchMsg{static_cast<float>(std::clamp(j["x"].get<double>(), -kFloatMax, kFloatMax)),
                              static_cast<float>(std::clamp(j["y"].get<double>(), -kFloatMax, kFloatMax))}};
  }
  return bad("unknown_type", "unknown message type \"" + type.substr(0, 32) + "\"");
}

std::string encode_hello(const HelloMsg& m) {
  json obstacles = json::array();
  for (const auto& o : m.obstacles) obstacles.push_back({{"x", o.x}, {"y", o.y}, {"w", o.w}, {"h", o.h}});
  json kinds = json::array();
  for (const auto& k : m.monster_kinds) {
    kinds.push_back({{"name", k.name}, {"max_hp", k.max_hp}, {"speed", k.speed}, {"attack_range", k.attack_range},
                     {"aggro_radius", k.aggro_radius}});
  }
  json world = {{"width", m.world_width}, {"height", m.world_height}, {"obstacles", obstacles}};
  if (m.safe_radius > 0) world["safe_zone"] = {{"x", m.safe_x}, {"y", m.safe_y}, {"radius", m.safe_radius}};
  if (!m.world_name.empty()) world["name"] = m.world_name;
  return json{{"type", "hello"},
              {"protocol", kGameProtocolVersion},
              {"tick_rate", m.tick_rate},
              {"world", world},
              {"view_radius", m.view_radius},
              {"monster_kinds", kinds},
              {"player",
               {{"speed", m.player.speed},
                {"max_hp", m.player.max_hp},
                {"damage", m.player.damage},
                {"attack_range", m.player.attack_range},
                {"attack_cooldown_ms", m.player.attack_cooldown_ms},
                {"respawn_ms", m.player.respawn_ms},
                {"spawn_protection_ms", m.player.spawn_protection_ms}}}}
      .dump();
}

std::string encode_welcome(const WelcomeMsg& m) {
  json world = {{"width", m.world_width}, {"height", m.world_height}};
  if (!m.world_name.empty()) world["name"] = m.world_name;
  return json{{"type", "welcome"},
              {"id", m.player_id},
              {"protocol", kGameProtocolVersion},
              {"tick_rate", m.tick_rate},
              {"world", world},
              {"view_radius", m.view_radius},
              {"token", m.token},
              {"resumed", m.resumed}}
      .dump();
}

std::string encode_pong(double client_t, std::int64_t server_ts_ms) {
  return json{{"type", "pong"}, {"t", client_t}, {"server_ts", server_ts_ms}}.dump();
}

std::string encode_error(std::string_view code, std::string_view message) {
  return json{{"type", "error"}, {"code", std::string(code)}, {"message", std::string(message)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string encode_closing(std::uint16_t code, std::string_view reason) {
  return json{{"type", "closing"}, {"code", code}, {"reason", std::string(reason)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::int32_t tenths(float v) {
  // JSON has no NaN or infinity, and nothing in the world is near 1e8 units: clamp, so a
  // bad number can never make a frame unparseable.
  if (!std::isfinite(v)) return 0;
  return static_cast<std::int32_t>(std::lround(std::clamp(static_cast<double>(v), -1e8, 1e8) * 10.0));
}

// Prints tenths as a decimal: 1234 -> "123.4", 1230 -> "123", -5 -> "-0.5".
void append_tenths(std::string& out, std::int32_t t) {
  if (t < 0) {
    out += '-';
    t = -t;
  }
  append_int(out, t / 10);
  if (t % 10 != 0) {
    out += '.';
    out += static_cast<char>('0' + t % 10);
  }
}

// The ",key:value" pairs of the fields in `fields`, shared by full and delta encodings.
void append_fields(std::string& out, const WireEntity& w, std::uint8_t fields) {
  if (fields & kFieldPosition) {
    append_key(out, "x");
    append_tenths(out, w.x10);
    append_key(out, "y");
    append_tenths(out, w.y10);
  }
  if (fields & kFieldHp) {
    append_key(out, "hp");
    append_int(out, w.hp);
  }
  if (fields & kFieldState) {
    append_key(out, "state");
    append_json_string(out, w.state);
    if (w.respawn_tick != 0) {
      append_key(out, "respawn_tick");
      append_int(out, static_cast<std::int64_t>(w.respawn_tick));
      append_key(out, "respawn_x");
      append_tenths(out, w.respawn_x10);
      append_key(out, "respawn_y");
      append_tenths(out, w.respawn_y10);
    }
  }
  if (fields & kFieldFacing) {
    append_key(out, "facing");
    append_tenths(out, w.facing10);
  }
  if (fields & kFieldScore) {
    append_key(out, "score");
    append_int(out, w.score);
  }
  if (fields & kFieldAway) {
    append_key(out, "away");
    out += w.away ? "true" : "false";
  }
}
}  // namespace

std::int32_t wire_tenths(float v) { return tenths(v); }

WireEntity to_wire(const EntityView& e) {
  return WireEntity{tenths(e.x),    tenths(e.y),         tenths(e.facing),    e.hp,
                    e.score,        e.state,             e.away,              e.respawn_tick,
                    tenths(e.respawn_x), tenths(e.respawn_y), v2::facing_byte(e.facing)};
}

std::uint8_t changed_fields(const WireEntity& a, const WireEntity& b) {
  std::uint8_t f = 0;
  if (a.x10 != b.x10 || a.y10 != b.y10) f |= kFieldPosition;
  if (a.hp != b.hp) f |= kFieldHp;
  if (a.state != b.state) f |= kFieldState;
  if (a.facing10 != b.facing10) f |= kFieldFacing;
  if (a.score != b.score) f |= kFieldScore;
  if (a.away != b.away) f |= kFieldAway;
  return f;
}

void append_entity_full(std::string& out, const EntityView& e) {
  append_entity_full(out, e.id, e.kind, e.name, e.max_hp, to_wire(e));
}

void append_entity_full(std::string& out, std::uint32_t id, std::string_view kind, std::string_view name, int max_hp,
                        const WireEntity& wire) {
  out += "{\"id\":";
  append_int(out, id);
  append_key(out, "kind");
  append_json_string(out, kind);
  if (!name.empty()) {
    append_key(out, "name");
    append_json_string(out, name);
  }
  append_key(out, "max_hp");
  append_int(out, max_hp);
  // "away" is a player's; a monster's record does not carry it.
  const auto fields = static_cast<std::uint8_t>(kind == "player" ? kFieldAll : kFieldAll & ~kFieldAway);
  append_fields(out, wire, fields);
  out += '}';
}

void append_entity_delta(std::string& out, const EntityView& e, std::uint8_t fields) {
  append_entity_delta(out, e.id, e.kind == "player", to_wire(e), fields);
}

void append_entity_delta(std::string& out, std::uint32_t id, bool player, const WireEntity& wire, std::uint8_t fields) {
  if (!player) fields &= static_cast<std::uint8_t>(~kFieldAway);
  out += "{\"id\":";
  append_int(out, id);
  append_fields(out, wire, fields);
  out += '}';
}

void append_event(std::string& out, const EventView& e) {
  out += "{\"type\":";
  append_json_string(out, e.type);
  append_key(out, "attacker");
  append_int(out, e.attacker);
  append_key(out, "target");
  append_int(out, e.target);
  append_key(out, "damage");
  append_int(out, e.damage);
  append_key(out, "x");
  append_tenths(out, tenths(e.x));
  append_key(out, "y");
  append_tenths(out, tenths(e.y));
  out += '}';
}

void TickFrameWriter::begin(std::string& out, std::uint64_t tick, std::int64_t ts_ms, std::size_t players,
                            bool full, const InputAck* ack) {
  out_ = &out;
  out.clear();
  out += "{\"type\":\"tick\",\"tick\":";
  append_int(out, static_cast<std::int64_t>(tick));
  out += ",\"ts\":";
  append_int(out, ts_ms);
  out += ",\"players\":";
  append_int(out, static_cast<std::int64_t>(players));
  if (full) out += ",\"full\":true";
  if (ack) {
    out += ",\"ack\":{\"seq\":";
    append_int(out, static_cast<std::int64_t>(ack->seq));
    out += ",\"tick\":";
    append_int(out, static_cast<std::int64_t>(ack->tick));
    out += '}';
  }
  out += ",\"entities\":[";
  section_ = Section::Entities;
  first_ = true;
}

void TickFrameWriter::enter(Section s) {
  while (section_ < s) {
    switch (section_) {
      case Section::Entities: *out_ += "],\"removed\":["; break;
      case Section::Removed: *out_ += "],\"events\":["; break;
      case Section::Events: *out_ += "]}"; break;
      case Section::Done: return;
    }
    section_ = static_cast<Section>(static_cast<int>(section_) + 1);
    first_ = true;
  }
}

void TickFrameWriter::add_entity(std::string_view encoded) {
  enter(Section::Entities);
  if (!first_) *out_ += ',';
  *out_ += encoded;
  first_ = false;
}

void TickFrameWriter::add_removed(std::uint32_t id) {
  enter(Section::Removed);
  if (!first_) *out_ += ',';
  append_int(*out_, id);
  first_ = false;
}

void TickFrameWriter::add_event(std::string_view encoded) {
  enter(Section::Events);
  if (!first_) *out_ += ',';
  *out_ += encoded;
  first_ = false;
}

void TickFrameWriter::finish() { enter(Section::Done); }

}  // namespace skirmish::protocol
