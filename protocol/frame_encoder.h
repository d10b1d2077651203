// RFC 6455 frame encoding. Server frames are unmasked; the client-side encoder (masked)
// exists for the load tester and the tests. All lengths use the minimal encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/ws_types.h"

namespace skirmish::protocol {

// Largest close reason that fits a control frame: 125 bytes minus the 2-byte code.
inline constexpr std::size_t kMaxCloseReason = 123;

// Header bytes for an unmasked frame carrying `payload_len` bytes: 2, 4 or 10.
std::size_t frame_header_size(std::size_t payload_len);

// Appends just the header, so a caller can append the payload in pieces without a copy
// (append_frame's way).
void write_frame_header(std::string& out, Opcode opcode, std::size_t payload_len, bool fin = true);

// The longest header frame_header_size() gives.
inline constexpr std::size_t kMaxFrameHeader = 10;

// An unmasked frame's header on its own, for a writer that sends header and payload as two
// buffers of one vectored write (the payload is never copied behind a header).
struct FrameHeader {
  std::uint8_t bytes[kMaxFrameHeader];
  std::uint8_t size;
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes), size}; }
};
FrameHeader frame_header(Opcode opcode, std::size_t payload_len, bool fin = true);

// Whole unmasked frames in one buffer: for a writer that wants them so (the tests' reference
// frames, a client library). The daemon itself does not copy a payload behind its header: it
// writes frame_header() and the payload as two buffers.
void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true);
std::string encode_frame(Opcode opcode, std::string_view payload, bool fin = true);

// A close frame. The reason is cut to kMaxCloseReason bytes at a UTF-8 boundary (the
// caller passes valid UTF-8). Codes that must not appear on the wire (1005 "no status",
// 1006 "abnormal", 1015, and any code outside the valid ranges) give an empty payload,
// which the peer reads as 1005, rather than a frame the peer must reject.
std::string encode_close(std::uint16_t code, std::string_view reason);
// Just the payload of that close frame (code and cut reason).
std::string encode_close_payload(std::uint16_t code, std::string_view reason);

// A masked frame as a client sends it. `mask_key` is written most significant byte first;
// clients should pick it unpredictably per frame (section 5.3), tests pick it fixed.
std::string encode_client_frame(Opcode opcode, std::string_view payload, std::uint32_t mask_key,
                                bool fin = true);

}  // namespace skirmish::protocol
