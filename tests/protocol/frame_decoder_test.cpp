// FrameDecoder behaviour. Every decode runs whole, one byte at a time and split at every
// offset (decode_every_way), and all three must give the same events and error.
#include "protocol/frame_decoder.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/frame_encoder.h"
#include "tests/support/ws_decode.h"

using namespace skirmish::protocol;
using skirmish::testing::bytes;
using skirmish::testing::bytes_of;
using skirmish::testing::decode_every_way;
using skirmish::testing::DecodeResult;
using skirmish::testing::error_offset;
using skirmish::testing::raw_frame;

namespace {

using Events = std::vector<WsEvent>;

constexpr std::uint32_t kKey = 0x37fa213d;  // the RFC 6455 section 5.7 mask key

// A masked frame as a client sends it.
std::string client(Opcode op, std::string_view payload, bool fin = true) {
  return encode_client_frame(op, payload, kKey, fin);
}

std::string close_payload(std::uint16_t code, std::string_view reason = "") {
  std::string s;
  s.push_back(static_cast<char>(code >> 8));
  s.push_back(static_cast<char>(code & 0xFF));
  s.append(reason);
  return s;
}

WsLimits limit(std::size_t max_message_size) {
  WsLimits l;
  l.max_message_size = max_message_size;
  return l;
}

std::string patterned(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + 7) & 0xFF);
  return s;
}

}  // namespace

// ---- RFC 6455 section 5.7 examples ----------------------------------------------------

TEST_CASE("RFC 6455 5.7: the masked 'Hello' text frame decodes", "[protocol][decoder]") {
  const auto wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: the unmasked 'Hello' text frame decodes in the client role", "[protocol][decoder]") {
  const auto wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: the unmasked 'Hello' text frame from a client is a protocol error", "[protocol][decoder]") {
  const auto wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1002);
  CHECK(r.events.empty());
  CHECK(error_offset(wire) == 1u);  // the mask bit is in the second byte
}

TEST_CASE("RFC 6455 5.7: the fragmented unmasked 'Hello' decodes in the client role", "[protocol][decoder]") {
  const auto wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: the fragmented 'Hello' decodes when masked", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "Hel", false) + client(Opcode::Continuation, "lo", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: the unmasked ping decodes in the client role", "[protocol][decoder]") {
  const auto wire = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.events == Events{Ping{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: the masked pong decodes", "[protocol][decoder]") {
  const auto wire = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Pong{"Hello"}});
}

TEST_CASE("RFC 6455 5.7: 256 bytes of binary with a 16-bit length decode", "[protocol][decoder]") {
  const std::string payload = patterned(256);
  const auto wire = bytes({0x82, 0x7E, 0x01, 0x00}) + payload;
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{BinaryMessage{payload}});
}

TEST_CASE("RFC 6455 5.7: 64 KiB of binary with a 64-bit length decode", "[protocol][decoder]") {
  const std::string payload = patterned(65536);
  const auto wire = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + payload;
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{BinaryMessage{payload}});
}

// ---- payload lengths ------------------------------------------------------------------

TEST_CASE("payloads at the 7-, 16- and 64-bit length boundaries decode", "[protocol][decoder]") {
  for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u}) {
    INFO("payload length " << n);
    const std::string payload = patterned(n);
    const DecodeResult r = decode_every_way(client(Opcode::Binary, payload));
    CHECK(r.close_code == 0);
    CHECK(r.events == Events{BinaryMessage{payload}});
  }
}

TEST_CASE("a 16-bit length that would fit in 7 bits is accepted", "[protocol][decoder]") {
  const auto wire = raw_frame(0x81, "Hello", true, 2);
  CHECK(wire.size() == 2 + 2 + 4 + 5);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"Hello"}});
}

TEST_CASE("a 64-bit length that would fit in 7 or 16 bits is accepted", "[protocol][decoder]") {
  for (std::size_t n : {5u, 300u}) {
    INFO("payload length " << n);
    const std::string payload = patterned(n);
    const DecodeResult r = decode_every_way(raw_frame(0x82, payload, true, 8));
    CHECK(r.close_code == 0);
    CHECK(r.events == Events{BinaryMessage{payload}});
  }
}

TEST_CASE("a control frame with a longer-than-needed length of at most 125 is accepted", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(raw_frame(0x89, "ping!", true, 2));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{"ping!"}});
}

TEST_CASE("a 64-bit length with the most significant bit set is a protocol error", "[protocol][decoder]") {
  const auto wire = raw_frame(0x82, "abc", true, 8, 0x8000000000000003ULL);
  const DecodeResult r = decode_every_way(wire, limit(SIZE_MAX));
  CHECK(r.close_code == 1002);
  CHECK(error_offset(wire, limit(SIZE_MAX)) == 9u);  // the last length byte
}

// ---- empty frames ---------------------------------------------------------------------

TEST_CASE("empty text, binary, ping and pong frames decode", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "") + client(Opcode::Binary, "") + client(Opcode::Ping, "") +
                    client(Opcode::Pong, "");
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{""}, BinaryMessage{""}, Ping{""}, Pong{""}});
}

TEST_CASE("an unmasked empty frame in the client role decodes without further bytes", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{}, Role::Client);
  Events out;
  CHECK_FALSE(d.feed(bytes_of(bytes({0x81, 0x00})), 2, out).has_value());
  CHECK(out == Events{TextMessage{""}});
}

TEST_CASE("an empty close frame decodes as 1005 with no reason", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Close, ""));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Close{1005, ""}});
}

TEST_CASE("a message of empty fragments decodes as one empty message", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "", false) + client(Opcode::Continuation, "", false) +
                    client(Opcode::Continuation, "", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{""}});
}

// ---- fragmentation --------------------------------------------------------------------

TEST_CASE("a text message in three fragments decodes as one message", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "frag", false) + client(Opcode::Continuation, "men", false) +
                    client(Opcode::Continuation, "ted", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"fragmented"}});
}

TEST_CASE("fragments that do not end their message are counted, and the count is taken once", "[protocol][decoder]") {
  FrameDecoder decoder(WsLimits{});
  Events out;
  // A message that never ends: a text frame without FIN, then empty continuations. No event,
  // but every frame counted (the daemon charges each to the peer's allowance).
  std::string wire = client(Opcode::Text, "{", false);
  for (int i = 0; i < 1000; ++i) wire += client(Opcode::Continuation, "", false);
  const auto* p = reinterpret_cast<const std::uint8_t*>(wire.data());
  REQUIRE_FALSE(decoder.feed(p, wire.size(), out).has_value());
  CHECK(out.empty());
  CHECK(decoder.take_fragments() == 1001);
  CHECK(decoder.take_fragments() == 0);
  // Split mid-frame: a fragment counts once its frame is complete. The final frame, and
  // control frames between fragments, are events, not fragments.
  const std::string more = client(Opcode::Continuation, "a", false) + client(Opcode::Ping, "x") +
                           client(Opcode::Continuation, "}", true) + client(Opcode::Text, "whole");
  const auto* q = reinterpret_cast<const std::uint8_t*>(more.data());
  REQUIRE_FALSE(decoder.feed(q, 3, out).has_value());
  CHECK(decoder.take_fragments() == 0);
  REQUIRE_FALSE(decoder.feed(q + 3, more.size() - 3, out).has_value());
  CHECK(decoder.take_fragments() == 1);
  CHECK(out == Events{Ping{"x"}, TextMessage{"{a}"}, TextMessage{"whole"}});
}

TEST_CASE("a binary message in fragments decodes as one message", "[protocol][decoder]") {
  const std::string payload = patterned(300);
  const auto wire = client(Opcode::Binary, payload.substr(0, 1), false) +
                    client(Opcode::Continuation, payload.substr(1, 200), false) +
                    client(Opcode::Continuation, payload.substr(201), true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{BinaryMessage{payload}});
}

TEST_CASE("a UTF-8 sequence split across fragments is valid text", "[protocol][decoder]") {
  const std::string euro = "\xe2\x82\xac";
  const auto wire = client(Opcode::Text, "1" + euro.substr(0, 1), false) +
                    client(Opcode::Continuation, euro.substr(1, 1), false) +
                    client(Opcode::Continuation, euro.substr(2) + "!", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{"1" + euro + "!"}});
}

TEST_CASE("a ping between fragments is delivered before the message", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "Hel", false) + client(Opcode::Ping, "p") +
                    client(Opcode::Continuation, "lo", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{"p"}, TextMessage{"Hello"}});
}

TEST_CASE("pings and pongs interleaved in a fragmented message keep their order", "[protocol][decoder]") {
  const auto wire = client(Opcode::Binary, "a", false) + client(Opcode::Pong, "1") + client(Opcode::Ping, "2") +
                    client(Opcode::Continuation, "b", false) + client(Opcode::Ping, patterned(125)) +
                    client(Opcode::Continuation, "c", true) + client(Opcode::Pong, "3");
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Pong{"1"}, Ping{"2"}, Ping{patterned(125)}, BinaryMessage{"abc"}, Pong{"3"}});
}

TEST_CASE("a close between fragments is delivered and the partial message is dropped", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "Hel", false) + client(Opcode::Close, close_payload(1001, "bye")) +
                    client(Opcode::Continuation, "lo", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Close{1001, "bye"}});
}

TEST_CASE("many frames in one feed decode in order", "[protocol][decoder]") {
  std::string wire;
  Events expected;
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(i);
    wire += client(i % 2 ? Opcode::Text : Opcode::Binary, "msg" + n);
    if (i % 2) {
      expected.emplace_back(TextMessage{"msg" + n});
    } else {
      expected.emplace_back(BinaryMessage{"msg" + n});
    }
  }
  FrameDecoder d(WsLimits{});
  Events out;
  CHECK_FALSE(d.feed(bytes_of(wire), wire.size(), out).has_value());
  CHECK(out == expected);
  CHECK(d.buffered() == 0);
}

TEST_CASE("messages arriving across separate feeds decode in order", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "one") + client(Opcode::Text, "two") + client(Opcode::Text, "three");
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.events == Events{TextMessage{"one"}, TextMessage{"two"}, TextMessage{"three"}});
}

// ---- control frames -------------------------------------------------------------------

TEST_CASE("a ping with 125 bytes of payload decodes", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Ping, patterned(125)));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{patterned(125)}});
}

TEST_CASE("a ping with 126 bytes of payload is a protocol error from its header", "[protocol][decoder]") {
  const auto wire = client(Opcode::Ping, patterned(126));
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1002);
  CHECK(r.events.empty());
  CHECK(error_offset(wire) == 3u);  // the end of the 16-bit length, before the mask key
}

TEST_CASE("control frames over 125 bytes are protocol errors", "[protocol][decoder]") {
  for (Opcode op : {Opcode::Ping, Opcode::Pong, Opcode::Close}) {
    INFO("opcode " << static_cast<int>(op));
    CHECK(decode_every_way(client(op, close_payload(1000, patterned(124)))).close_code == 1002);
    CHECK(decode_every_way(raw_frame(static_cast<std::uint8_t>(0x80 | static_cast<int>(op)), patterned(130), true, 8))
              .close_code == 1002);
  }
}

TEST_CASE("a fragmented control frame is a protocol error from its first byte", "[protocol][decoder]") {
  for (Opcode op : {Opcode::Ping, Opcode::Pong, Opcode::Close}) {
    INFO("opcode " << static_cast<int>(op));
    const auto wire = client(op, "", false);
    CHECK(decode_every_way(wire).close_code == 1002);
    CHECK(error_offset(wire) == 0u);
  }
}

TEST_CASE("a close frame with a code and reason decodes", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Close, close_payload(1000, "normal closure")));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Close{1000, "normal closure"}});
}

TEST_CASE("close frames with every valid code decode", "[protocol][decoder]") {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    INFO("code " << code);
    const auto c = static_cast<std::uint16_t>(code);
    const DecodeResult r = decode_every_way(client(Opcode::Close, close_payload(c)));
    CHECK(r.close_code == 0);
    CHECK(r.events == Events{Close{c, ""}});
  }
}

TEST_CASE("close frames with an invalid code are protocol errors", "[protocol][decoder]") {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    INFO("code " << code);
    const DecodeResult r = decode_every_way(client(Opcode::Close, close_payload(static_cast<std::uint16_t>(code))));
    CHECK(r.close_code == 1002);
    CHECK(r.events.empty());
  }
}

TEST_CASE("a close frame with a one-byte payload is a protocol error from its header", "[protocol][decoder]") {
  const auto wire = client(Opcode::Close, "\x03");
  CHECK(decode_every_way(wire).close_code == 1002);
  CHECK(error_offset(wire) == 1u);
}

TEST_CASE("a close reason that is not UTF-8 is invalid payload data", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Close, close_payload(1000, "\xce\xba\xed\xa0\x80")));
  CHECK(r.close_code == 1007);
  CHECK(r.events.empty());
}

// ---- header errors --------------------------------------------------------------------

TEST_CASE("each reserved bit is a protocol error from the first byte", "[protocol][decoder]") {
  for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
    INFO("RSV bits " << rsv);
    for (int op : {0x1, 0x2, 0x9}) {
      const auto wire = raw_frame(static_cast<std::uint8_t>(0x80 | rsv | op), "Hello");
      const DecodeResult r = decode_every_way(wire);
      CHECK(r.close_code == 1002);
      CHECK(r.events.empty());
      CHECK(error_offset(wire) == 0u);
    }
  }
}

TEST_CASE("each reserved opcode is a protocol error from the first byte", "[protocol][decoder]") {
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    for (int fin : {0x00, 0x80}) {
      INFO("opcode " << op << " fin " << fin);
      const auto wire = raw_frame(static_cast<std::uint8_t>(fin | op), "data");
      CHECK(decode_every_way(wire).close_code == 1002);
      CHECK(error_offset(wire) == 0u);
    }
  }
}

TEST_CASE("an unmasked client frame is a protocol error from the second byte", "[protocol][decoder]") {
  for (int first : {0x81, 0x82, 0x89, 0x8A, 0x88, 0x01}) {
    INFO("first byte " << first);
    const auto wire = raw_frame(static_cast<std::uint8_t>(first), "", false);
    CHECK(decode_every_way(wire).close_code == 1002);
    CHECK(error_offset(wire) == 1u);
  }
}

TEST_CASE("a continuation frame with no message started is a protocol error", "[protocol][decoder]") {
  for (bool fin : {true, false}) {
    const auto wire = client(Opcode::Continuation, "orphan", fin);
    CHECK(decode_every_way(wire).close_code == 1002);
    CHECK(error_offset(wire) == 0u);
  }
}

TEST_CASE("a continuation frame after a finished message is a protocol error", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "done") + client(Opcode::Continuation, "more");
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1002);
  CHECK(r.events == Events{TextMessage{"done"}});
}

TEST_CASE("a new data frame inside a fragmented message is a protocol error", "[protocol][decoder]") {
  for (Opcode op : {Opcode::Text, Opcode::Binary}) {
    INFO("opcode " << static_cast<int>(op));
    const auto first = client(Opcode::Text, "start", false);
    const auto wire = first + client(op, "again");
    const DecodeResult r = decode_every_way(wire);
    CHECK(r.close_code == 1002);
    CHECK(r.events.empty());
    CHECK(error_offset(wire) == first.size());
  }
}

// ---- message size limit ---------------------------------------------------------------

TEST_CASE("a frame exactly at the message size limit decodes", "[protocol][decoder]") {
  const std::string payload = patterned(200);
  const DecodeResult r = decode_every_way(client(Opcode::Binary, payload), limit(200));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{BinaryMessage{payload}});
}

TEST_CASE("a frame over the message size limit is 1009 from its header", "[protocol][decoder]") {
  SECTION("7-bit length") {
    const auto wire = client(Opcode::Text, std::string(101, 'a'));
    CHECK(decode_every_way(wire, limit(100)).close_code == 1009);
    CHECK(error_offset(wire, limit(100)) == 1u);
  }
  SECTION("16-bit length") {
    const auto wire = client(Opcode::Binary, patterned(1001));
    CHECK(decode_every_way(wire, limit(1000)).close_code == 1009);
    CHECK(error_offset(wire, limit(1000)) == 3u);
  }
  SECTION("64-bit length") {
    const auto wire = client(Opcode::Binary, patterned(70000));
    CHECK(decode_every_way(wire, limit(65536)).close_code == 1009);
    CHECK(error_offset(wire, limit(65536)) == 9u);
  }
}

TEST_CASE("a huge declared length fails before any payload is sent", "[protocol][decoder]") {
  const auto header = raw_frame(0x82, "", true, 8, 0x7FFFFFFFFFFFFFFFULL);  // no payload follows
  FrameDecoder d(WsLimits{});
  Events out;
  const auto err = d.feed(bytes_of(header), header.size(), out);
  REQUIRE(err.has_value());
  CHECK(err->code == CloseCode::MessageTooBig);
  CHECK(d.retained_capacity() < 64);
}

TEST_CASE("fragments adding up to exactly the limit decode", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, std::string(60, 'a'), false) +
                    client(Opcode::Continuation, std::string(40, 'b'), true);
  const DecodeResult r = decode_every_way(wire, limit(100));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{TextMessage{std::string(60, 'a') + std::string(40, 'b')}});
}

TEST_CASE("fragments adding up to more than the limit are 1009 at the fragment's header", "[protocol][decoder]") {
  const auto first = client(Opcode::Text, std::string(60, 'a'), false) +
                     client(Opcode::Continuation, std::string(30, 'b'), false);
  const auto wire = first + client(Opcode::Continuation, std::string(11, 'c'), true);
  CHECK(decode_every_way(wire, limit(100)).close_code == 1009);
  CHECK(error_offset(wire, limit(100)) == first.size() + 1);
}

TEST_CASE("control frames between fragments do not count toward the message size limit", "[protocol][decoder]") {
  const auto wire = client(Opcode::Binary, "12345", false) + client(Opcode::Ping, patterned(100)) +
                    client(Opcode::Continuation, "67890", true);
  const DecodeResult r = decode_every_way(wire, limit(10));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{patterned(100)}, BinaryMessage{"1234567890"}});
}

TEST_CASE("the size limit applies to each message, not to the connection", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, std::string(10, 'a')) + client(Opcode::Text, std::string(10, 'b'));
  const DecodeResult r = decode_every_way(wire, limit(10));
  CHECK(r.close_code == 0);
  CHECK(r.events.size() == 2);
}

TEST_CASE("a limit of zero still accepts empty messages", "[protocol][decoder]") {
  CHECK(decode_every_way(client(Opcode::Text, ""), limit(0)).events == Events{TextMessage{""}});
  CHECK(decode_every_way(client(Opcode::Text, "x"), limit(0)).close_code == 1009);
}

// ---- UTF-8 ----------------------------------------------------------------------------

TEST_CASE("a text message that is not UTF-8 is invalid payload data", "[protocol][decoder]") {
  for (const std::string& bad : {std::string("\xff"), std::string("\xc0\x80"), std::string("\xed\xa0\x80"),
                                 std::string("\xf4\x90\x80\x80"), std::string("ok\x80")}) {
    const DecodeResult r = decode_every_way(client(Opcode::Text, bad));
    CHECK(r.close_code == 1007);
    CHECK(r.events.empty());
  }
}

TEST_CASE("bad UTF-8 fails at the first bad byte, before the frame ends", "[protocol][decoder]") {
  const std::string payload = "valid text, then \xed\xa0\x80 and much more text after it";
  const auto wire = client(Opcode::Text, payload);
  const std::size_t header = wire.size() - payload.size();
  CHECK(error_offset(wire) == header + payload.find('\xed') + 1);  // ED A0 is already a surrogate
}

TEST_CASE("bad UTF-8 in a first fragment fails before the message ends", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "abc\xff", false);  // the rest never arrives
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1007);
}

TEST_CASE("bad UTF-8 in a later fragment is invalid payload data", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "\xe2\x82", false) + client(Opcode::Continuation, "\x41", true);
  CHECK(decode_every_way(wire).close_code == 1007);
}

TEST_CASE("a text message that ends inside a code point is invalid payload data", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "abc\xe2\x82", false) + client(Opcode::Continuation, "", true);
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1007);
  CHECK(error_offset(wire) == wire.size() - 1);  // only the final frame shows the message ended
}

TEST_CASE("each text message is validated from a fresh start", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "fine") + client(Opcode::Text, "\x82\xac");
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 1007);
  CHECK(r.events == Events{TextMessage{"fine"}});
}

TEST_CASE("binary messages are not UTF-8 checked", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Binary, "\xff\xc0\x80"));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{BinaryMessage{"\xff\xc0\x80"}});
}

TEST_CASE("ping and pong payloads are not UTF-8 checked", "[protocol][decoder]") {
  const DecodeResult r = decode_every_way(client(Opcode::Ping, "\xff") + client(Opcode::Pong, "\xc0"));
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{"\xff"}, Pong{"\xc0"}});
}

// ---- errors are sticky; close ends decoding -------------------------------------------

TEST_CASE("after an error feed returns the same error and decodes nothing more", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{});
  Events out;
  const auto bad = raw_frame(0xC1, "x");  // RSV1
  const auto first = d.feed(bytes_of(bad), bad.size(), out);
  REQUIRE(first.has_value());
  CHECK(d.failed());
  const auto good = client(Opcode::Text, "fine");
  for (int i = 0; i < 3; ++i) {
    const auto again = d.feed(bytes_of(good), good.size(), out);
    REQUIRE(again.has_value());
    CHECK(again->code == first->code);
    CHECK(std::string(again->reason) == first->reason);
  }
  CHECK(out.empty());
}

TEST_CASE("events completed before an error in the same feed are delivered", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "first") + client(Opcode::Ping, "p") + raw_frame(0x83, "x");
  FrameDecoder d(WsLimits{});
  Events out;
  const auto err = d.feed(bytes_of(wire), wire.size(), out);
  REQUIRE(err.has_value());
  CHECK(err->code == CloseCode::ProtocolError);
  CHECK(out == Events{TextMessage{"first"}, Ping{"p"}});
  CHECK(decode_every_way(wire).events == out);
}

TEST_CASE("bytes after a close frame are ignored", "[protocol][decoder]") {
  const auto wire = client(Opcode::Close, close_payload(1000)) + client(Opcode::Text, "ignored") +
                    bytes({0xFF, 0xFF, 0x00, 0x13});
  const DecodeResult r = decode_every_way(wire);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Close{1000, ""}});

  FrameDecoder d(WsLimits{});
  Events out;
  CHECK_FALSE(d.feed(bytes_of(wire), wire.size(), out).has_value());
  CHECK(d.closed());
  CHECK_FALSE(d.failed());
  const auto more = raw_frame(0xFF, "garbage");
  CHECK_FALSE(d.feed(bytes_of(more), more.size(), out).has_value());
  CHECK(out.size() == 1);
}

TEST_CASE("a bad close frame is an error, not a close event", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{});
  Events out;
  const auto wire = client(Opcode::Close, close_payload(1006));
  CHECK(d.feed(bytes_of(wire), wire.size(), out).has_value());
  CHECK_FALSE(d.closed());
  CHECK(out.empty());
}

// ---- client role ----------------------------------------------------------------------

TEST_CASE("the client role decodes the server encoder's frames", "[protocol][decoder]") {
  const auto wire = encode_frame(Opcode::Text, "snap", false) + encode_frame(Opcode::Ping, "p") +
                    encode_frame(Opcode::Continuation, "shot") + encode_frame(Opcode::Binary, patterned(70000)) +
                    encode_close(1001, "going away");
  const DecodeResult r = decode_every_way(wire, {}, Role::Client);
  CHECK(r.close_code == 0);
  CHECK(r.events == Events{Ping{"p"}, TextMessage{"snapshot"}, BinaryMessage{patterned(70000)}, Close{1001, "going away"}});
}

TEST_CASE("the client role rejects masked frames from the second byte", "[protocol][decoder]") {
  const auto wire = client(Opcode::Text, "Hello");
  CHECK(decode_every_way(wire, {}, Role::Client).close_code == 1002);
  CHECK(error_offset(wire, {}, Role::Client) == 1u);
}

TEST_CASE("the client role applies the same header, size and UTF-8 checks", "[protocol][decoder]") {
  CHECK(decode_every_way(raw_frame(0xC1, "x", false), {}, Role::Client).close_code == 1002);
  CHECK(decode_every_way(raw_frame(0x83, "x", false), {}, Role::Client).close_code == 1002);
  CHECK(decode_every_way(encode_frame(Opcode::Ping, "", false), {}, Role::Client).close_code == 1002);
  CHECK(decode_every_way(encode_frame(Opcode::Text, "\xff"), {}, Role::Client).close_code == 1007);
  CHECK(decode_every_way(encode_frame(Opcode::Text, "toolong"), limit(3), Role::Client).close_code == 1009);
}

// ---- memory ---------------------------------------------------------------------------

TEST_CASE("only the partial header is buffered before payload arrives", "[protocol][decoder]") {
  const auto wire = client(Opcode::Binary, patterned(1000000));
  FrameDecoder d(WsLimits{});
  Events out;
  for (std::size_t i = 0; i < 13; ++i) {  // a 64-bit length and a mask key: 14 header bytes
    CHECK_FALSE(d.feed(bytes_of(wire) + i, 1, out).has_value());
    CHECK(d.buffered() == i + 1);
  }
  CHECK_FALSE(d.feed(bytes_of(wire) + 13, 1, out).has_value());
  CHECK(d.buffered() == 0);           // the header is parsed; no payload yet
  CHECK(d.retained_capacity() < 64);  // nothing reserved for the announced megabyte
  CHECK_FALSE(d.feed(bytes_of(wire) + 14, 100, out).has_value());
  CHECK(d.buffered() == 100);
  CHECK(out.empty());
}

TEST_CASE("a large message's buffer is released when it completes", "[protocol][decoder]") {
  const auto big = client(Opcode::Binary, patterned(100000));
  FrameDecoder d(WsLimits{});
  Events out;
  // In pieces, so the decoder assembles the message in its own buffer.
  for (std::size_t at = 0; at < big.size(); at += 4096) {
    const std::size_t n = std::min<std::size_t>(4096, big.size() - at);
    REQUIRE_FALSE(d.feed(bytes_of(big) + at, n, out).has_value());
  }
  REQUIRE(out.size() == 1);
  CHECK(d.buffered() == 0);
  CHECK(d.retained_capacity() < 64 * 1024);
}

TEST_CASE("a message arriving in pieces is buffered in no more than its own size", "[protocol][decoder]") {
  const std::size_t size = 100000;
  const auto wire = client(Opcode::Binary, patterned(size));
  FrameDecoder d(WsLimits{});
  Events out;
  for (std::size_t at = 0; at + 1 < wire.size(); at += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, wire.size() - 1 - at);
    REQUIRE_FALSE(d.feed(bytes_of(wire) + at, n, out).has_value());
  }
  CHECK(d.buffered() == size - 1);
  CHECK(d.retained_capacity() <= size + 64);  // 64: the control buffer's in-object space
  REQUIRE_FALSE(d.feed(bytes_of(wire) + wire.size() - 1, 1, out).has_value());
  CHECK(out == Events{BinaryMessage{patterned(size)}});
}

TEST_CASE("a message of thousands of one-byte fragments decodes", "[protocol][decoder]") {
  const std::string payload = patterned(5000);
  std::string wire = client(Opcode::Binary, payload.substr(0, 1), false);
  for (std::size_t i = 1; i + 1 < payload.size(); ++i) wire += client(Opcode::Continuation, payload.substr(i, 1), false);
  wire += client(Opcode::Continuation, payload.substr(payload.size() - 1), true);
  FrameDecoder d(WsLimits{});
  Events out;
  CHECK_FALSE(d.feed(bytes_of(wire), wire.size(), out).has_value());
  CHECK(out == Events{BinaryMessage{payload}});
}

TEST_CASE("a small message's buffer is kept for the next message", "[protocol][decoder]") {
  const auto small = client(Opcode::Binary, patterned(1000));
  FrameDecoder d(WsLimits{});
  Events out;
  REQUIRE_FALSE(d.feed(bytes_of(small), small.size(), out).has_value());
  REQUIRE(out == Events{BinaryMessage{patterned(1000)}});
  CHECK(d.buffered() == 0);
  CHECK(d.retained_capacity() >= 1000);
}

TEST_CASE("reset returns a failed decoder to a fresh one", "[protocol][decoder]") {
  FrameDecoder d(limit(10), Role::Server);
  Events out;
  const auto bad = client(Opcode::Text, std::string(11, 'a'));
  REQUIRE(d.feed(bytes_of(bad), bad.size(), out).has_value());
  d.reset();
  CHECK_FALSE(d.failed());
  CHECK(d.buffered() == 0);
  const auto good = client(Opcode::Text, std::string(10, 'a'));
  CHECK_FALSE(d.feed(bytes_of(good), good.size(), out).has_value());
  CHECK(out == Events{TextMessage{std::string(10, 'a')}});
  const auto too_big = client(Opcode::Text, std::string(11, 'a'));  // the limit survived reset
  CHECK(d.feed(bytes_of(too_big), too_big.size(), out).has_value());
}

TEST_CASE("reset midway through a message forgets it", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{});
  Events out;
  const auto partial = client(Opcode::Text, "half", false) + client(Opcode::Continuation, "xyz").substr(0, 4);
  REQUIRE_FALSE(d.feed(bytes_of(partial), partial.size(), out).has_value());
  d.reset();
  const auto fresh = client(Opcode::Text, "new");
  CHECK_FALSE(d.feed(bytes_of(fresh), fresh.size(), out).has_value());
  CHECK(out == Events{TextMessage{"new"}});
}

TEST_CASE("feeding no bytes does nothing", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{});
  Events out;
  CHECK_FALSE(d.feed(nullptr, 0, out).has_value());
  CHECK(out.empty());
  CHECK(d.buffered() == 0);
}

TEST_CASE("at_frame_boundary: true between frames, false inside a header or a payload", "[protocol][decoder]") {
  FrameDecoder d(WsLimits{}, Role::Client);
  std::vector<WsEvent> out;
  const auto wire = bytes({0x81, 0x02, 0x68, 0x69, 0x81, 0x02, 0x79, 0x6f});  // "hi", "yo"
  const auto* two = reinterpret_cast<const std::uint8_t*>(wire.data());
  CHECK(d.at_frame_boundary());
  REQUIRE_FALSE(d.feed(two, 1, out));  // half a header
  CHECK_FALSE(d.at_frame_boundary());
  REQUIRE_FALSE(d.feed(two + 1, 2, out));  // the header and half the payload
  CHECK_FALSE(d.at_frame_boundary());
  REQUIRE_FALSE(d.feed(two + 3, 1, out));  // the first frame's end
  CHECK(d.at_frame_boundary());
  REQUIRE_FALSE(d.feed(two + 4, 2, out));  // the second's header only
  CHECK_FALSE(d.at_frame_boundary());
  REQUIRE_FALSE(d.feed(two + 6, 2, out));
  CHECK(d.at_frame_boundary());
  CHECK(out.size() == 2);
}
