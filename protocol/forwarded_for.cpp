#include "protocol/forwarded_for.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

#include "protocol/header_text.h"

namespace skirmish::protocol {

namespace {

// An IPv4 or IPv6 address (no port, no brackets) as 16 bytes, IPv4 mapped into IPv6.
std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v4);
    for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(12 + i)] = b[i];
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v6);
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = b[i];
    return out;
  }
  return std::nullopt;
}

// An X-Forwarded-For entry without its port: "1.2.3.4:5678" -> "1.2.3.4",
// "[2001:db8::1]:443" -> "2001:db8::1"; a bare IPv6 address (several colons) is left alone.
std::string_view without_port(std::string_view entry) {
  if (!entry.empty() && entry.front() == '[') {
    const std::size_t close = entry.find(']');
    return close == std::string_view::npos ? entry : entry.substr(1, close - 1);
  }
  const std::size_t colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) return entry.substr(0, colon);
  return entry;
}

bool is_mapped_v4(const std::array<std::uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[static_cast<std::size_t>(i)] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

std::optional<std::string> AddressSet::add_all(const std::vector<std::string>& entries) {
  for (const std::string& entry : entries) {
    const std::string_view e = trim(entry);
    const std::size_t slash = e.find('/');
    const auto address = parse_address(e.substr(0, slash));
    if (!address) return "'" + entry + "' is not an IP address or network (e.g. 10.0.0.7, 10.0.0.0/8, ::1, fd00::/8)";
    Net net;
    net.bytes = *address;
    const bool v4 = is_mapped_v4(*address);
    net.prefix = 128;
    if (slash != std::string_view::npos) {
      const std::string bits(e.substr(slash + 1));
      char* end = nullptr;
      const long n = bits.empty() ? -1 : std::strtol(bits.c_str(), &end, 10);
      const long most = v4 ? 32 : 128;
      if (n < 0 || n > most || end == nullptr || *end != '\0') {
        return "'" + entry + "': the prefix length must be 0 to " + std::to_string(most);
      }
      net.prefix = static_cast<int>(v4 ? n + 96 : n);
    }
    nets_.push_back(net);
  }
  return std::nullopt;
}

bool AddressSet::contains(std::string_view address) const {
  const auto a = parse_address(trim(address));
  if (!a) return false;
  for (const Net& net : nets_) {
    int bits = net.prefix;
    bool match = true;
    for (std::size_t i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
      const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
      match = ((*a)[i] & mask) == (net.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string client_address(const AddressSet& trusted, std::string_view peer, const std::string* forwarded_for) {
  std::string client(peer);
  if (forwarded_for == nullptr || !trusted.contains(client)) return client;
  std::string_view rest = *forwarded_for;
  while (!rest.empty() && trusted.contains(client)) {
    const std::size_t comma = rest.rfind(',');
    const std::string_view entry = without_port(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (!parse_address(entry)) break;  // not an address: keep the last trusted hop
    client = std::string(entry);
  }
  return client;
}

std::string limit_key(std::string_view address) {
  auto bytes = parse_address(address);
  if (!bytes) return std::string(address);
  char text[INET6_ADDRSTRLEN] = "";
  const bool v4 = std::all_of(bytes->begin(), bytes->begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
                  (*bytes)[10] == 0xff && (*bytes)[11] == 0xff;
  // NAT64's well-known prefix (RFC 6052, 64:ff9b::/96) carries an IPv4 client in its last 32
  // bits: behind a NAT64 gateway each IPv4 client is its own address, not one /64 for all.
  static constexpr std::uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  const bool nat64 = std::equal(bytes->begin(), bytes->begin() + 12, std::begin(kNat64));
  if (v4 || nat64) {
    inet_ntop(AF_INET, bytes->data() + 12, text, sizeof text);
    return text;
  }
  std::fill(bytes->begin() + 8, bytes->end(), std::uint8_t{0});
  inet_ntop(AF_INET6, bytes->data(), text, sizeof text);
  return std::string(text) + "/64";
}

}  // namespace skirmish::protocol
