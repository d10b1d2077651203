#include "protocol/player_name.h"

#include <cstdint>

namespace skirmish::protocol {

namespace {

struct Range {
  std::uint32_t lo, hi;
};

template <std::size_t N>
bool in(const Range (&ranges)[N], std::uint32_t cp) {
  for (const Range& r : ranges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

// The demo's name field clips with the same ranges (web/js/player_name.js): keep the two in step.

// Dropped outright: they draw nothing, or reorder or hide what is drawn around them.
// Controls (C0, DEL, C1), the soft hyphen, the combining grapheme joiner, Arabic letter
// mark, Hangul fillers, Khmer inherent vowels, Mongolian selectors, zero-width characters,
// bidi embeddings and isolates, invisible operators, the BOM, interlinear annotation
// marks and the tag characters.
constexpr Range kDropped[] = {
    {0x00, 0x1F},     {0x7F, 0x9F},       {0xAD, 0xAD},     {0x34F, 0x34F},   {0x61C, 0x61C},
    {0x115F, 0x1160}, {0x17B4, 0x17B5},   {0x180B, 0x180F}, {0x200B, 0x200F}, {0x2028, 0x202E},
    {0x2060, 0x206F}, {0x3164, 0x3164},   {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFFB},
    {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
};

// Kept, but not something visible on its own: spaces of every width and the braille blank.
constexpr Range kBlank[] = {
    {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
    {0x202F, 0x202F}, {0x205F, 0x205F}, {0x2800, 0x2800}, {0x3000, 0x3000},
};

// Marks drawn on the character before them (the general-purpose combining blocks, and the
// variation selectors): kept up to kMaxCombiningMarks in a row, never counted as visible.
constexpr Range kCombining[] = {
    {0x300, 0x36F},   {0x483, 0x489},   {0x591, 0x5BD},   {0x610, 0x61A},   {0x64B, 0x65F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

}  // namespace

std::string clean_player_name(std::string_view raw) {
  std::string out;
  std::size_t visible_end = 0;  // out's size after its last non-blank character
  std::size_t chars = 0;        // characters kept (a mark is part of the one before it)
  std::size_t cluster = 0;      // out's size before the current character's base
  std::size_t visible_before = 0;  // visible_end then
  int marks = 0;                // combining marks on the current character so far
  bool has_base = false;        // a character that marks could sit on
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
    for (std::size_t k = 1; k < len && i + k < raw.size(); ++k) cp = (cp << 6) | (raw[i + k] & 0x3F);
    const std::string_view bytes = raw.substr(i, len);
    i += len;
    if (in(kDropped, cp)) continue;
    if (in(kCombining, cp)) {
      if (!has_base || ++marks > kMaxCombiningMarks) continue;
    } else {
      marks = 0;
      cluster = out.size();
      visible_before = visible_end;
      const bool blank = in(kBlank, cp);
      has_base = !blank;
      if (blank && visible_end == 0) continue;  // leading blanks
    }
    if (out.size() + len > kMaxNameBytes) {
      // Out of bytes: a letter whose marks do not all fit goes whole, not bare.
      if (in(kCombining, cp)) {
        out.resize(cluster);
        visible_end = visible_before;
      }
      break;
    }
    if (!in(kCombining, cp) && ++chars > kMaxNameChars) break;
    out += bytes;
    if (has_base) visible_end = out.size();
  }
  out.resize(visible_end);  // trailing blanks, and a name with nothing visible is empty
  return out;
}

}  // namespace skirmish::protocol
