// Plain data shared by the WebSocket frame decoder, encoder and their users.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace skirmish::protocol {

// Limits the frame decoder enforces. The daemon fills this from config ("websocket.*").
struct WsLimits {
  // Largest whole message (all fragments together) we accept. 1 MiB is far above any
  // game message (an input is under 100 bytes) and still small enough that a hostile
  // client cannot make us buffer much per connection.
  std::size_t max_message_size = 1024 * 1024;
};

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// Close codes from RFC 6455 section 7.4.1 and the IANA registry.
enum class CloseCode : std::uint16_t {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  UnsupportedData = 1003,
  NoStatus = 1005,        // never on the wire: "the close frame had no code"
  Abnormal = 1006,        // never on the wire: "the TCP connection just ended"
  InvalidPayload = 1007,  // e.g. text that is not UTF-8
  PolicyViolation = 1008,
  MessageTooBig = 1009,
  MandatoryExtension = 1010,
  InternalError = 1011,
  ServiceRestart = 1012,
  TryAgainLater = 1013,
};

// A failure that carries its answer on the wire: the close code to send and a short reason.
struct WsError {
  CloseCode code;
  const char* reason;
};

// Events compare by value (tests compare decoded events against the originals).
struct TextMessage {  // complete, valid UTF-8
  std::string data;
  friend bool operator==(const TextMessage&, const TextMessage&) = default;
};
struct BinaryMessage {  // complete
  std::string data;
  friend bool operator==(const BinaryMessage&, const BinaryMessage&) = default;
};
struct Ping {
  std::string payload;
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct Pong {
  std::string payload;
  friend bool operator==(const Pong&, const Pong&) = default;
};
struct Close {
  std::uint16_t code = static_cast<std::uint16_t>(CloseCode::NoStatus);  // 1005 when the frame had no payload
  std::string reason;                                                    // valid UTF-8
  friend bool operator==(const Close&, const Close&) = default;
};

using WsEvent = std::variant<TextMessage, BinaryMessage, Ping, Pong, Close>;

}  // namespace skirmish::protocol
