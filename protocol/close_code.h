// Close frame payloads: which status codes may appear on the wire, and parsing the
// code + reason a peer sent (RFC 6455 sections 5.5.1 and 7.4).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/ws_types.h"

namespace skirmish::protocol {

// True for codes a peer may send: 1000-1003, 1007-1014 and the 3000-4999 ranges for
// registered and private use. 1004 is reserved, 1005/1006/1015 are "never sent" markers,
// and everything else is unassigned, so receiving one is a protocol error.
bool is_valid_close_code_on_wire(std::uint16_t code);

// Parses a close frame payload (already unmasked) into `out`. An empty payload means
// "no status" and yields code 1005 with no reason. Returns the error to close with:
// 1002 for a one-byte payload or a code not valid on the wire, 1007 for a reason that
// is not UTF-8. On error `out` is left unchanged.
std::optional<WsError> parse_close_payload(std::string_view payload, Close& out);

}  // namespace skirmish::protocol
