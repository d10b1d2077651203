#include "protocol/close_code.h"

#include "protocol/utf8.h"

namespace skirmish::protocol {

bool is_valid_close_code_on_wire(std::uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

std::optional<WsError> parse_close_payload(std::string_view payload, Close& out) {
  if (payload.empty()) {
    out.code = static_cast<std::uint16_t>(CloseCode::NoStatus);
    out.reason.clear();
    return std::nullopt;
  }
  if (payload.size() == 1) {
    return WsError{CloseCode::ProtocolError, "close payload of one byte"};
  }
  const auto hi = static_cast<std::uint8_t>(payload[0]);
  const auto lo = static_cast<std::uint8_t>(payload[1]);
  const auto code = static_cast<std::uint16_t>((hi << 8) | lo);
  if (!is_valid_close_code_on_wire(code)) {
    return WsError{CloseCode::ProtocolError, "invalid close code"};
  }
  const std::string_view reason = payload.substr(2);
  if (!is_valid_utf8(reason)) {
    return WsError{CloseCode::InvalidPayload, "close reason is not valid UTF-8"};
  }
  out.code = code;
  out.reason.assign(reason);
  return std::nullopt;
}

}  // namespace skirmish::protocol
