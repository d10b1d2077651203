// Sans-I/O RFC 6455 frame decoder: bytes in, whole messages and control frames out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/utf8.h"
#include "protocol/ws_mask.h"
#include "protocol/ws_types.h"

namespace skirmish::protocol {

// Which end of the connection is decoding. Clients mask every frame and servers never do
// (RFC 6455 section 5.1), so each side rejects the other kind with 1002.
enum class Role : std::uint8_t { Server, Client };

// One per connection. feed() consumes every byte it is given, however the stream is
// split, and appends completed events in wire order. Between calls it holds at most a
// partial frame header (14 bytes), the control frame being read (125 bytes) and the data
// message being assembled, which is bounded by WsLimits::max_message_size.
//
// Every check happens as soon as the bytes that decide it arrive: header problems before
// any payload is buffered, and bad UTF-8 in a text message at the first impossible byte.
class FrameDecoder {
 public:
  explicit FrameDecoder(WsLimits limits, Role role = Role::Server);

  // Appends the events completed by these bytes. Returns the error to close the
  // connection with; events completed before the error in the same call are still
  // appended. After an error every later call returns the same error and reads nothing.
  // After a Close event the peer has nothing more to say: later bytes are ignored.
  std::optional<WsError> feed(const std::uint8_t* data, std::size_t len, std::vector<WsEvent>& out);

  bool failed() const { return error_.has_value(); }
  // True once a Close frame has been decoded.
  bool closed() const { return state_ == State::Closed; }
  // Stream bytes held between calls: a partial header, or the payload read so far of the
  // control frame and of the data message being assembled.
  std::size_t buffered() const {
    return (state_ == State::Header ? header_len_ : 0) + control_.size() + message_.size();
  }
  // Between frames: the bytes fed so far ended exactly where a frame did (nothing of a next
  // frame's header or payload is held).
  bool at_frame_boundary() const { return state_ == State::Header && header_len_ == 0 && message_.empty(); }
  // Data frames that did not end their message, decoded since the last call. They make no
  // event, yet each is a frame's work: the daemon charges them to the peer's message
  // allowance, so that a message that never ends (an endless run of empty continuation
  // frames) is not a free flood.
  std::uint64_t take_fragments() { return std::exchange(fragments_, 0); }
  // Heap bytes held between calls (buffer capacities), for memory accounting.
  std::size_t retained_capacity() const;
  // Back to the state of a fresh decoder with the same limits and role.
  void reset();

 private:
  enum class State : std::uint8_t { Header, Payload, Closed };

  std::optional<WsError> on_header_byte(std::uint8_t byte);
  std::optional<WsError> check_first_byte(std::uint8_t byte);
  std::optional<WsError> check_second_byte(std::uint8_t byte);
  std::optional<WsError> check_payload_length(std::uint64_t len) const;
  void start_payload();
  std::optional<WsError> consume_payload(const std::uint8_t* data, std::size_t len);
  void reserve_message(std::size_t incoming);
  std::optional<WsError> finish_frame(std::vector<WsEvent>& out);
  std::optional<WsError> finish_control_frame(std::vector<WsEvent>& out);
  std::optional<WsError> finish_message(std::vector<WsEvent>& out);
  std::optional<WsError> fail(WsError error);

  bool is_control() const { return (opcode_ & 0x8) != 0; }

  WsLimits limits_;
  Role role_;
  State state_ = State::Header;

  // The frame being read.
  std::uint8_t header_[14] = {};
  std::uint8_t header_len_ = 0;
  std::uint8_t header_need_ = 2;  // grows once the second byte says how long it is
  std::uint8_t opcode_ = 0;
  bool fin_ = false;
  bool masked_ = false;
  MaskKey mask_ = {};
  std::uint64_t payload_left_ = 0;
  std::uint64_t payload_read_ = 0;  // position in this frame's payload, for the mask

  // The data message being assembled across fragments (Text or Binary), or none.
  std::optional<Opcode> message_opcode_;
  std::string message_;
  Utf8Validator utf8_;

  std::string control_;  // a ping, pong or close payload, at most 125 bytes
  std::uint64_t fragments_ = 0;  // see take_fragments()
  std::optional<WsError> error_;
};

}  // namespace skirmish::protocol
