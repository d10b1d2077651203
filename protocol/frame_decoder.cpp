#include "protocol/frame_decoder.h"

#include <algorithm>
#include <utility>

#include "protocol/close_code.h"

namespace skirmish::protocol {
namespace {

constexpr std::size_t kMaxControlPayload = 125;  // RFC 6455 section 5.5

// A finished message's buffer is kept for the next message when it is at most this big,
// so a chatty connection does not reallocate per message; one large message must not pin
// its memory on an idle connection for the rest of its life.
constexpr std::size_t kKeepCapacity = 64 * 1024;

constexpr std::uint8_t kFinBit = 0x80;
constexpr std::uint8_t kRsvBits = 0x70;
constexpr std::uint8_t kOpcodeBits = 0x0F;
constexpr std::uint8_t kMaskBit = 0x80;
constexpr std::uint8_t kLengthBits = 0x7F;
constexpr std::uint8_t kLength16 = 126;
constexpr std::uint8_t kLength64 = 127;

bool is_known_opcode(std::uint8_t op) {
  switch (static_cast<Opcode>(op)) {
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Close:
    case Opcode::Ping:
    case Opcode::Pong:
      return true;
  }
  return false;
}

WsError protocol_error(const char* reason) { return WsError{CloseCode::ProtocolError, reason}; }

}  // namespace

FrameDecoder::FrameDecoder(WsLimits limits, Role role) : limits_(limits), role_(role) {}

std::optional<WsError> FrameDecoder::feed(const std::uint8_t* data, std::size_t len,
                                          std::vector<WsEvent>& out) {
  if (error_) return error_;
  std::size_t pos = 0;
  while (pos < len && state_ != State::Closed) {
    if (state_ == State::Header) {
      // Header bytes go one at a time so each check runs on the byte that decides it.
      if (auto e = on_header_byte(data[pos++])) return fail(*e);
      if (header_len_ < header_need_) continue;
      start_payload();
    } else {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, len - pos));
      if (auto e = consume_payload(data + pos, n)) return fail(*e);
      pos += n;
    }
    // Also reached straight from the header for empty payloads, which need no more bytes.
    if (state_ == State::Payload && payload_left_ == 0) {
      if (auto e = finish_frame(out)) return fail(*e);
    }
  }
  return std::nullopt;
}

std::optional<WsError> FrameDecoder::on_header_byte(std::uint8_t byte) {
  header_[header_len_++] = byte;
  if (header_len_ == 1) return check_first_byte(byte);
  if (header_len_ == 2) return check_second_byte(byte);

  const std::uint8_t length_end = header_need_ - (masked_ ? 4 : 0);
  if (header_len_ != length_end) return std::nullopt;  // inside the length or the mask key
  std::uint64_t len = 0;
  for (std::uint8_t i = 2; i < length_end; ++i) len = (len << 8) | header_[i];
  // The 64-bit form must have its top bit clear (section 5.2). A longer encoding than
  // needed is accepted: it is the sender's MUST, and refusing it buys nothing.
  if (length_end == 10 && (len >> 63) != 0) return protocol_error("64-bit payload length has its top bit set");
  payload_left_ = len;
  return check_payload_length(len);
}

std::optional<WsError> FrameDecoder::check_first_byte(std::uint8_t byte) {
  fin_ = (byte & kFinBit) != 0;
  opcode_ = byte & kOpcodeBits;
  // We negotiate no extensions, so no RSV bit has a meaning.
  if ((byte & kRsvBits) != 0) return protocol_error("reserved bits set without an extension");
  if (!is_known_opcode(opcode_)) return protocol_error("reserved opcode");
  if (is_control()) {
    if (!fin_) return protocol_error("fragmented control frame");
  } else if (static_cast<Opcode>(opcode_) == Opcode::Continuation) {
    if (!message_opcode_) return protocol_error("continuation frame without a message to continue");
  } else if (message_opcode_) {
    return protocol_error("new data frame before the fragmented message finished");
  }
  return std::nullopt;
}

std::optional<WsError> FrameDecoder::check_second_byte(std::uint8_t byte) {
  masked_ = (byte & kMaskBit) != 0;
  if (role_ == Role::Server && !masked_) return protocol_error("client frame is not masked");
  if (role_ == Role::Client && masked_) return protocol_error("server frame is masked");

  const std::uint8_t len7 = byte & kLengthBits;
  const std::uint8_t length_bytes = len7 == kLength16 ? 2 : len7 == kLength64 ? 8 : 0;
  header_need_ = static_cast<std::uint8_t>(2 + length_bytes + (masked_ ? 4 : 0));
  if (length_bytes != 0) return std::nullopt;  // the real length is still to come
  payload_left_ = len7;
  return check_payload_length(len7);
}

std::optional<WsError> FrameDecoder::check_payload_length(std::uint64_t len) const {
  if (is_control()) {
    if (len > kMaxControlPayload) return protocol_error("control frame payload over 125 bytes");
    if (static_cast<Opcode>(opcode_) == Opcode::Close && len == 1) {
      return protocol_error("close payload of one byte");
    }
    return std::nullopt;
  }
  // message_ never exceeds the limit, so the subtraction cannot wrap. Checked before a
  // single payload byte is buffered, so a hostile length costs us nothing.
  if (len > limits_.max_message_size - message_.size()) {
    return WsError{CloseCode::MessageTooBig, "message larger than the configured limit"};
  }
  return std::nullopt;
}

void FrameDecoder::start_payload() {
  if (masked_) std::copy(header_ + header_need_ - 4, header_ + header_need_, mask_.begin());
  payload_read_ = 0;
  state_ = State::Payload;
  if (!is_control() && static_cast<Opcode>(opcode_) != Opcode::Continuation) {
    message_opcode_ = static_cast<Opcode>(opcode_);
    utf8_.reset();
  }
}

std::optional<WsError> FrameDecoder::consume_payload(const std::uint8_t* data, std::size_t len) {
  std::string& buffer = is_control() ? control_ : message_;
  const std::size_t at = buffer.size();
  if (!is_control() && buffer.capacity() - at < len) reserve_message(len);
  buffer.append(reinterpret_cast<const char*>(data), len);
  if (masked_) apply_mask(buffer.data() + at, len, mask_, static_cast<std::size_t>(payload_read_));
  payload_read_ += len;
  payload_left_ -= len;
  // Validate as bytes arrive so a bad text message fails before the rest of it is buffered.
  if (!is_control() && message_opcode_ == Opcode::Text &&
      !utf8_.feed(reinterpret_cast<const std::uint8_t*>(buffer.data() + at), len)) {
    return WsError{CloseCode::InvalidPayload, "text message is not valid UTF-8"};
  }
  return std::nullopt;
}

void FrameDecoder::reserve_message(std::size_t incoming) {
  // Grow geometrically so a message sent as many tiny fragments stays linear, but in the
  // final fragment never past the message's known end: a big message then costs its
  // size, not up to twice that. Nothing is reserved from the header alone, since a peer
  // may announce a megabyte and send one byte.
  const std::size_t needed = message_.size() + incoming;
  std::size_t target = std::min(std::max(needed, message_.capacity() * 2), limits_.max_message_size);
  if (fin_) {
    const std::size_t message_end = message_.size() + static_cast<std::size_t>(payload_left_);
    target = std::min(target, message_end);
  }
  // Into a fresh string: reserve() on a non-empty one may round up to twice its capacity.
  std::string grown;
  grown.reserve(target);
  grown.append(message_);
  message_.swap(grown);
}

std::optional<WsError> FrameDecoder::finish_frame(std::vector<WsEvent>& out) {
  state_ = State::Header;
  header_len_ = 0;
  header_need_ = 2;
  if (is_control()) return finish_control_frame(out);
  if (fin_) return finish_message(out);
  fragments_++;
  return std::nullopt;
}

std::optional<WsError> FrameDecoder::finish_control_frame(std::vector<WsEvent>& out) {
  switch (static_cast<Opcode>(opcode_)) {
    case Opcode::Ping:
      out.emplace_back(Ping{std::exchange(control_, std::string())});
      return std::nullopt;
    case Opcode::Pong:
      out.emplace_back(Pong{std::exchange(control_, std::string())});
      return std::nullopt;
    case Opcode::Close: {
      Close close;
      if (auto e = parse_close_payload(control_, close)) return e;
      out.emplace_back(std::move(close));
      // The peer will send nothing more that matters; drop what a half message holds.
      state_ = State::Closed;
      control_ = std::string();
      message_ = std::string();
      message_opcode_.reset();
      return std::nullopt;
    }
    default:
      return protocol_error("reserved opcode");  // unreachable: check_first_byte filters
  }
}

std::optional<WsError> FrameDecoder::finish_message(std::vector<WsEvent>& out) {
  const bool text = message_opcode_ == Opcode::Text;
  if (text && !utf8_.complete()) {
    return WsError{CloseCode::InvalidPayload, "text message ends inside a UTF-8 sequence"};
  }
  std::string data;
  if (message_.capacity() > kKeepCapacity) {
    data.swap(message_);  // hand the big buffer over; this decoder keeps nothing
  } else {
    data.assign(message_);  // an exact-size copy; the buffer stays for the next message
    message_.clear();
  }
  if (text) {
    out.emplace_back(TextMessage{std::move(data)});
  } else {
    out.emplace_back(BinaryMessage{std::move(data)});
  }
  message_opcode_.reset();
  return std::nullopt;
}

std::optional<WsError> FrameDecoder::fail(WsError error) {
  error_ = error;
  // The connection is over; free what the partial message held.
  control_ = std::string();
  message_ = std::string();
  return error_;
}

std::size_t FrameDecoder::retained_capacity() const {
  return message_.capacity() + control_.capacity();
}

void FrameDecoder::reset() { *this = FrameDecoder(limits_, role_); }

}  // namespace skirmish::protocol
