#include "protocol/utf8.h"

#include <array>
#include <cstring>

namespace skirmish::protocol {
namespace {

// A byte-class DFA in the style of Bjoern Hoehrmann's decoder, but with states that name
// what the next byte must be. Lead bytes whose valid continuation range is narrower than
// 80..BF (E0, ED, F0, F4) get their own state, so overlongs, surrogates and code points
// above U+10FFFF are rejected at their second byte rather than at the end of the sequence.
enum ByteClass : std::uint8_t {
  kAscii,      // 00..7F
  kCont80,     // 80..8F
  kCont90,     // 90..9F
  kContA0,     // A0..BF
  kInvalid,    // C0, C1 (always overlong), F5..FF (above U+10FFFF)
  kLead2,      // C2..DF
  kLeadE0,     // E0: next A0..BF, else overlong
  kLead3,      // E1..EC, EE, EF
  kLeadED,     // ED: next 80..9F, else a surrogate
  kLeadF0,     // F0: next 90..BF, else overlong
  kLead4,      // F1..F3
  kLeadF4,     // F4: next 80..8F, else above U+10FFFF
  kClassCount,
};

enum State : std::uint8_t {
  kAccept = Utf8Validator::kAccept,
  kReject = Utf8Validator::kReject,
  kNeed1,      // one more 80..BF
  kNeed2,      // two more 80..BF
  kNeed3,      // three more 80..BF
  kAfterE0,    // A0..BF then one more
  kAfterED,    // 80..9F then one more
  kAfterF0,    // 90..BF then two more
  kAfterF4,    // 80..8F then two more
  kStateCount,
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    ByteClass k = kInvalid;
    if (b <= 0x7F) k = kAscii;
    else if (b <= 0x8F) k = kCont80;
    else if (b <= 0x9F) k = kCont90;
    else if (b <= 0xBF) k = kContA0;
    else if (b <= 0xC1) k = kInvalid;
    else if (b <= 0xDF) k = kLead2;
    else if (b == 0xE0) k = kLeadE0;
    else if (b == 0xED) k = kLeadED;
    else if (b <= 0xEF) k = kLead3;
    else if (b == 0xF0) k = kLeadF0;
    else if (b <= 0xF3) k = kLead4;
    else if (b == 0xF4) k = kLeadF4;
    c[static_cast<std::size_t>(b)] = k;
  }
  return c;
}

using Row = std::array<std::uint8_t, kClassCount>;

constexpr std::array<Row, kStateCount> make_transitions() {
  std::array<Row, kStateCount> t{};
  for (auto& row : t) row.fill(kReject);  // anything not listed below is impossible

  Row& start = t[kAccept];
  start[kAscii] = kAccept;
  start[kLead2] = kNeed1;
  start[kLeadE0] = kAfterE0;
  start[kLead3] = kNeed2;
  start[kLeadED] = kAfterED;
  start[kLeadF0] = kAfterF0;
  start[kLead4] = kNeed3;
  start[kLeadF4] = kAfterF4;

  auto any_continuation = [&](State from, State to) {
    t[from][kCont80] = to;
    t[from][kCont90] = to;
    t[from][kContA0] = to;
  };
  any_continuation(kNeed1, kAccept);
  any_continuation(kNeed2, kNeed1);
  any_continuation(kNeed3, kNeed2);
  t[kAfterE0][kContA0] = kNeed1;
  t[kAfterED][kCont80] = kNeed1;
  t[kAfterED][kCont90] = kNeed1;
  t[kAfterF0][kCont90] = kNeed2;
  t[kAfterF0][kContA0] = kNeed2;
  t[kAfterF4][kCont80] = kNeed2;
  return t;
}

constexpr auto kClasses = make_classes();
constexpr auto kTransitions = make_transitions();

// Game text is almost all ASCII: skip it eight bytes at a time while between code points.
std::size_t ascii_prefix(const std::uint8_t* data, std::size_t len) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word & kHighBits) break;
  }
  while (i < len && data[i] < 0x80) ++i;
  return i;
}

}  // namespace

bool Utf8Validator::feed(const std::uint8_t* data, std::size_t len) {
  std::uint8_t state = state_;
  std::size_t i = 0;
  while (i < len && state != kReject) {
    if (state == kAccept) {
      i += ascii_prefix(data + i, len - i);
      if (i == len) break;
    }
    state = kTransitions[state][kClasses[data[i]]];
    ++i;
  }
  state_ = state;
  return state != kReject;
}

bool is_valid_utf8(std::string_view bytes) {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace skirmish::protocol
