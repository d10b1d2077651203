// Seeded random tests: random messages, fragmented and interleaved with control frames,
// encoded, cut at random places and decoded must come back exactly; random and mutated
// bytes must never crash the decoder and must decode the same however they are cut.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tests/support/utf8_encode.h"
#include "tests/support/ws_decode.h"

using namespace skirmish::protocol;
using skirmish::testing::decode_pieces;
using skirmish::testing::DecodeResult;

namespace {

using Events = std::vector<WsEvent>;
using Rng = std::mt19937;

std::size_t uniform(Rng& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

bool chance(Rng& rng, int percent) { return uniform(rng, 0, 99) < static_cast<std::size_t>(percent); }

std::string random_bytes(Rng& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(uniform(rng, 0, 255));
  return s;
}

using skirmish::testing::append_code_point;

// Valid UTF-8 of at most `max_bytes`, mixing one- to four-byte code points.
std::string random_utf8(Rng& rng, std::size_t max_bytes) {
  std::string s;
  const std::size_t target = uniform(rng, 0, max_bytes);
  while (true) {
    std::uint32_t cp;
    switch (uniform(rng, 0, 3)) {
      case 0: cp = static_cast<std::uint32_t>(uniform(rng, 0, 0x7F)); break;
      case 1: cp = static_cast<std::uint32_t>(uniform(rng, 0x80, 0x7FF)); break;
      case 2:
        cp = static_cast<std::uint32_t>(uniform(rng, 0x800, 0xFFFF - 0x800));
        if (cp >= 0xD800) cp += 0x800;  // skip the surrogates
        break;
      default: cp = static_cast<std::uint32_t>(uniform(rng, 0x10000, 0x10FFFF)); break;
    }
    std::string next;
    append_code_point(next, cp);
    if (s.size() + next.size() > target) return s;
    s += next;
  }
}

// Sizes around every length-encoding boundary, mostly small like real game traffic.
std::size_t random_message_size(Rng& rng) {
  const std::size_t bucket = uniform(rng, 0, 99);
  if (bucket < 10) return 0;
  if (bucket < 60) return uniform(rng, 1, 40);
  if (bucket < 80) return uniform(rng, 120, 131);
  if (bucket < 97) return uniform(rng, 200, 3000);
  return uniform(rng, 65530, 65540);
}

// Cuts `payload` into `count` pieces at random places; pieces may be empty.
std::vector<std::string> random_fragments(Rng& rng, const std::string& payload, std::size_t count) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < count; ++i) cuts.push_back(uniform(rng, 0, payload.size()));
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::string> pieces;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    pieces.push_back(payload.substr(at, cut - at));
    at = cut;
  }
  pieces.push_back(payload.substr(at));
  return pieces;
}

// Cuts a byte stream the way reads might: whole, in tiny pieces, or at random offsets.
std::vector<std::string_view> random_pieces(Rng& rng, std::string_view bytes) {
  std::vector<std::string_view> pieces;
  const std::size_t mode = uniform(rng, 0, 3);
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::size_t n = bytes.size() - at;
    if (mode == 1) n = std::min(n, uniform(rng, 1, 8));
    if (mode == 2) n = std::min(n, uniform(rng, 1, 200));
    if (mode == 3) n = std::min(n, uniform(rng, 1, bytes.size()));
    pieces.push_back(bytes.substr(at, n));
    at += n;
  }
  return pieces;
}

struct Stream {
  std::string wire;
  Events expected;
};

using FrameWriter = std::string (*)(Rng&, Opcode, std::string_view, bool);

std::string client_frame(Rng& rng, Opcode op, std::string_view payload, bool fin) {
  return encode_client_frame(op, payload, static_cast<std::uint32_t>(rng()), fin);
}

std::string server_frame(Rng&, Opcode op, std::string_view payload, bool fin) {
  return encode_frame(op, payload, fin);
}

void maybe_add_control(Rng& rng, FrameWriter write, Stream& s) {
  if (!chance(rng, 30)) return;
  const std::string payload = random_bytes(rng, uniform(rng, 0, 125));
  if (chance(rng, 50)) {
    s.wire += write(rng, Opcode::Ping, payload, true);
    s.expected.emplace_back(Ping{payload});
  } else {
    s.wire += write(rng, Opcode::Pong, payload, true);
    s.expected.emplace_back(Pong{payload});
  }
}

Stream random_stream(Rng& rng, FrameWriter write) {
  Stream s;
  const std::size_t messages = uniform(rng, 1, 8);
  for (std::size_t m = 0; m < messages; ++m) {
    const bool text = chance(rng, 50);
    const std::size_t size = random_message_size(rng);
    const std::string payload = text ? random_utf8(rng, size) : random_bytes(rng, size);
    const std::size_t count = chance(rng, 40) ? 1 : uniform(rng, 2, 6);
    const auto fragments = random_fragments(rng, payload, count);
    maybe_add_control(rng, write, s);
    for (std::size_t i = 0; i < fragments.size(); ++i) {
      const Opcode op = i == 0 ? (text ? Opcode::Text : Opcode::Binary) : Opcode::Continuation;
      const bool fin = i + 1 == fragments.size();
      s.wire += write(rng, op, fragments[i], fin);
      if (!fin) maybe_add_control(rng, write, s);  // control frames may sit between fragments
    }
    if (text) {
      s.expected.emplace_back(TextMessage{payload});
    } else {
      s.expected.emplace_back(BinaryMessage{payload});
    }
  }
  if (chance(rng, 50)) {
    const std::uint16_t codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999};
    const std::uint16_t code = codes[uniform(rng, 0, std::size(codes) - 1)];
    const std::string reason = random_utf8(rng, kMaxCloseReason);
    std::string payload = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    s.wire += write(rng, Opcode::Close, payload + reason, true);
    s.expected.emplace_back(Close{code, reason});
    s.wire += random_bytes(rng, uniform(rng, 0, 50));  // after a close: ignored
  }
  return s;
}

// Flips a few bits or overwrites a few bytes, so frames stay plausible but break in
// every way a header or payload can.
std::string mutate(Rng& rng, std::string wire) {
  if (wire.empty()) return wire;
  const std::size_t edits = uniform(rng, 1, 3);
  for (std::size_t i = 0; i < edits; ++i) {
    const std::size_t at = uniform(rng, 0, std::min<std::size_t>(wire.size() - 1, 64));
    if (chance(rng, 70)) {
      wire[at] = static_cast<char>(wire[at] ^ (1 << uniform(rng, 0, 7)));
    } else {
      wire[at] = static_cast<char>(uniform(rng, 0, 255));
    }
  }
  return wire;
}

}  // namespace

TEST_CASE("random client streams decode to exactly what was sent, however cut", "[protocol][roundtrip]") {
  Rng rng(0x5EED0001);
  for (int round = 0; round < 400; ++round) {
    const Stream s = random_stream(rng, client_frame);
    INFO("round " << round << ", " << s.wire.size() << " bytes");
    const DecodeResult whole = decode_pieces({s.wire});
    const DecodeResult cut = decode_pieces(random_pieces(rng, s.wire));
    REQUIRE(whole.close_code == 0);
    REQUIRE(whole.anomaly.empty());
    REQUIRE(whole.events == s.expected);
    REQUIRE(cut == whole);
  }
}

TEST_CASE("random server streams decode in the client role, however cut", "[protocol][roundtrip]") {
  Rng rng(0x5EED0002);
  for (int round = 0; round < 400; ++round) {
    const Stream s = random_stream(rng, server_frame);
    INFO("round " << round << ", " << s.wire.size() << " bytes");
    const DecodeResult whole = decode_pieces({s.wire}, {}, Role::Client);
    const DecodeResult cut = decode_pieces(random_pieces(rng, s.wire), {}, Role::Client);
    REQUIRE(whole.close_code == 0);
    REQUIRE(whole.anomaly.empty());
    REQUIRE(whole.events == s.expected);
    REQUIRE(cut == whole);
  }
}

TEST_CASE("random bytes never crash the decoder and decode the same however cut", "[protocol][roundtrip]") {
  Rng rng(0x5EED0003);
  WsLimits small;
  small.max_message_size = 4096;
  int errors = 0;
  for (int round = 0; round < 5000; ++round) {
    const std::string garbage = random_bytes(rng, uniform(rng, 0, 300));
    const Role role = chance(rng, 50) ? Role::Server : Role::Client;
    INFO("round " << round);
    const DecodeResult whole = decode_pieces({garbage}, small, role);
    const DecodeResult cut = decode_pieces(random_pieces(rng, garbage), small, role);
    REQUIRE(whole.anomaly.empty());
    REQUIRE(cut == whole);
    if (whole.close_code != 0) {
      ++errors;
      REQUIRE((whole.close_code == 1002 || whole.close_code == 1007 || whole.close_code == 1009));
    }
  }
  CHECK(errors > 0);  // the generator really produced bad input
}

TEST_CASE("mutated valid streams never crash and decode the same however cut", "[protocol][roundtrip]") {
  Rng rng(0x5EED0004);
  int errors = 0;
  int clean = 0;
  for (int round = 0; round < 3000; ++round) {
    const Role role = chance(rng, 50) ? Role::Server : Role::Client;
    const Stream s = random_stream(rng, role == Role::Server ? client_frame : server_frame);
    const std::string wire = mutate(rng, s.wire);
    INFO("round " << round << ", " << wire.size() << " bytes");
    const DecodeResult whole = decode_pieces({wire}, {}, role);
    const DecodeResult cut = decode_pieces(random_pieces(rng, wire), {}, role);
    REQUIRE(whole.anomaly.empty());
    REQUIRE(cut == whole);
    if (whole.close_code != 0) {
      ++errors;
      REQUIRE((whole.close_code == 1002 || whole.close_code == 1007 || whole.close_code == 1009));
    } else {
      ++clean;
    }
  }
  CHECK(errors > 0);
  CHECK(clean > 0);  // some mutations only touch payload bytes
}
