// A small scanner for the daemon's tick frames, so a client does not build a JSON DOM 20
// times a second. The frame starts {"type":"tick","tick":N,"ts":T,...} (docs/protocol.md):
// scan_tick_header reads those two numbers and nothing else; scan_tick_body reads on from
// there and picks out what a client needs to keep its view (entity ids, kinds and
// positions, removed ids, and `full`, which starts the view over), skipping every other
// value without looking inside it.
// Both return nothing on input that is not shaped like that; the caller then falls back to
// a real JSON parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace skirmish::loadtest {

struct TickHeader {
  std::uint64_t tick = 0;
  std::int64_t ts_ms = 0;
  std::size_t end = 0;  // offset just after the ts number, where scan_tick_body goes on
};

struct EntityRecord {
  std::uint32_t id = 0;
  bool has_kind = false;   // true in a full record (the entity entered the view)
  bool is_player = false;  // kind == "player" (else a monster kind)
  bool has_x = false, has_y = false;
  float x = 0, y = 0;
};

struct TickBody {
  std::uint32_t players = 0;
  // A resync ("full":true, v2's FULL): the frame lists everything in view, and whatever the
  // client holds that it does not list is gone (docs/protocol.md).
  bool full = false;
  std::vector<EntityRecord> entities;
  std::vector<std::uint32_t> removed;
  void clear() {
    players = 0;
    full = false;
    entities.clear();
    removed.clear();
  }
};

// The tick number and timestamp of a tick frame; nothing for any other message.
std::optional<TickHeader> scan_tick_header(std::string_view text);

// Reads the rest of the frame from header.end. Appends to `out` (clear it first). False
// when the text is not a well-formed tick frame (what was read so far stays in `out`).
bool scan_tick_body(std::string_view text, std::size_t from, TickBody& out);

}  // namespace skirmish::loadtest
