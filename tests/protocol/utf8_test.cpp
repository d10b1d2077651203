#include "protocol/utf8.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/support/utf8_encode.h"
#include "tests/support/split_feeder.h"

using skirmish::protocol::is_valid_utf8;
using skirmish::protocol::Utf8Validator;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

using skirmish::testing::encode_code_point;

// A slow, obviously-correct reference: decode each sequence fully, then check the value.
bool reference_is_valid(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<std::uint8_t>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (b < 0x80) { n = 1; cp = b; }
    else if ((b & 0xE0) == 0xC0) { n = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { n = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { n = 4; cp = b & 0x07; }
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<std::uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n]) return false;           // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;     // surrogate
    if (cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

// Feeds one byte at a time; returns the index of the first byte that made feed() fail.
std::optional<std::size_t> first_rejected_byte(const std::string& s) {
  Utf8Validator v;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(s.substr(i, 1))) return i;
  }
  return std::nullopt;
}

const std::vector<std::string> kValid = {
    "",
    "A",
    "Hello, world",
    bytes({0x00}),                     // U+0000 is a valid code point
    bytes({0x7F}),                     // U+007F, last one-byte
    bytes({0xC2, 0x80}),               // U+0080, first two-byte
    bytes({0xDF, 0xBF}),               // U+07FF, last two-byte
    bytes({0xE0, 0xA0, 0x80}),         // U+0800, first three-byte
    bytes({0xED, 0x9F, 0xBF}),         // U+D7FF, just below the surrogates
    bytes({0xEE, 0x80, 0x80}),         // U+E000, just above the surrogates
    bytes({0xEF, 0xBF, 0xBD}),         // U+FFFD
    bytes({0xEF, 0xBF, 0xBF}),         // U+FFFF, last three-byte (a noncharacter, still valid)
    bytes({0xF0, 0x90, 0x80, 0x80}),   // U+10000, first four-byte
    bytes({0xF3, 0xBF, 0xBF, 0xBF}),   // U+FFFFF
    bytes({0xF4, 0x8F, 0xBF, 0xBF}),   // U+10FFFF, the last code point
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // "kosme" in Greek (Autobahn 6.2)
    std::string(100, 'x') + "\xe2\x82\xac" + std::string(37, 'y'),  // ASCII runs around a euro sign
};

struct Invalid {
  const char* what;
  std::string input;
  std::size_t first_bad;  // the byte at which a validator fed byte by byte must fail
};

const std::vector<Invalid> kInvalid = {
    {"overlong 2-byte C0 80", bytes({0xC0, 0x80}), 0},
    {"overlong 2-byte C1 BF", bytes({0xC1, 0xBF}), 0},
    {"overlong 3-byte E0 80 80", bytes({0xE0, 0x80, 0x80}), 1},
    {"overlong 3-byte E0 9F BF", bytes({0xE0, 0x9F, 0xBF}), 1},
    {"overlong 4-byte F0 80 80 80", bytes({0xF0, 0x80, 0x80, 0x80}), 1},
    {"overlong 4-byte F0 8F BF BF", bytes({0xF0, 0x8F, 0xBF, 0xBF}), 1},
    {"surrogate U+D800", bytes({0xED, 0xA0, 0x80}), 1},
    {"surrogate U+DFFF", bytes({0xED, 0xBF, 0xBF}), 1},
    {"surrogate pair", bytes({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), 1},
    {"above U+10FFFF: F4 90 80 80", bytes({0xF4, 0x90, 0x80, 0x80}), 1},
    {"F5 lead byte", bytes({0xF5, 0x80, 0x80, 0x80}), 0},
    {"F8 lead byte", bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), 0},
    {"FE byte", bytes({0xFE}), 0},
    {"FF byte", bytes({0xFF}), 0},
    {"lone continuation 80", bytes({0x80}), 0},
    {"lone continuation BF", bytes({0xBF}), 0},
    {"continuation after ASCII", bytes({'a', 0x80}), 1},
    {"extra continuation after a full sequence", bytes({0xC2, 0x80, 0x80}), 2},
    {"ASCII where a continuation belongs", bytes({0xC2, 0x41}), 1},
    {"lead byte where a continuation belongs", bytes({0xC2, 0xC2}), 1},
    {"3-byte sequence cut by ASCII", bytes({0xE1, 0x80, 0x41}), 2},
    {"4-byte sequence cut by ASCII", bytes({0xF1, 0x80, 0x80, 0x41}), 3},
    {"bad byte after a long ASCII run", std::string(20, 'a') + bytes({0xC0}), 20},
    {"bad byte after text", "hello" + bytes({0xFF}) + "world", 5},
};

// Valid prefixes that stop inside a code point.
const std::vector<std::string> kTruncated = {
    bytes({0xC2}),
    bytes({0xE0, 0xA0}),
    bytes({0xE1, 0x80}),
    bytes({0xED, 0x9F}),
    bytes({0xF0, 0x90, 0x80}),
    bytes({0xF4, 0x8F, 0xBF}),
    "abc" + bytes({0xE2, 0x82}),
};

}  // namespace

TEST_CASE("valid UTF-8 is accepted whole", "[protocol][utf8]") {
  for (const auto& s : kValid) {
    INFO("input size " << s.size());
    Utf8Validator v;
    CHECK(v.feed(s));
    CHECK(v.complete());
    CHECK(is_valid_utf8(s));
  }
}

TEST_CASE("valid UTF-8 is accepted at every split", "[protocol][utf8]") {
  for (const auto& s : kValid) {
    skirmish::testing::for_each_split(s, [&](const std::string& mode, const std::vector<std::string_view>& pieces) {
      INFO(mode << ", input size " << s.size());
      Utf8Validator v;
      bool ok = true;
      for (auto piece : pieces) ok = v.feed(piece) && ok;
      CHECK(ok);
      CHECK(v.complete());
    });
  }
}

TEST_CASE("invalid UTF-8 is rejected whole", "[protocol][utf8]") {
  for (const auto& c : kInvalid) {
    INFO(c.what);
    Utf8Validator v;
    CHECK_FALSE(v.feed(c.input));
    CHECK(v.failed());
    CHECK_FALSE(v.complete());
    CHECK_FALSE(is_valid_utf8(c.input));
  }
}

TEST_CASE("invalid UTF-8 fed byte by byte fails at the first impossible byte", "[protocol][utf8]") {
  for (const auto& c : kInvalid) {
    INFO(c.what);
    CHECK(first_rejected_byte(c.input) == c.first_bad);
  }
}

TEST_CASE("invalid UTF-8 is rejected at every split", "[protocol][utf8]") {
  for (const auto& c : kInvalid) {
    skirmish::testing::for_each_split(c.input, [&](const std::string& mode, const std::vector<std::string_view>& pieces) {
      INFO(c.what << ", " << mode);
      Utf8Validator v;
      bool ok = true;
      for (auto piece : pieces) ok = v.feed(piece) && ok;
      CHECK_FALSE(ok);
      CHECK_FALSE(v.complete());
    });
  }
}

TEST_CASE("a sequence cut short is a valid prefix but not complete", "[protocol][utf8]") {
  for (const auto& s : kTruncated) {
    INFO("input size " << s.size());
    Utf8Validator v;
    CHECK(v.feed(s));
    CHECK_FALSE(v.complete());
    CHECK_FALSE(v.failed());
    CHECK_FALSE(is_valid_utf8(s));
  }
}

TEST_CASE("a sequence cut short can be finished by the next feed", "[protocol][utf8]") {
  Utf8Validator v;
  CHECK(v.feed(bytes({0xF0, 0x9F})));
  CHECK_FALSE(v.complete());
  CHECK(v.feed(bytes({0x98, 0x80})));  // U+1F600
  CHECK(v.complete());
}

TEST_CASE("a failed validator stays failed until reset", "[protocol][utf8]") {
  Utf8Validator v;
  CHECK_FALSE(v.feed(bytes({0xFF})));
  CHECK_FALSE(v.feed("plain ascii"));
  CHECK_FALSE(v.complete());
  v.reset();
  CHECK(v.feed("plain ascii"));
  CHECK(v.complete());
}

TEST_CASE("reset forgets a partial sequence", "[protocol][utf8]") {
  Utf8Validator v;
  CHECK(v.feed(bytes({0xE2, 0x82})));
  v.reset();
  CHECK(v.complete());
  CHECK(v.feed("a"));
  CHECK(v.complete());
}

TEST_CASE("feeding nothing changes nothing", "[protocol][utf8]") {
  Utf8Validator v;
  CHECK(v.feed(nullptr, 0));
  CHECK(v.complete());
  CHECK(v.feed(bytes({0xC3})));
  CHECK(v.feed(nullptr, 0));
  CHECK_FALSE(v.complete());
}

TEST_CASE("every code point outside the surrogates is valid and every surrogate is not", "[protocol][utf8]") {
  std::size_t wrong = 0;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (is_valid_utf8(encode_code_point(cp)) == surrogate) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("code points above U+10FFFF are rejected", "[protocol][utf8]") {
  for (std::uint32_t cp : {0x110000u, 0x13FFFFu, 0x140000u, 0x1FFFFFu}) {
    INFO("code point " << cp);
    CHECK_FALSE(is_valid_utf8(encode_code_point(cp)));
  }
}

TEST_CASE("every one- and two-byte string agrees with a reference decoder", "[protocol][utf8]") {
  std::size_t disagreements = 0;
  for (int a = 0; a < 256; ++a) {
    const std::string one = bytes({a});
    if (is_valid_utf8(one) != reference_is_valid(one)) ++disagreements;
    for (int b = 0; b < 256; ++b) {
      const std::string two = bytes({a, b});
      if (is_valid_utf8(two) != reference_is_valid(two)) ++disagreements;
    }
  }
  CHECK(disagreements == 0);
}

TEST_CASE("random byte strings agree with a reference decoder, whole and incrementally", "[protocol][utf8]") {
  std::mt19937 rng(20240611);
  // Bytes drawn mostly from the interesting high range, so multi-byte sequences are common.
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> high(0x80, 0xF5);
  std::uniform_int_distribution<int> length(0, 12);
  std::size_t disagreements = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string s;
    const int n = length(rng);
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(rng() % 3 == 0 ? byte(rng) : high(rng)));
    const bool expected = reference_is_valid(s);
    if (is_valid_utf8(s) != expected) ++disagreements;
    Utf8Validator v;
    bool ok = true;
    for (char c : s) ok = v.feed(std::string_view(&c, 1)) && ok;
    if ((ok && v.complete()) != expected) ++disagreements;
  }
  CHECK(disagreements == 0);
}
