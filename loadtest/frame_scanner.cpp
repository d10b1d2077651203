#include "loadtest/frame_scanner.h"

#include <charconv>
#include <limits>

namespace skirmish::loadtest {

namespace {

// A cursor over JSON text. Every method returns false (and may leave the cursor anywhere)
// on text that is not what it expects; callers give up at the first false.
class Cursor {
 public:
  Cursor(std::string_view text, std::size_t pos) : p_(text.data() + pos), end_(text.data() + text.size()) {}

  std::size_t offset(std::string_view text) const { return static_cast<std::size_t>(p_ - text.data()); }

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool peek(char c) {
    ws();
    return p_ < end_ && *p_ == c;
  }
  bool lit(char c) {
    if (!peek(c)) return false;
    ++p_;
    return true;
  }
  // A string's raw contents (escapes left as they are).
  bool string(std::string_view& out) {
    if (!lit('"')) return false;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\') {
        if (++p_ == end_) return false;
      }
      ++p_;
    }
    if (p_ == end_) return false;
    out = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }
  bool key(std::string_view& out) { return string(out) && lit(':'); }
  // true or false (the daemon writes "full":true, and nothing else, but false is JSON too).
  bool boolean(bool& out) {
    ws();
    for (const std::string_view word : {std::string_view("true"), std::string_view("false")}) {
      if (static_cast<std::size_t>(end_ - p_) >= word.size() && std::string_view(p_, word.size()) == word) {
        out = word == "true";
        p_ += word.size();
        return true;
      }
    }
    return false;
  }
  template <typename Int>
  bool integer(Int& out) {
    ws();
    const auto [ptr, ec] = std::from_chars(p_, end_, out);
    if (ec != std::errc()) return false;
    p_ = ptr;
    return true;
  }
  // The daemon writes plain decimals ("1610.5", "-3", "0.25"): those are read here by hand,
  // since libstdc++'s from_chars for floats was a quarter of the tester's CPU. Anything
  // else (exponents, very long numbers) goes to from_chars.
  bool real(float& out) {
    ws();
    static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
    const char* p = p_;
    const bool negative = p < end_ && *p == '-';
    if (negative) ++p;
    std::uint64_t mantissa = 0;
    int digits = 0, fraction = 0;
    for (; p < end_ && *p >= '0' && *p <= '9'; ++p, ++digits) mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    if (p < end_ && *p == '.') {
      for (++p; p < end_ && *p >= '0' && *p <= '9'; ++p, ++digits, ++fraction) {
        mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      }
    }
    if (digits == 0 || digits > 18 || (p < end_ && (*p == 'e' || *p == 'E'))) {
      const auto [ptr, ec] = std::from_chars(p_, end_, out);
      if (ec != std::errc()) return false;
      p_ = ptr;
      return true;
    }
    const double value = static_cast<double>(mantissa) / kPow10[fraction];
    out = static_cast<float>(negative ? -value : value);
    p_ = p;
    return true;
  }
  // Skips one value of any kind; nesting is bounded by the depth limit.
  bool skip_value(int depth = 0) {
    ws();
    if (p_ == end_ || depth > 32) return false;
    const char c = *p_;
    if (c == '"') {
      std::string_view s;
      return string(s);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++p_;
      if (lit(close)) return true;
      do {
        if (c == '{') {
          std::string_view k;
          if (!key(k)) return false;
        }
        if (!skip_value(depth + 1)) return false;
      } while (lit(','));
      return lit(close);
    }
    // A number, true, false or null: everything up to the next delimiter.
    const char* start = p_;
    while (p_ < end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n') ++p_;
    return p_ != start;
  }

 private:
  const char* p_;
  const char* end_;
};

bool scan_entity(Cursor& c, EntityRecord& e) {
  if (!c.lit('{')) return false;
  if (c.lit('}')) return true;
  do {
    std::string_view k;
    if (!c.key(k)) return false;
    if (k == "id") {
      if (!c.integer(e.id)) return false;
    } else if (k == "kind") {
      std::string_view kind;
      if (!c.string(kind)) return false;
      e.has_kind = true;
      e.is_player = kind == "player";
    } else if (k == "x") {
      if (!c.real(e.x)) return false;
      e.has_x = true;
    } else if (k == "y") {
      if (!c.real(e.y)) return false;
      e.has_y = true;
    } else if (!c.skip_value()) {
      return false;
    }
  } while (c.lit(','));
  return c.lit('}');
}

bool scan_entities(Cursor& c, std::vector<EntityRecord>& out) {
  if (!c.lit('[')) return false;
  if (c.lit(']')) return true;
  do {
    EntityRecord e;
    if (!scan_entity(c, e)) return false;
    out.push_back(e);
  } while (c.lit(','));
  return c.lit(']');
}

bool scan_ids(Cursor& c, std::vector<std::uint32_t>& out) {
  if (!c.lit('[')) return false;
  if (c.lit(']')) return true;
  do {
    std::uint32_t id = 0;
    if (!c.integer(id)) return false;
    out.push_back(id);
  } while (c.lit(','));
  return c.lit(']');
}

}  // namespace

std::optional<TickHeader> scan_tick_header(std::string_view text) {
  Cursor c(text, 0);
  std::string_view k, v;
  TickHeader h;
  if (!c.lit('{') || !c.key(k) || k != "type" || !c.string(v) || v != "tick") return std::nullopt;
  if (!c.lit(',') || !c.key(k) || k != "tick" || !c.integer(h.tick)) return std::nullopt;
  if (!c.lit(',') || !c.key(k) || k != "ts" || !c.integer(h.ts_ms)) return std::nullopt;
  h.end = c.offset(text);
  return h;
}

bool scan_tick_body(std::string_view text, std::size_t from, TickBody& out) {
  if (from > text.size()) return false;
  Cursor c(text, from);
  while (!c.lit('}')) {
    if (!c.lit(',')) return false;
    std::string_view k;
    if (!c.key(k)) return false;
    bool ok;
    if (k == "entities") {
      ok = scan_entities(c, out.entities);
    } else if (k == "removed") {
      ok = scan_ids(c, out.removed);
    } else if (k == "players") {
      ok = c.integer(out.players);
    } else if (k == "full") {
      ok = c.boolean(out.full);
    } else {
      ok = c.skip_value();
    }
    if (!ok) return false;
  }
  c.ws();
  return c.offset(text) == text.size();
}

}  // namespace skirmish::loadtest
