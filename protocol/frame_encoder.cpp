#include "protocol/frame_encoder.h"

#include "protocol/close_code.h"
#include "protocol/ws_mask.h"

namespace skirmish::protocol {
namespace {

constexpr std::size_t kMax7BitLength = 125;
constexpr std::size_t kMax16BitLength = 0xFFFF;
constexpr std::uint8_t kMaskBit = 0x80;

// Writes the header with the mask bit as given; the mask key itself follows it.
void write_header(std::string& out, Opcode opcode, std::size_t payload_len, bool fin, bool masked) {
  const std::uint8_t mask_bit = masked ? kMaskBit : 0;
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode)));
  if (payload_len <= kMax7BitLength) {
    out.push_back(static_cast<char>(mask_bit | payload_len));
  } else if (payload_len <= kMax16BitLength) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload_len >> 8));
    out.push_back(static_cast<char>(payload_len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    const auto len = static_cast<std::uint64_t>(payload_len);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xFF));
  }
}

// Longest prefix of at most `max` bytes that does not end inside a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  // text[cut] is the first byte left out; while it continues a sequence, that sequence
  // started inside the kept part and must go too.
  while (cut > 0 && (static_cast<std::uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

}  // namespace

std::size_t frame_header_size(std::size_t payload_len) {
  if (payload_len <= kMax7BitLength) return 2;
  if (payload_len <= kMax16BitLength) return 4;
  return 10;
}

void write_frame_header(std::string& out, Opcode opcode, std::size_t payload_len, bool fin) {
  write_header(out, opcode, payload_len, fin, false);
}

FrameHeader frame_header(Opcode opcode, std::size_t payload_len, bool fin) {
  FrameHeader h{};
  std::uint8_t* p = h.bytes;
  *p++ = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
  if (payload_len <= kMax7BitLength) {
    *p++ = static_cast<std::uint8_t>(payload_len);
  } else if (payload_len <= kMax16BitLength) {
    *p++ = 126;
    *p++ = static_cast<std::uint8_t>(payload_len >> 8);
    *p++ = static_cast<std::uint8_t>(payload_len & 0xFF);
  } else {
    *p++ = 127;
    const auto len = static_cast<std::uint64_t>(payload_len);
    for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<std::uint8_t>((len >> shift) & 0xFF);
  }
  h.size = static_cast<std::uint8_t>(p - h.bytes);
  return h;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin) {
  out.reserve(out.size() + frame_header_size(payload.size()) + payload.size());
  write_header(out, opcode, payload.size(), fin, false);
  out.append(payload);
}

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin) {
  std::string out;
  append_frame(out, opcode, payload, fin);
  return out;
}

std::string encode_close_payload(std::uint16_t code, std::string_view reason) {
  if (!is_valid_close_code_on_wire(code)) return {};
  const std::string_view kept = truncate_utf8(reason, kMaxCloseReason);
  std::string payload;
  payload.reserve(2 + kept.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(kept);
  return payload;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
  return encode_frame(Opcode::Close, encode_close_payload(code, reason));
}

std::string encode_client_frame(Opcode opcode, std::string_view payload, std::uint32_t mask_key,
                                bool fin) {
  const MaskKey key = {static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
                       static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
  std::string out;
  out.reserve(frame_header_size(payload.size()) + 4 + payload.size());
  write_header(out, opcode, payload.size(), fin, true);
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  const std::size_t at = out.size();
  out.append(payload);
  apply_mask(out.data() + at, payload.size(), key, 0);
  return out;
}

}  // namespace skirmish::protocol
