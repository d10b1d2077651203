// Protocol v2 tick frames, the server's side: the codings (varints, facing, states, events)
// and TickWriter, which lays a frame out from pieces encoded once. The client's side (the
// decoder, and v1 JSON read the same way for comparison) is in tick_v2_decoder.cpp.
#include "protocol/tick_v2.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace skirmish::protocol::v2 {

namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr std::string_view kStateNames[] = {"idle", "wander", "chase", "attack", "return", "dead"};
constexpr std::string_view kEventNames[] = {"attack", "death", "respawn"};
std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

void put_state(std::string& out, const WireEntity& w, std::uint64_t frame_tick) {
  const int code = state_code(w.state);
  const auto byte = static_cast<std::uint8_t>(code < 0 ? 0 : code);
  if (w.respawn_tick == 0) {
    out.push_back(static_cast<char>(byte));
    return;
  }
  out.push_back(static_cast<char>(byte | kStateRespawn));
  put_svarint(out, static_cast<std::int64_t>(w.respawn_tick) - static_cast<std::int64_t>(frame_tick));
  put_svarint(out, w.respawn_x10);
  put_svarint(out, w.respawn_y10);
}

}  // namespace

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_svarint(std::string& out, std::int64_t v) { put_varint(out, zigzag(v)); }

std::uint8_t facing_byte(float radians) {
  if (!std::isfinite(radians)) return 0;
  const double turns = static_cast<double>(radians) / kTwoPi;
  const double steps = std::nearbyint((turns - std::floor(turns)) * 256.0);
  return static_cast<std::uint8_t>(static_cast<int>(steps) & 0xFF);
}

float facing_radians(std::uint8_t b) {
  double a = static_cast<double>(b) * kTwoPi / 256.0;
  if (a > kTwoPi / 2) a -= kTwoPi;
  return static_cast<float>(a);
}

int state_code(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kStateNames); ++i) {
    if (kStateNames[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view state_name(int code) {
  return code >= 0 && code < static_cast<int>(std::size(kStateNames)) ? kStateNames[code] : std::string_view();
}

std::string_view event_name(int code) {
  return code >= 0 && code < static_cast<int>(std::size(kEventNames)) ? kEventNames[code] : std::string_view();
}

void encode_update_tail(std::string& tail, std::uint8_t& h, std::uint8_t& m, const WireEntity& w,
                        std::uint8_t fields, bool is_player, std::uint64_t frame_tick) {
  h = 0;
  m = 0;
  if (!is_player) fields &= static_cast<std::uint8_t>(~kFieldAway);
  if (fields & kFieldState) m |= kMoreState;
  if (fields & kFieldScore) m |= kMoreScore;
  if (fields & kFieldAway) m |= static_cast<std::uint8_t>(kMoreAway | (w.away ? kMoreAwayValue : 0));
  if (m != 0) h |= kUpdMore;
  if (fields & kFieldFacing) {
    h |= kUpdFacing;
    tail.push_back(static_cast<char>(w.facing256));
  }
  if (fields & kFieldHp) {
    h |= kUpdHp;
    put_varint(tail, static_cast<std::uint64_t>(std::max(0, w.hp)));
  }
  if (fields & kFieldState) put_state(tail, w, frame_tick);
  if (fields & kFieldScore) put_varint(tail, static_cast<std::uint64_t>(std::max(0, w.score)));
}

std::uint8_t encode_position(std::string& out, std::int32_t x10, std::int32_t y10, const Prediction* predicted) {
  if (predicted == nullptr) {
    put_svarint(out, x10);
    put_svarint(out, y10);
    return kPosAbsolute << kPosShift;
  }
  const std::int64_t dx = static_cast<std::int64_t>(x10) - predicted->x10;
  const std::int64_t dy = static_cast<std::int64_t>(y10) - predicted->y10;
  if (dx >= -8 && dx <= 7 && dy >= -8 && dy <= 7) {
    // Straight on at the same speed: the common case, one byte for both.
    out.push_back(static_cast<char>((dx & 0x0F) | ((dy & 0x0F) << 4)));
    return kPosNudge << kPosShift;
  }
  put_svarint(out, dx);
  put_svarint(out, dy);
  return kPosDelta << kPosShift;
}

void encode_update(std::string& body, std::uint8_t& h, const WireEntity& w, std::uint8_t fields, bool is_player,
                   const Prediction* predicted, std::uint64_t frame_tick) {
  std::uint8_t m = 0;
  std::string tail;
  encode_update_tail(tail, h, m, w, fields, is_player, frame_tick);
  if (h & kUpdMore) body.push_back(static_cast<char>(m));
  if (fields & kFieldPosition) h |= encode_position(body, w.x10, w.y10, predicted);
  body += tail;
}

void encode_entering(std::string& body, const WireEntity& w, std::uint32_t kind, std::uint8_t facing, int max_hp,
                     std::string_view name, std::uint64_t frame_tick) {
  put_varint(body, kind);
  put_svarint(body, w.x10);
  put_svarint(body, w.y10);
  body.push_back(static_cast<char>(facing));
  put_varint(body, static_cast<std::uint64_t>(std::max(0, w.hp)));
  put_varint(body, static_cast<std::uint64_t>(std::max(0, max_hp)));
  put_state(body, w, frame_tick);
  put_varint(body, static_cast<std::uint64_t>(std::max(0, w.score)));
  if (kind == 0) {
    body.push_back(static_cast<char>(w.away ? 1 : 0));
    put_varint(body, name.size());
    body += name;
  }
}

void encode_event(std::string& out, std::uint8_t type, std::uint32_t attacker, std::uint32_t target, int damage,
                  std::int32_t x10, std::int32_t y10) {
  out.push_back(static_cast<char>(type));
  put_varint(out, attacker);
  put_varint(out, target);
  put_varint(out, static_cast<std::uint64_t>(std::max(0, damage)));
  put_svarint(out, x10);
  put_svarint(out, y10);
}

// ---- TickWriter

void TickWriter::begin(std::uint64_t tick, std::int64_t ts_ms, std::size_t players, bool full,
                       std::optional<Previous> previous, bool players_changed, const InputAck* ack) {
  head_ = kKindTick;
  if (full) head_ |= kHeadFull;
  if (ack) {
    head_ |= kHeadAck;
    ack_ = *ack;
    // Sent as ticks before this one (never after it: it is applied at a step already taken).
    ack_.tick = ack->tick < tick ? tick - ack->tick : 0;
  }
  if (!previous || full) {
    head_ |= kHeadAbsolute | kHeadPlayers;
  } else {
    if (players_changed) head_ |= kHeadPlayers;
    tick_ = tick - previous->tick;
    ts_ = ts_ms - previous->ts_ms;
  }
  if (head_ & kHeadAbsolute) {
    tick_ = tick;
    ts_ = ts_ms;
  }
  players_ = players;
  updates_.clear();
  removed_.clear();
  entering_.clear();
  events_.clear();
  n_updates_ = n_removed_ = n_entering_ = n_events_ = 0;
  update_cursor_ = removed_cursor_ = 0;
  last_entering_ = 0;
}

void TickWriter::put_update_head(std::size_t held_index, std::uint8_t h) {
  const std::uint64_t skip = held_index - update_cursor_;
  update_cursor_ = held_index + 1;
  if (skip < kSkipMask) {
    updates_.push_back(static_cast<char>(h | static_cast<std::uint8_t>(skip)));
  } else {
    updates_.push_back(static_cast<char>(h | kSkipMask));
    put_varint(updates_, skip - kSkipMask);
  }
  n_updates_++;
}

void TickWriter::add_update(std::size_t held_index, std::uint8_t h, std::string_view body) {
  put_update_head(held_index, h);
  updates_ += body;
}

void TickWriter::add_update(std::size_t held_index, std::uint8_t h, std::uint8_t m, std::string_view position,
                            std::string_view tail) {
  put_update_head(held_index, h);
  if (h & kUpdMore) updates_.push_back(static_cast<char>(m));
  updates_ += position;
  updates_ += tail;
}

void TickWriter::add_removed(std::size_t held_index) {
  put_varint(removed_, held_index - removed_cursor_);
  removed_cursor_ = held_index + 1;
  n_removed_++;
}

void TickWriter::add_entering(std::uint32_t id, std::string_view body) {
  put_varint(entering_, id - last_entering_);
  last_entering_ = id;
  entering_ += body;
  n_entering_++;
}

void TickWriter::add_event(std::string_view encoded) {
  events_ += encoded;
  n_events_++;
}

void TickWriter::finish(std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(head_));
  put_varint(out, tick_);
  if (head_ & kHeadAbsolute) {
    put_varint(out, static_cast<std::uint64_t>(std::max<std::int64_t>(0, ts_)));
  } else {
    put_svarint(out, ts_);
  }
  if (head_ & kHeadPlayers) put_varint(out, players_);
  if (head_ & kHeadAck) {
    put_varint(out, ack_.seq);
    put_varint(out, ack_.tick);
  }
  put_varint(out, n_updates_);
  out += updates_;
  put_varint(out, n_removed_);
  out += removed_;
  put_varint(out, n_entering_);
  out += entering_;
  put_varint(out, n_events_);
  out += events_;
}

}  // namespace skirmish::protocol::v2
