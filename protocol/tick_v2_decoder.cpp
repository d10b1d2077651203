// Protocol v2 tick frames, the client's side: TickDecoder keeps the held list a frame's
// updates and removals refer to, and parse_v1_tick reads a v1 JSON tick into the same
// TickMessage, so the two can be compared (the load tester, the equivalence tests).
#include "protocol/tick_v2.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace skirmish::protocol::v2 {

namespace {

// Longer than any name the server accepts (protocol::kMaxNameBytes): a length past it is a
// broken frame, not a name to allocate for.
constexpr std::uint64_t kMaxNameLength = 256;

std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1); }

}  // namespace

// ---- decoding

void TickMessage::clear() {
  tick = 0;
  ts_ms = 0;
  players = 0;
  full = false;
  ack.reset();
  entities.clear();
  removed.clear();
  events.clear();
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool ok() const { return error_ == nullptr; }
  const char* error() const { return error_; }
  bool at_end() const { return p_ == end_; }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

  std::uint8_t u8() {
    if (p_ == end_) return fail("truncated"), 0;
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail("truncated varint"), 0;
      const auto b = static_cast<std::uint8_t>(*p_++);
      if (shift == 63 && b > 1) return fail("varint over 64 bits"), 0;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail("varint over 10 bytes"), 0;
  }
  std::int64_t svarint() { return unzigzag(varint()); }
  std::int32_t coord() {
    const std::int64_t v = svarint();
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max()) {
      return fail("coordinate out of range"), 0;
    }
    return static_cast<std::int32_t>(v);
  }
  int small_int() {
    const std::uint64_t v = varint();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return fail("integer out of range"), 0;
    return static_cast<int>(v);
  }
  std::string_view bytes(std::size_t n) {
    if (left() < n) return fail("truncated"), std::string_view();
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  void fail(const char* why) {
    if (!error_) error_ = why;
    p_ = end_;
  }

 private:
  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

std::optional<std::string> TickDecoder::read_header(ByteReader& r, TickMessage& out) {
  const std::uint8_t head = r.u8();
  if (!r.ok()) return std::string(r.error());
  if ((head & kKindMask) != kKindTick) return "not a tick message";
  out.full = (head & kHeadFull) != 0;
  // An ABSOLUTE frame is a starting point: it always says how many players are online.
  if ((head & kHeadAbsolute) && !(head & kHeadPlayers)) return "an ABSOLUTE frame without PLAYERS";
  if (head & kHeadAbsolute) {
    out.tick = r.varint();
    const std::uint64_t ts = r.varint();
    if (ts > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return "ts out of range";
    out.ts_ms = static_cast<std::int64_t>(ts);
  } else {
    if (!have_previous_) return "a relative frame with no previous frame";
    out.tick = tick_ + r.varint();
    if (__builtin_add_overflow(ts_, r.svarint(), &out.ts_ms)) return "ts out of range";
  }
  out.players = (head & kHeadPlayers) ? static_cast<std::size_t>(r.varint()) : players_;
  if (head & kHeadAck) {
    const std::uint64_t seq = r.varint();
    const std::uint64_t ago = r.varint();
    if (seq > 0xffffffffULL) return "ack seq out of range";
    if (ago > out.tick) return "ack tick before tick 0";
    out.ack = InputAck{static_cast<std::uint32_t>(seq), out.tick - ago};
  }
  if (!r.ok()) return std::string(r.error());
  tick_ = out.tick;
  ts_ = out.ts_ms;
  players_ = out.players;
  have_previous_ = true;
  return std::nullopt;
}

void TickDecoder::reset() {
  held_.clear();
  have_previous_ = false;
  broken_ = false;
  tick_ = 0;
  ts_ = 0;
  players_ = 0;
}

std::optional<std::string> TickDecoder::decode_header(std::string_view bytes, TickMessage& out) {
  out.clear();
  if (broken_) return "decoder out of step: reset it";
  ByteReader r(bytes);
  auto err = read_header(r, out);
  if (err) broken_ = true;
  return err;
}

namespace {

// A state byte and its respawn data into `rec`.
void read_state(ByteReader& r, EntityRecord& rec, std::uint64_t frame_tick) {
  const std::uint8_t b = r.u8();
  rec.state = state_name(b & 0x7F);
  if (rec.state.empty()) return r.fail("unknown state code");
  if (b & kStateRespawn) {
    const std::int64_t rel = r.svarint();
    std::int64_t tick = 0;
    if (frame_tick > static_cast<std::uint64_t>(INT64_MAX) ||
        __builtin_add_overflow(static_cast<std::int64_t>(frame_tick), rel, &tick) || tick <= 0) {
      return r.fail("respawn tick out of range");
    }
    rec.respawn_tick = static_cast<std::uint64_t>(tick);
    rec.respawn_x10 = r.coord();
    rec.respawn_y10 = r.coord();
  }
}

}  // namespace

std::optional<std::string> TickDecoder::decode(std::string_view bytes, TickMessage& out) {
  out.clear();
  if (broken_) return "decoder out of step: reset it";
  ByteReader r(bytes);
  if (auto err = read_header(r, out)) {
    broken_ = true;
    return err;
  }
  if (out.full) held_.clear();
  gone_.assign(held_.size(), 0);
  auto fail = [&](const char* why) -> std::optional<std::string> {
    broken_ = true;
    return std::string(r.ok() ? why : r.error());
  };

  // Counts come from the peer: each record takes at least one byte, which bounds them.
  const std::uint64_t n_updates = r.varint();
  if (!r.ok() || n_updates > r.left()) return fail("bad update count");
  std::size_t cursor = 0;
  for (std::uint64_t i = 0; i < n_updates; ++i) {
    const std::uint8_t h = r.u8();
    std::uint64_t skip = h & kSkipMask;
    if (skip == kSkipMask) skip += r.varint();
    if (!r.ok() || skip >= held_.size() - std::min(cursor, held_.size())) return fail("update past the held list");
    const std::size_t index = cursor + static_cast<std::size_t>(skip);
    // Entities this frame does not move hold still: next frame predicts them where they are.
    for (std::size_t j = cursor; j < index; ++j) held_[j].px10 = held_[j].x10, held_[j].py10 = held_[j].y10;
    cursor = index + 1;
    Held& held = held_[index];
    const std::int64_t predicted_x = 2 * static_cast<std::int64_t>(held.x10) - held.px10;
    const std::int64_t predicted_y = 2 * static_cast<std::int64_t>(held.y10) - held.py10;
    held.px10 = held.x10;
    held.py10 = held.y10;
    EntityRecord& rec = out.entities.emplace_back();
    rec.id = held.id;
    const std::uint8_t m = (h & kUpdMore) ? r.u8() : 0;
    if (m & 0xF0) return fail("reserved update bits set");
    if ((m & kMoreAwayValue) && !(m & kMoreAway)) return fail("away value without the away bit");
    switch ((h & kPosMask) >> kPosShift) {
      case kPosNone: break;
      case kPosNudge:
      case kPosDelta: {
        std::int64_t dx = 0, dy = 0;
        if (((h & kPosMask) >> kPosShift) == kPosNudge) {
          const std::uint8_t b = r.u8();
          dx = ((b & 0x0F) ^ 8) - 8;  // two signed nibbles: -8..7
          dy = ((b >> 4) ^ 8) - 8;
        } else {
          dx = r.svarint();
          dy = r.svarint();
          if (dx < INT32_MIN || dx > INT32_MAX || dy < INT32_MIN || dy > INT32_MAX) return fail("position out of range");
        }
        const std::int64_t x = predicted_x + dx;
        const std::int64_t y = predicted_y + dy;
        if (x < INT32_MIN || x > INT32_MAX || y < INT32_MIN || y > INT32_MAX) return fail("position out of range");
        held.x10 = static_cast<std::int32_t>(x);
        held.y10 = static_cast<std::int32_t>(y);
        break;
      }
      case kPosAbsolute:
        held.x10 = r.coord();
        held.y10 = r.coord();
        break;
    }
    if (h & kPosMask) {
      rec.fields |= kFieldPosition;
      rec.x10 = held.x10;
      rec.y10 = held.y10;
    }
    if (h & kUpdFacing) {
      rec.fields |= kFieldFacing;
      rec.facing = facing_radians(r.u8());
    }
    if (h & kUpdHp) {
      rec.fields |= kFieldHp;
      rec.hp = r.small_int();
    }
    if (m & kMoreState) {
      rec.fields |= kFieldState;
      read_state(r, rec, out.tick);
    }
    if (m & kMoreScore) {
      rec.fields |= kFieldScore;
      rec.score = r.small_int();
    }
    if (m & kMoreAway) {
      rec.fields |= kFieldAway;
      rec.away = (m & kMoreAwayValue) != 0;
    }
    if (!r.ok()) return fail("bad update");
    if (rec.fields == 0) return fail("an update with no field");
  }
  for (std::size_t j = cursor; j < held_.size(); ++j) held_[j].px10 = held_[j].x10, held_[j].py10 = held_[j].y10;

  const std::uint64_t n_removed = r.varint();
  if (!r.ok() || n_removed > r.left()) return fail("bad removed count");
  cursor = 0;
  for (std::uint64_t i = 0; i < n_removed; ++i) {
    const std::uint64_t skip = r.varint();
    if (!r.ok() || skip >= held_.size() - std::min(cursor, held_.size())) return fail("removal past the held list");
    const std::size_t index = cursor + static_cast<std::size_t>(skip);
    cursor = index + 1;
    gone_[index] = 1;
    out.removed.push_back(held_[index].id);
  }

  const std::uint64_t n_entering = r.varint();
  if (!r.ok() || n_entering > r.left()) return fail("bad entering count");
  const std::size_t first_entering = out.entities.size();
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < n_entering; ++i) {
    const std::uint64_t delta = r.varint();
    if (delta == 0 || id + delta > UINT32_MAX) return fail("entering ids must ascend");
    id += delta;
    EntityRecord& rec = out.entities.emplace_back();
    rec.id = static_cast<std::uint32_t>(id);
    rec.entering = true;
    const std::uint64_t kind = r.varint();
    if (kind == 0) {
      rec.kind = "player";
    } else if (kind - 1 < kinds_.size()) {
      rec.kind = kinds_[static_cast<std::size_t>(kind - 1)];
    } else {
      return fail("unknown kind code");
    }
    rec.x10 = r.coord();
    rec.y10 = r.coord();
    rec.facing = facing_radians(r.u8());
    rec.hp = r.small_int();
    rec.max_hp = r.small_int();
    read_state(r, rec, out.tick);
    rec.score = r.small_int();
    rec.fields = kFieldAll & ~kFieldAway;
    if (kind == 0) {
      const std::uint8_t flags = r.u8();
      if (flags & 0xFE) return fail("reserved player flags set");
      rec.away = (flags & 1) != 0;
      rec.fields = kFieldAll;
      const std::uint64_t len = r.varint();
      if (len > kMaxNameLength) return fail("name too long");
      rec.name = std::string(r.bytes(static_cast<std::size_t>(len)));
    }
    if (!r.ok()) return fail("bad entering record");
  }

  const std::uint64_t n_events = r.varint();
  if (!r.ok() || n_events > r.left()) return fail("bad event count");
  for (std::uint64_t i = 0; i < n_events; ++i) {
    EventRecord& ev = out.events.emplace_back();
    const std::uint8_t type = r.u8();
    ev.type = event_name(type);
    if (ev.type.empty()) return fail("unknown event code");
    const std::uint64_t attacker = r.varint(), target = r.varint();
    if (attacker > UINT32_MAX || target > UINT32_MAX) return fail("event id out of range");
    ev.attacker = static_cast<std::uint32_t>(attacker);
    ev.target = static_cast<std::uint32_t>(target);
    ev.damage = r.small_int();
    ev.x10 = r.coord();
    ev.y10 = r.coord();
    if (!r.ok()) return fail("bad event");
  }
  if (!r.ok()) return fail("bad frame");
  if (!r.at_end()) return fail("bytes after the frame");

  // The new held list: the old one without the removed, merged with the entering ones
  // (both sorted; an entering id already held replaces it).
  next_.clear();
  std::size_t k = 0;
  for (std::size_t e = first_entering; e < out.entities.size(); ++e) {
    const EntityRecord& rec = out.entities[e];
    for (; k < held_.size() && held_[k].id <= rec.id; ++k) {
      if (!gone_[k] && held_[k].id != rec.id) next_.push_back(held_[k]);
    }
    next_.push_back({rec.id, rec.x10, rec.y10, rec.x10, rec.y10});  // new: predicted to stay
  }
  for (; k < held_.size(); ++k) {
    if (!gone_[k]) next_.push_back(held_[k]);
  }
  held_.swap(next_);
  return std::nullopt;
}

// ---- v1, for comparison

bool parse_v1_tick(std::string_view json_text, TickMessage& out) {
  out.clear();
  const auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object() || j.value("type", "") != "tick") return false;
  auto tenths = [](const nlohmann::json& v) { return static_cast<std::int32_t>(std::lround(v.get<double>() * 10)); };
  try {
    out.tick = j.at("tick").get<std::uint64_t>();
    out.ts_ms = j.at("ts").get<std::int64_t>();
    out.players = j.at("players").get<std::size_t>();
    out.full = j.value("full", false);
    if (j.contains("ack")) out.ack = InputAck{j["ack"].at("seq").get<std::uint32_t>(), j["ack"].at("tick").get<std::uint64_t>()};
    for (const auto& e : j.at("entities")) {
      EntityRecord& rec = out.entities.emplace_back();
      rec.id = e.at("id").get<std::uint32_t>();
      if (e.contains("kind")) {
        rec.entering = true;
        rec.kind = e["kind"].get<std::string>();
        rec.name = e.value("name", "");
        rec.max_hp = e.at("max_hp").get<int>();
      }
      if (e.contains("x")) {
        rec.fields |= kFieldPosition;
        rec.x10 = tenths(e["x"]);
        rec.y10 = tenths(e.at("y"));
      }
      if (e.contains("facing")) {
        rec.fields |= kFieldFacing;
        rec.facing = e["facing"].get<float>();
      }
      if (e.contains("hp")) {
        rec.fields |= kFieldHp;
        rec.hp = e["hp"].get<int>();
      }
      if (e.contains("state")) {
        rec.fields |= kFieldState;
        rec.state = state_name(state_code(e["state"].get<std::string>()));
        if (e.contains("respawn_tick")) {
          rec.respawn_tick = e["respawn_tick"].get<std::uint64_t>();
          rec.respawn_x10 = tenths(e.at("respawn_x"));
          rec.respawn_y10 = tenths(e.at("respawn_y"));
        }
      }
      if (e.contains("score")) {
        rec.fields |= kFieldScore;
        rec.score = e["score"].get<int>();
      }
      if (e.contains("away")) {
        rec.fields |= kFieldAway;
        rec.away = e["away"].get<bool>();
      }
    }
    for (const auto& id : j.at("removed")) out.removed.push_back(id.get<std::uint32_t>());
    for (const auto& e : j.at("events")) {
      EventRecord& ev = out.events.emplace_back();
      const std::string type = e.at("type").get<std::string>();
      for (int code = 0; !event_name(code).empty(); ++code) {
        if (event_name(code) == type) ev.type = event_name(code);
      }
      ev.attacker = e.at("attacker").get<std::uint32_t>();
      ev.target = e.at("target").get<std::uint32_t>();
      ev.damage = e.at("damage").get<int>();
      ev.x10 = tenths(e.at("x"));
      ev.y10 = tenths(e.at("y"));
    }
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

}  // namespace skirmish::protocol::v2
