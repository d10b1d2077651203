// Test helpers around FrameDecoder: run it over pieces, record what came out in a value
// that compares and prints, and build raw frames byte by byte.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tests/support/split_feeder.h"

namespace skirmish::testing {

using protocol::FrameDecoder;
using protocol::Role;
using protocol::WsEvent;
using protocol::WsLimits;

inline std::string printable(std::string_view data) {
  constexpr std::size_t kShown = 48;
  std::ostringstream os;
  os << '"';
  for (std::size_t i = 0; i < data.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      os << static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      os << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
  if (data.size() > kShown) os << "...";
  os << "\" (" << data.size() << " bytes)";
  return os.str();
}

inline std::string describe(const WsEvent& event) {
  struct Describe {
    std::string operator()(const protocol::TextMessage& m) const { return "Text " + printable(m.data); }
    std::string operator()(const protocol::BinaryMessage& m) const { return "Binary " + printable(m.data); }
    std::string operator()(const protocol::Ping& p) const { return "Ping " + printable(p.payload); }
    std::string operator()(const protocol::Pong& p) const { return "Pong " + printable(p.payload); }
    std::string operator()(const protocol::Close& c) const {
      return "Close " + std::to_string(c.code) + " " + printable(c.reason);
    }
  };
  return std::visit(Describe{}, event);
}

// Everything a decoder run produced. `close_code` is 0 when there was no error.
struct DecodeResult {
  std::vector<WsEvent> events;
  int close_code = 0;
  std::string reason;
  // Broken decoder promises seen during the run (sticky errors, bounded buffering).
  std::string anomaly;

  bool operator==(const DecodeResult&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const DecodeResult& r) {
  os << "{ events: [";
  for (const auto& e : r.events) os << "\n    " << describe(e);
  os << (r.events.empty() ? "" : "\n  ") << "], close_code: " << r.close_code;
  if (r.close_code != 0) os << " (" << r.reason << ")";
  if (!r.anomaly.empty()) os << ", anomaly: " << r.anomaly;
  return os << " }";
}

inline const std::uint8_t* bytes_of(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// Feeds the pieces to one fresh decoder, checking its promises after each call.
inline DecodeResult decode_pieces(const std::vector<std::string_view>& pieces, WsLimits limits = {},
                                  Role role = Role::Server) {
  FrameDecoder decoder(limits, role);
  DecodeResult r;
  for (std::string_view piece : pieces) {
    const std::size_t events_before = r.events.size();
    const auto err = decoder.feed(bytes_of(piece), piece.size(), r.events);
    if (r.close_code != 0) {
      if (!err || static_cast<int>(err->code) != r.close_code || r.events.size() != events_before) {
        r.anomaly += "error not sticky; ";
      }
      continue;
    }
    if (err) {
      r.close_code = static_cast<int>(err->code);
      r.reason = err->reason;
    }
    if (decoder.failed() != err.has_value()) r.anomaly += "failed() disagrees with feed(); ";
    // At most a header, a control payload and the message being assembled.
    if (decoder.buffered() > 14 + 125 + limits.max_message_size) r.anomaly += "buffered too much; ";
  }
  return r;
}

// Decodes `bytes` whole, byte by byte and at every split; all must agree.
inline DecodeResult decode_every_way(std::string_view bytes, WsLimits limits = {}, Role role = Role::Server) {
  DecodeResult r = feed_every_way(
      bytes, [&](const std::vector<std::string_view>& pieces) { return decode_pieces(pieces, limits, role); });
  CHECK(r.anomaly.empty());
  return r;
}

// Feeds one byte at a time and returns the index of the byte whose feed() returned the
// error, to show a check fires as soon as the deciding byte arrives.
inline std::optional<std::size_t> error_offset(std::string_view bytes, WsLimits limits = {},
                                               Role role = Role::Server) {
  FrameDecoder decoder(limits, role);
  std::vector<WsEvent> events;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (decoder.feed(bytes_of(bytes.substr(i, 1)), 1, events)) return i;
  }
  return std::nullopt;
}

inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// A raw frame with any header: the first byte as given, the payload length written in
// the 7-bit, 16-bit or 64-bit form (length_bytes 0, 2 or 8; 0 picks the minimal form),
// and when `masked` the mask key and the masked payload. `declared_length` overrides the
// length written, to announce more (or less) than follows.
inline std::string raw_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true,
                             int length_bytes = 0, std::optional<std::uint64_t> declared_length = std::nullopt,
                             std::uint32_t mask_key = 0x37fa213d) {
  const std::uint64_t len = declared_length.value_or(payload.size());
  int form = length_bytes;
  if (form == 0 && len > 125) form = len <= 0xFFFF ? 2 : 8;
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  const int mask_bit = masked ? 0x80 : 0;
  const int len7 = form == 0 ? static_cast<int>(len) : form == 2 ? 126 : 127;
  out.push_back(static_cast<char>(mask_bit | len7));
  for (int i = form - 1; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  if (!masked) return out.append(payload);
  const std::uint8_t key[4] = {static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
                               static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
  for (std::uint8_t k : key) out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

}  // namespace skirmish::testing
