#include "protocol/frame_encoder.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "protocol/utf8.h"
#include "tests/support/ws_decode.h"

using namespace skirmish::protocol;
using skirmish::testing::bytes;

namespace {

// The first `n` bytes of an encoded frame.
std::string head(const std::string& frame, std::size_t n) { return frame.substr(0, n); }

// The reason carried by an encoded close frame (unmasked, 7-bit length).
std::string close_reason(const std::string& frame) { return frame.substr(4); }

}  // namespace

TEST_CASE("header sizes follow the minimal length encoding", "[protocol][encoder]") {
  CHECK(frame_header_size(0) == 2);
  CHECK(frame_header_size(125) == 2);
  CHECK(frame_header_size(126) == 4);
  CHECK(frame_header_size(65535) == 4);
  CHECK(frame_header_size(65536) == 10);
  CHECK(frame_header_size(SIZE_MAX) == 10);
}

TEST_CASE("an empty frame is two header bytes", "[protocol][encoder]") {
  CHECK(encode_frame(Opcode::Text, "") == bytes({0x81, 0x00}));
}

TEST_CASE("a 125-byte payload uses the 7-bit length", "[protocol][encoder]") {
  const std::string frame = encode_frame(Opcode::Text, std::string(125, 'a'));
  CHECK(frame.size() == 2 + 125);
  CHECK(head(frame, 2) == bytes({0x81, 0x7D}));
}

TEST_CASE("a 126-byte payload uses the 16-bit length", "[protocol][encoder]") {
  const std::string frame = encode_frame(Opcode::Binary, std::string(126, 'a'));
  CHECK(frame.size() == 4 + 126);
  CHECK(head(frame, 4) == bytes({0x82, 0x7E, 0x00, 0x7E}));
}

TEST_CASE("a 65535-byte payload uses the 16-bit length", "[protocol][encoder]") {
  const std::string frame = encode_frame(Opcode::Binary, std::string(65535, 'a'));
  CHECK(frame.size() == 4 + 65535);
  CHECK(head(frame, 4) == bytes({0x82, 0x7E, 0xFF, 0xFF}));
}

TEST_CASE("a 65536-byte payload uses the 64-bit length", "[protocol][encoder]") {
  const std::string frame = encode_frame(Opcode::Binary, std::string(65536, 'a'));
  CHECK(frame.size() == 10 + 65536);
  CHECK(head(frame, 10) == bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
}

TEST_CASE("the payload follows the header unchanged (server frames are unmasked)", "[protocol][encoder]") {
  CHECK(encode_frame(Opcode::Text, "Hello") == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));  // RFC 5.7
}

TEST_CASE("the opcode and FIN bit go in the first byte", "[protocol][encoder]") {
  CHECK(encode_frame(Opcode::Text, "", false)[0] == '\x01');
  CHECK(encode_frame(Opcode::Continuation, "", false)[0] == '\x00');
  CHECK(encode_frame(Opcode::Continuation, "")[0] == '\x80');
  CHECK(encode_frame(Opcode::Binary, "")[0] == '\x82');
  CHECK(encode_frame(Opcode::Close, "")[0] == '\x88');
  CHECK(encode_frame(Opcode::Ping, "")[0] == '\x89');
  CHECK(encode_frame(Opcode::Pong, "")[0] == '\x8a');
}

TEST_CASE("append_frame appends to what the buffer holds", "[protocol][encoder]") {
  std::string out = "prefix";
  append_frame(out, Opcode::Text, "ab");
  append_frame(out, Opcode::Ping, "");
  CHECK(out == "prefix" + bytes({0x81, 0x02, 'a', 'b', 0x89, 0x00}));
}

TEST_CASE("a header written alone plus payload pieces equals the whole frame", "[protocol][encoder]") {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    INFO("payload length " << n);
    const std::string payload(n, 'z');
    std::string out;
    write_frame_header(out, Opcode::Binary, n, true);
    CHECK(out.size() == frame_header_size(n));
    out.append(payload.substr(0, n / 2));
    out.append(payload.substr(n / 2));
    CHECK(out == encode_frame(Opcode::Binary, payload));
  }
}

TEST_CASE("a close frame carries the big-endian code then the reason", "[protocol][encoder]") {
  CHECK(encode_close(1000, "bye") == bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  CHECK(encode_close(4000, "") == bytes({0x88, 0x02, 0x0F, 0xA0}));
}

TEST_CASE("codes that must not be sent give an empty close frame", "[protocol][encoder]") {
  for (int code : {1005, 1006, 1015, 0, 999, 1004, 2000, 5000}) {
    INFO("code " << code);
    CHECK(encode_close(static_cast<std::uint16_t>(code), "reason") == bytes({0x88, 0x00}));
  }
}

TEST_CASE("a close reason of 123 bytes is kept whole", "[protocol][encoder]") {
  const std::string reason(123, 'r');
  const std::string frame = encode_close(1001, reason);
  CHECK(frame.size() == 2 + 125);
  CHECK(close_reason(frame) == reason);
}

TEST_CASE("a long ASCII close reason is cut to 123 bytes", "[protocol][encoder]") {
  const std::string frame = encode_close(1001, std::string(200, 'r'));
  CHECK(frame.size() == 2 + 125);
  CHECK(close_reason(frame) == std::string(123, 'r'));
}

TEST_CASE("a close reason is never cut inside a UTF-8 sequence", "[protocol][encoder]") {
  struct Case {
    std::string unit;      // one code point, repeated past the limit
    std::size_t kept;      // bytes that fit in 123 without splitting one
  };
  for (const Case& c : {Case{"\xc3\xa9", 122}, Case{"\xe2\x82\xac", 123}, Case{"\xf0\x9f\x98\x80", 120},
                        Case{"a\xe2\x82\xac", 121}}) {
    std::string reason;
    while (reason.size() < 300) reason += c.unit;
    INFO("unit of " << c.unit.size() << " bytes");
    const std::string kept = close_reason(encode_close(1000, reason));
    CHECK(kept.size() == c.kept);
    CHECK(is_valid_utf8(kept));
    CHECK(reason.compare(0, kept.size(), kept) == 0);
  }
}

TEST_CASE("a cut close reason keeps as much as fits at every alignment", "[protocol][encoder]") {
  for (std::size_t pad = 0; pad < 8; ++pad) {
    std::string reason(pad, 'p');
    while (reason.size() < 200) reason += "\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac";
    const std::string kept = close_reason(encode_close(1000, reason));
    INFO("padding " << pad);
    CHECK(kept.size() <= kMaxCloseReason);
    CHECK(kept.size() > kMaxCloseReason - 4);  // at most one code point dropped
    CHECK(is_valid_utf8(kept));
  }
}

TEST_CASE("the client encoder reproduces the RFC 6455 masked 'Hello'", "[protocol][encoder]") {
  CHECK(encode_client_frame(Opcode::Text, "Hello", 0x37fa213d) ==
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST_CASE("the client encoder sets the mask bit at every length form", "[protocol][encoder]") {
  CHECK(head(encode_client_frame(Opcode::Binary, std::string(125, 'a'), 1), 2) == bytes({0x82, 0xFD}));
  CHECK(head(encode_client_frame(Opcode::Binary, std::string(126, 'a'), 1), 4) == bytes({0x82, 0xFE, 0x00, 0x7E}));
  CHECK(head(encode_client_frame(Opcode::Binary, std::string(65536, 'a'), 1), 10) ==
        bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  CHECK(encode_client_frame(Opcode::Ping, "", 0xA1B2C3D4, false) == bytes({0x09, 0x80, 0xA1, 0xB2, 0xC3, 0xD4}));
}

TEST_CASE("client frames of every length decode back to the payload", "[protocol][encoder]") {
  for (std::size_t n : {0u, 1u, 3u, 4u, 5u, 7u, 8u, 9u, 17u, 125u, 126u, 1000u, 65535u, 65536u}) {
    INFO("payload length " << n);
    std::string payload(n, '\0');
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7);
    const std::string frame = encode_client_frame(Opcode::Binary, payload, 0xDEADBEEF);
    FrameDecoder d(WsLimits{});
    std::vector<WsEvent> out;
    CHECK_FALSE(d.feed(skirmish::testing::bytes_of(frame), frame.size(), out).has_value());
    CHECK(out == std::vector<WsEvent>{BinaryMessage{payload}});
  }
}

TEST_CASE("frame_header followed by the payload gives the bytes of encode_frame at every header size", "[protocol]") {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126},
                              std::size_t{65535}, std::size_t{65536}, std::size_t{70000}}) {
    const std::string payload(n, 'x');
    INFO("payload " << n);
    CHECK(std::string(frame_header(Opcode::Text, n).view()) + payload == encode_frame(Opcode::Text, payload));
    CHECK(std::string(frame_header(Opcode::Binary, n, false).view()) + payload ==
          encode_frame(Opcode::Binary, payload, false));
    CHECK(frame_header(Opcode::Text, n).size == frame_header_size(n));
  }
}

TEST_CASE("close_payload is the payload of encode_close", "[protocol]") {
  CHECK(std::string(frame_header(Opcode::Close, encode_close_payload(1013, "try later").size()).view()) +
            encode_close_payload(1013, "try later") ==
        encode_close(1013, "try later"));
  CHECK(encode_close_payload(1005, "no status on the wire").empty());
}
