// Who a request is really from, when it came through a reverse proxy we trust (a TLS
// terminator such as nginx): the proxy appends the address it saw to X-Forwarded-For, so the
// client is the rightmost address that is not one of our trusted proxies. From anyone else the
// header is ignored: a client can write whatever it likes there. Pure: strings in, a string out.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http_types.h"  // joined_header, for the X-Forwarded-For lines

namespace skirmish::protocol {

// A set of addresses and networks: "10.0.0.7", "10.0.0.0/8", "::1", "fd00::/8".
class AddressSet {
 public:
  // nullopt when every entry parses; else the first one that does not, with why.
  std::optional<std::string> add_all(const std::vector<std::string>& entries);
  bool contains(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 128;
  };
  std::vector<Net> nets_;
};

// The client's address for a request from `peer` carrying `forwarded_for` (the header's value,
// every X-Forwarded-For line joined with ", " in order; or nullptr): `peer` itself unless it
// is trusted; then each address of the header from the right, as long as the one before it
// was trusted. An entry may carry a port ("1.2.3.4:5678", "[2001:db8::1]:443"), which is
// dropped. An entry that is not an address ends the walk at the last trusted one. (The
// RFC 7239 "Forwarded" header is not read.)
std::string client_address(const AddressSet& trusted, std::string_view peer, const std::string* forwarded_for);

// What a client's address counts under for per-address limits: IPv4 (also IPv4-mapped IPv6,
// "::ffff:1.2.3.4", and NAT64's "64:ff9b::1.2.3.4") as its dotted quad; IPv6 as its /64 network ("2001:db8:1:2::/64"), since one
// host or household is given a whole /64 and could otherwise take a fresh address for each
// connection; anything that is no address, as given. Every spelling of one address gives one key
// ("2001:DB8::1" and "2001:db8:0:0::1").
std::string limit_key(std::string_view address);

}  // namespace skirmish::protocol
