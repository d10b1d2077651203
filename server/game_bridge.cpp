#include "server/game_bridge.h"

#include <algorithm>
#include <cmath>

namespace skirmish::server {

namespace {
// The protocol's event code (docs/protocol.md); its name for v1 is protocol::v2::event_name().
std::uint8_t event_code(game::EventType t) {
  switch (t) {
    case game::EventType::Attack: return 0;
    case game::EventType::Death: return 1;
    case game::EventType::Respawn: return 2;
  }
  return 0;
}
// Empties an arena for the next tick. It keeps its capacity (no allocation in the steady
// state) unless the tick that just ended used much less of it: a rare burst (many resyncs
// at once) should not pin its peak for the rest of the run.
void reset_arena(std::string& arena) {
  constexpr std::size_t kKeepAlways = 64 * 1024;
  if (arena.capacity() > kKeepAlways && arena.capacity() > 4 * arena.size()) {
    std::string smaller;
    smaller.reserve(std::max(kKeepAlways, 2 * arena.size()));
    arena.swap(smaller);
  }
  arena.clear();
}

}  // namespace

GameBridge::GameBridge(const game::World& world, float view_radius)
    : world_(world), view_radius_(view_radius), visibility_(world.config()), own_(std::make_unique<FrameAssembler>()) {
  const auto& cfg = world.config();
  buckets_x_ = std::max(1, static_cast<int>(std::ceil(cfg.world_width / view_radius_)));
  buckets_y_ = std::max(1, static_cast<int>(std::ceil(cfg.world_height / view_radius_)));
}

GameBridge::~GameBridge() = default;

std::size_t GameBridge::encoded_bytes() const { return own_->encoded_bytes() + events_bytes_; }

void GameBridge::build_frame(float cx, float cy, std::vector<game::EntityId>& known, Stamp since, std::string& out,
                             bool full, FrameFormat format, FrameHistory* history) {
  own_->build_frame(*this, cx, cy, known, since, out, full, format, history);
}

protocol::EntityView GameBridge::view_of(const game::Entity& e) const {
  const bool player = e.kind == game::EntityKind::Player;
  protocol::EntityView v{};
  v.id = e.id;
  v.kind = player ? std::string_view("player") : std::string_view(world_.config().monster_kinds[e.monster_kind].name);
  v.x = e.x;
  v.y = e.y;
  v.facing = e.facing;
  v.hp = e.hp;
  v.max_hp = e.max_hp;
  v.score = e.score;
  v.state = game::state_name(e.state);
  v.name = e.name;
  v.away = e.away;
  if (player && !e.alive()) {
    // The world brings it back during the step that starts at respawn_tick_, whose frame
    // carries the next tick number: the first frame that shows it alive.
    v.respawn_tick = e.respawn_tick_ + 1;
    v.respawn_x = e.respawn_x_;
    v.respawn_y = e.respawn_y_;
  }
  return v;
}

GameBridge::BucketXY GameBridge::bucket_xy(float x, float y) const {
  // Clamped as floats: a spectator may look from far off the map (a float beyond int's range
  // converts to int undefined).
  const auto clamped = [this](float v, int buckets) {
    return static_cast<int>(std::clamp(v / view_radius_, 0.0f, static_cast<float>(buckets - 1)));
  };
  return {clamped(x, buckets_x_), clamped(y, buckets_y_)};
}

std::uint32_t GameBridge::bucket_of(float x, float y) const {
  const BucketXY b = bucket_xy(x, y);
  return static_cast<std::uint32_t>(b.y * buckets_x_ + b.x);
}

void GameBridge::adopt(std::uint32_t index, game::EntityId id) {
  const auto it = slot_of_.find(id);
  if (it == slot_of_.end() || it->second == index || it->second >= encoded_.size()) return;
  const std::uint32_t from = it->second;
  if (encoded_[from].id != id) return;  // that slot was taken over since: start afresh
  std::swap(encoded_[index], encoded_[from]);
  std::swap(last_change_[index], last_change_[from]);
  std::swap(entered_at_[index], entered_at_[from]);
  it->second = index;
  if (const auto other = slot_of_.find(encoded_[from].id); other != slot_of_.end() && other->second == index) {
    other->second = from;
  }
}

void GameBridge::encode_tick(std::int64_t ts_ms, std::size_t online_players) {
  ts_ms_ = ts_ms;
  tick_ = world_.tick();
  ++stamp_;
  if (online_players != online_players_ || stamp_ == 1) players_changed_at_ = stamp_;
  online_players_ = online_players;
  const auto& entities = world_.entities();
  if (encoded_.size() < entities.size()) {
    encoded_.resize(entities.size());
    last_change_.resize(entities.size(), 0);
    entered_at_.resize(entities.size(), 0);
  }
  shared_.reserve(encoded_.size());
  for (const game::EntityId gone : world_.removed()) slot_of_.erase(gone);
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const game::Entity& e = entities[i];
    if (encoded_[i].id != e.id) adopt(static_cast<std::uint32_t>(i), e.id);
    Encoded& slot = encoded_[i];
    if (slot.id != e.id) {
      // A new entity in this slot: nothing is known of what viewers were told of it, so
      // every field counts as changed.
      slot_of_[e.id] = static_cast<std::uint32_t>(i);
      slot.id = e.id;
      slot.published = false;
      slot.marks = 0;
      slot.next_mark = 0;
      slot.kind = e.kind == game::EntityKind::Player ? 0u : static_cast<std::uint32_t>(e.monster_kind) + 1u;
      entered_at_[i] = 0;
    }
    if (!slot.published || e.dirty == game::kDirtyAll) {
      // What frames say of it besides its wire fields, kept so assemblers never read the world.
      slot.kind_name = e.kind == game::EntityKind::Player ? std::string_view("player")
                                                          : std::string_view(world_.config().monster_kinds[e.monster_kind].name);
      slot.name = e.name;
      slot.max_hp = e.max_hp;
    }
    if (e.dirty == 0 && slot.published) continue;
    protocol::WireEntity wire = protocol::to_wire(view_of(e));
    const std::uint8_t fields =
        slot.published ? protocol::changed_fields(slot.wire, wire) : static_cast<std::uint8_t>(protocol::kFieldAll);
    // v2's finer facing changes only when v1's tenths do (that is when an update carries it):
    // an entering record then carries the same facing as the updates other clients had.
    if (!(fields & protocol::kFieldFacing)) wire.facing256 = slot.wire.facing256;
    slot.wire = wire;
    slot.published = true;
    if (e.dirty == game::kDirtyAll) entered_at_[i] = stamp_;  // new or back: it enters every view in full
    if (fields == 0 && entered_at_[i] != stamp_) continue;    // moved less than the wire can show
    if ((fields & protocol::kFieldPosition) || entered_at_[i] == stamp_) mark_position(slot);
    for (int b = 0; b < kFieldCount; ++b) {
      if (fields & (1u << b)) slot.changed_at[static_cast<std::size_t>(b)] = stamp_;
    }
    last_change_[i] = stamp_;
  }
  TickEvents& tick = event_ring_[stamp_ % kEventTicks];
  tick.stamp = stamp_;
  tick.tick = world_.tick();
  tick.ts_ms = ts_ms;
  reset_arena(tick.json);
  reset_arena(tick.bin);
  tick.events.clear();
  for (const game::Event& ev : world_.events()) {
    const std::size_t at = tick.json.size(), bin_at = tick.bin.size();
    const std::uint8_t code = event_code(ev.type);
    protocol::append_event(tick.json, {protocol::v2::event_name(code), ev.attacker, ev.target, ev.damage, ev.x, ev.y});
    protocol::v2::encode_event(tick.bin, code, ev.attacker, ev.target, ev.damage,
                               protocol::wire_tenths(ev.x), protocol::wire_tenths(ev.y));
    tick.events.push_back({bucket_of(ev.x, ev.y), ev.x, ev.y,
                           {static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(tick.json.size() - at)},
                           {static_cast<std::uint32_t>(bin_at), static_cast<std::uint32_t>(tick.bin.size() - bin_at)}});
  }
  std::stable_sort(tick.events.begin(), tick.events.end(),
                   [](const EncodedEvent& a, const EncodedEvent& b) { return a.bucket < b.bucket; });
  events_bytes_ = tick.json.size() + tick.bin.size();
}

void GameBridge::prepare_views() {
  visibility_.rebuild(world_);
  views_++;
}

std::uint8_t GameBridge::fields_since(std::uint32_t index, Stamp since) const {
  const Encoded& slot = encoded_[index];
  std::uint8_t fields = 0;
  for (int b = 0; b < kFieldCount; ++b) {
    if (slot.changed_at[static_cast<std::size_t>(b)] > since) fields |= static_cast<std::uint8_t>(1u << b);
  }
  return fields;
}

void GameBridge::mark_position(Encoded& slot) {
  slot.positions[slot.next_mark] = {stamp_, slot.wire.x10, slot.wire.y10};
  slot.next_mark = static_cast<std::uint8_t>((slot.next_mark + 1) % kPositionMarks);
  if (slot.marks < kPositionMarks) slot.marks++;
}

const GameBridge::PositionMark* GameBridge::position_at(const Encoded& slot, Stamp stamp) {
  // Newest first: the mark wanted is almost always one of the last two.
  for (std::size_t n = 0; n < slot.marks; ++n) {
    const PositionMark& m = slot.positions[(slot.next_mark + kPositionMarks - 1 - n) % kPositionMarks];
    if (m.stamp <= stamp) return &m;
  }
  return nullptr;
}

void FrameAssembler::start_tick(const GameBridge& bridge) {
  // Another bridge's stamps may be the same numbers: nothing found before is its.
  if (bridge_ != &bridge) {
    overflow_.clear();
    own_table_.clear();
  }
  if (sharing_ == Sharing::Shared) {
    table_ = &bridge.shared_;
  } else {
    own_table_.reserve(bridge.encoded_.size());
    table_ = &own_table_;
  }
  bridge_ = &bridge;
  stamp_ = bridge.stamp_;
  arena_.reset();
  visible_valid_ = false;
}

template <class Encode>
PieceTable::Piece FrameAssembler::obtain(std::uint32_t index, PieceTable::Kind kind, std::uint8_t fields,
                                         Encode&& encode) {
  Piece piece;
  if (table_->find(index, kind, stamp_, fields, piece)) return piece;
  if (!overflow_.empty()) {
    const Overflow& o = overflow_of(index, kind, fields);
    if (o.stamp == stamp_ && o.index == index && o.kind == kind && o.fields == fields) return o.piece;
  }
  scratch_.clear();
  encode(scratch_, piece);
  const std::string_view kept = arena_.keep(scratch_);
  piece.data = kept.data();
  piece.len = static_cast<std::uint32_t>(kept.size());
  if (!table_->offer(index, kind, stamp_, fields, piece)) {
    if (overflow_.empty()) overflow_.resize(kOverflow);
    overflow_of(index, kind, fields) = {stamp_, index, static_cast<std::uint8_t>(kind), fields, piece};
  }
  return piece;
}

FrameAssembler::Overflow& FrameAssembler::overflow_of(std::uint32_t index, PieceTable::Kind kind, std::uint8_t fields) {
  const std::uint64_t key = (static_cast<std::uint64_t>(index) << 10) ^ (static_cast<std::uint64_t>(kind) << 6) ^ fields;
  return overflow_[static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 54) % kOverflow];
}

std::string_view FrameAssembler::full_of(std::uint32_t index) {
  const GameBridge::Encoded& slot = bridge_->encoded_[index];
  return obtain(index, PieceTable::kFull, protocol::kFieldAll, [&](std::string& out, Piece&) {
           protocol::append_entity_full(out, slot.id, slot.kind_name, slot.name, slot.max_hp, slot.wire);
         }).bytes();
}

std::string_view FrameAssembler::delta_of(std::uint32_t index, std::uint8_t fields) {
  const GameBridge::Encoded& slot = bridge_->encoded_[index];
  return obtain(index, PieceTable::kDelta, fields, [&](std::string& out, Piece&) {
           protocol::append_entity_delta(out, slot.id, slot.kind == 0, slot.wire, fields);
         }).bytes();
}

std::string_view FrameAssembler::entering_of(std::uint32_t index) {
  const GameBridge::Encoded& slot = bridge_->encoded_[index];
  return obtain(index, PieceTable::kEntering, protocol::kFieldAll, [&](std::string& out, Piece&) {
           protocol::v2::encode_entering(out, slot.wire, slot.kind, slot.wire.facing256, slot.max_hp, slot.name,
                                         bridge_->tick_);
         }).bytes();
}

std::uint8_t FrameAssembler::encode_position(std::uint32_t index, game::EntityId id, Stamp since,
                                             const FrameHistory& history) {
  // The viewer holds the mark of its last frame and predicts from it and the one of the frame
  // before; an entity that entered in its last frame it predicts to stand still.
  const GameBridge::Encoded& slot = bridge_->encoded_[index];
  const GameBridge::PositionMark* held = GameBridge::position_at(slot, since);
  const GameBridge::PositionMark* before = nullptr;
  if (held != nullptr) {
    const bool entered_last =
        !history.entered.empty() && std::binary_search(history.entered.begin(), history.entered.end(), id);
    before = entered_last ? held : GameBridge::position_at(slot, history.before);
  }
  if (held == nullptr || before == nullptr) {
    return protocol::v2::encode_position(position_, slot.wire.x10, slot.wire.y10, nullptr);
  }
  const protocol::v2::Prediction predicted{2 * static_cast<std::int64_t>(held->x10) - before->x10,
                                           2 * static_cast<std::int64_t>(held->y10) - before->y10};
  return protocol::v2::encode_position(position_, slot.wire.x10, slot.wire.y10, &predicted);
}

PieceTable::Piece FrameAssembler::update_tail_of(std::uint32_t index, std::uint8_t fields) {
  const GameBridge::Encoded& slot = bridge_->encoded_[index];
  return obtain(index, PieceTable::kUpdateTail, fields, [&](std::string& out, Piece& piece) {
    protocol::v2::encode_update_tail(out, piece.h, piece.m, slot.wire, fields, slot.kind == 0, bridge_->tick_);
  });
}

void FrameAssembler::add_events(float cx, float cy, Stamp since, FrameFormat format) {
  const GameBridge& b = *bridge_;
  const float view_radius = b.view_radius_;
  const int buckets_x = b.buckets_x_, buckets_y = b.buckets_y_;
  const float r2 = view_radius * view_radius;
  const auto [bx, by] = b.bucket_xy(cx, cy);
  constexpr Stamp kEventTicks = GameBridge::kEventTicks;
  const Stamp oldest = stamp_ >= kEventTicks ? stamp_ - kEventTicks + 1 : 1;
  for (Stamp s = std::max(since + 1, oldest); s <= stamp_; ++s) {
    const GameBridge::TickEvents& tick = b.event_ring_[s % kEventTicks];
    if (tick.stamp != s || tick.events.empty()) continue;
    for (int y = std::max(0, by - 1); y <= std::min(buckets_y - 1, by + 1); ++y) {
      // The buckets of one row in the 3x3 block are consecutive numbers: one range.
      const auto first = static_cast<std::uint32_t>(y * buckets_x + std::max(0, bx - 1));
      const auto last = static_cast<std::uint32_t>(y * buckets_x + std::min(buckets_x - 1, bx + 1));
      auto it = std::lower_bound(tick.events.begin(), tick.events.end(), first,
                                 [](const GameBridge::EncodedEvent& e, std::uint32_t bucket) { return e.bucket < bucket; });
      for (; it != tick.events.end() && it->bucket <= last; ++it) {
        const float dx = it->x - cx, dy = it->y - cy;
        if (dx * dx + dy * dy > r2) continue;
        if (format == FrameFormat::Binary) {
          writer2_.add_event(GameBridge::in(tick.bin, it->bin));
        } else {
          writer_.add_event(GameBridge::in(tick.json, it->json));
        }
      }
    }
  }
}

void FrameAssembler::build_frame(const GameBridge& bridge, float cx, float cy, std::vector<game::EntityId>& known,
                                 Stamp since, std::string& out, bool full, FrameFormat format, FrameHistory* history,
                                 const protocol::InputAck* ack) {
  // Another tick, or another world's bridge (whose stamps and entity ids may be the same).
  if (bridge_ != &bridge || stamp_ != bridge.stamp_) start_tick(bridge);
  if (!visible_valid_ || visible_views_ != bridge.views_ || cx != visible_x_ || cy != visible_y_) {
    visible_.clear();
    bridge.visibility_.query(cx, cy, bridge.view_radius_, visible_);
    visible_valid_ = true;
    visible_views_ = bridge.views_;
    visible_x_ = cx;
    visible_y_ = cy;
  }
  removed_.clear();
  if (full) known.clear();
  const bool binary = format == FrameFormat::Binary && history != nullptr;
  if (binary) {
    entered_now_.clear();
    // v2 codes tick and ts against the viewer's previous frame, when the ring still has it.
    std::optional<protocol::v2::TickWriter::Previous> previous;
    const GameBridge::TickEvents& last = bridge.event_ring_[since % GameBridge::kEventTicks];
    if (since != 0 && last.stamp == since) previous = protocol::v2::TickWriter::Previous{last.tick, last.ts_ms};
    writer2_.begin(bridge.tick_, bridge.ts_ms_, bridge.online_players_, full, previous, bridge.players_changed_at_ > since,
                   ack);
  } else {
    writer_.begin(out, bridge.tick_, bridge.ts_ms_, bridge.online_players_, full, ack);
  }
  // A first frame carries this tick's events only, not the last kEventTicks ticks'.
  const Stamp events_since = since == 0 && stamp_ > 0 ? stamp_ - 1 : since;

  // Both lists are sorted: one merge pass finds entering, staying and leaving ids. `k` is
  // also the index v2 names a held entity by.
  std::size_t k = 0;
  for (const auto& [id, index] : visible_) {
    while (k < known.size() && known[k] < id) {
      if (binary) {
        writer2_.add_removed(k++);
      } else {
        removed_.push_back(known[k++]);
      }
    }
    const bool was_known = k < known.size() && known[k] == id;
    const std::size_t held_index = k;
    if (was_known) {
      ++k;
      if (bridge.last_change_[index] <= since) continue;  // the usual case: nothing new about it
    }
    if (!was_known || bridge.entered_at_[index] > since) {
      if (binary) {
        writer2_.add_entering(id, entering_of(index));
        entered_now_.push_back(id);
      } else {
        writer_.add_entity(full_of(index));
      }
    } else if (const std::uint8_t fields = bridge.fields_since(index, since); fields != 0) {
      if (binary) {
        const Piece tail = update_tail_of(index, fields);
        std::uint8_t h = tail.h;
        position_.clear();
        if (fields & protocol::kFieldPosition) h |= encode_position(index, id, since, *history);
        writer2_.add_update(held_index, h, tail.m, position_, tail.bytes());
      } else {
        writer_.add_entity(delta_of(index, fields));
      }
    }
  }
  while (k < known.size()) {
    if (binary) {
      writer2_.add_removed(k++);
    } else {
      removed_.push_back(known[k++]);
    }
  }
  if (!binary) {
    for (const game::EntityId id : removed_) writer_.add_removed(id);
  }
  add_events(cx, cy, events_since, format);
  if (binary) {
    writer2_.finish(out);
    history->entered.swap(entered_now_);
    history->before = since;
  } else {
    writer_.finish();
  }
  // Sized to the view with a little slack, so a view that once was crowded does not hold
  // its peak capacity for the rest of the session (memory per player matters at 10,000).
  if (known.capacity() < visible_.size() || known.capacity() > 2 * visible_.size() + 16) {
    std::vector<game::EntityId> resized;
    resized.reserve(visible_.size() + visible_.size() / 4 + 4);
    known.swap(resized);
  }
  known.resize(visible_.size());
  for (std::size_t i = 0; i < visible_.size(); ++i) known[i] = visible_[i].id;
}

protocol::HelloMsg GameBridge::hello() const {
  const auto& cfg = world_.config();
  protocol::HelloMsg m;
  m.tick_rate = cfg.tick_rate;
  m.world_width = cfg.world_width;
  m.world_height = cfg.world_height;
  m.view_radius = view_radius_;
  m.safe_x = world_.safe_zone_x();
  m.safe_y = world_.safe_zone_y();
  m.safe_radius = world_.safe_zone_radius();
  for (const auto& o : world_.obstacles()) m.obstacles.push_back({o.x, o.y, o.w, o.h});
  for (const auto& k : cfg.monster_kinds) {
    m.monster_kinds.push_back({k.name, k.max_hp, k.speed, k.attack_range, k.aggro_radius});
  }
  m.player = {cfg.player_speed,        cfg.player_max_hp,
              cfg.player_damage,       cfg.player_attack_range,
              cfg.player_attack_cooldown_ms, cfg.player_respawn_ms,
              cfg.spawn_protection_ms};
  return m;
}

}  // namespace skirmish::server
