// Who a request is from behind a trusted proxy (protocol/forwarded_for.h).
#include "protocol/forwarded_for.h"

#include <catch2/catch.hpp>

using skirmish::protocol::AddressSet;
using skirmish::protocol::client_address;
using skirmish::protocol::limit_key;

namespace {
AddressSet set(std::vector<std::string> entries) {
  AddressSet s;
  REQUIRE_FALSE(s.add_all(entries));
  return s;
}
}  // namespace

TEST_CASE("addresses and networks, IPv4 and IPv6", "[protocol][forwarded]") {
  const AddressSet s = set({"127.0.0.2", "10.0.0.0/8", "::1", "fd00::/8", " 192.168.1.0/24 "});
  CHECK(s.contains("127.0.0.2"));
  CHECK_FALSE(s.contains("127.0.0.1"));
  CHECK(s.contains("10.200.3.4"));
  CHECK_FALSE(s.contains("11.0.0.1"));
  CHECK(s.contains("::1"));
  CHECK(s.contains("fd12:3456::1"));
  CHECK_FALSE(s.contains("fe80::1"));
  CHECK(s.contains("192.168.1.77"));
  CHECK_FALSE(s.contains("192.168.2.1"));
  CHECK_FALSE(s.contains("not an address"));
  CHECK_FALSE(s.contains(""));
  CHECK(set({"0.0.0.0/0"}).contains("203.0.113.9"));
  CHECK_FALSE(set({"0.0.0.0/0"}).contains("2001:db8::1"));  // an IPv4 network holds IPv4 only
}

TEST_CASE("bad entries are named", "[protocol][forwarded]") {
  for (const char* bad : {"localhost", "10.0.0.0/33", "::/129", "10.0.0.1/", "10.0.0.1/x", "", "1.2.3.4.5"}) {
    INFO(bad);
    AddressSet s;
    const auto why = s.add_all({bad});
    REQUIRE(why);
    CHECK(why->find(bad) != std::string::npos);
  }
}

TEST_CASE("the client is the rightmost address that is not a trusted proxy", "[protocol][forwarded]") {
  const AddressSet trusted = set({"127.0.0.2", "10.0.0.0/8"});
  const std::string one = "198.51.100.4";
  const std::string spoofed = "203.0.113.7, 198.51.100.4";
  const std::string chain = "198.51.100.4, 10.1.1.1";
  const std::string garbage = "198.51.100.4, <script>";
  // From an untrusted peer the header means nothing.
  CHECK(client_address(trusted, "127.0.0.1", &spoofed) == "127.0.0.1");
  // From a trusted proxy: what it saw.
  CHECK(client_address(trusted, "127.0.0.2", &one) == "198.51.100.4");
  CHECK(client_address(trusted, "127.0.0.2", nullptr) == "127.0.0.2");
  // What the client wrote before the proxy's own entry is not believed.
  CHECK(client_address(trusted, "127.0.0.2", &spoofed) == "198.51.100.4");
  // Through two trusted proxies.
  CHECK(client_address(trusted, "127.0.0.2", &chain) == "198.51.100.4");
  // An entry that is no address stops at the last trusted hop.
  CHECK(client_address(trusted, "127.0.0.2", &garbage) == "127.0.0.2");
  CHECK(client_address(AddressSet(), "127.0.0.2", &one) == "127.0.0.2");
}

TEST_CASE("entries with ports, and several header lines", "[protocol][forwarded]") {
  const AddressSet trusted = set({"127.0.0.2"});
  const std::string with_port = "198.51.100.4:5678";
  const std::string v6_with_port = "[2001:db8::1]:443";
  const std::string bare_v6 = "2001:db8::2";
  CHECK(client_address(trusted, "127.0.0.2", &with_port) == "198.51.100.4");
  CHECK(client_address(trusted, "127.0.0.2", &v6_with_port) == "2001:db8::1");
  CHECK(client_address(trusted, "127.0.0.2", &bare_v6) == "2001:db8::2");
  // A proxy that adds a line of its own instead of appending: the client's line comes first.
  struct H {
    std::string name, value;
  };
  const std::vector<H> lines = {{"x-forwarded-for", "203.0.113.1"}, {"host", "x"}, {"x-forwarded-for", "198.51.100.4"}};
  const auto joined = skirmish::protocol::joined_header(lines, "x-forwarded-for");
  REQUIRE(joined);
  CHECK(*joined == "203.0.113.1, 198.51.100.4");
  CHECK(client_address(trusted, "127.0.0.2", &*joined) == "198.51.100.4");
  CHECK_FALSE(skirmish::protocol::joined_header(lines, "forwarded"));
}

TEST_CASE("a client's limit key: IPv4 as itself, IPv6 by its /64, every spelling alike", "[protocol][forwarded]") {
  CHECK(limit_key("198.51.100.7") == "198.51.100.7");
  CHECK(limit_key("::ffff:198.51.100.7") == "198.51.100.7");
  CHECK(limit_key("::FFFF:c633:6407") == "198.51.100.7");
  CHECK(limit_key("2001:db8:1:2::a") == "2001:db8:1:2::/64");
  CHECK(limit_key("2001:DB8:0001:0002:ffff:0:0:b") == "2001:db8:1:2::/64");
  CHECK(limit_key("2001:db8:1:3::1") == "2001:db8:1:3::/64");
  CHECK(limit_key("64:ff9b::198.51.100.7") == "198.51.100.7");  // NAT64: one IPv4 client each
  CHECK(limit_key("64:ff9b::c633:6408") == "198.51.100.8");
  CHECK(limit_key("64:ff9b:1::1") == "64:ff9b:1::/64");  // (a local-use NAT64 prefix: a /64 like any)
  CHECK(limit_key("::1") == "::/64");
  CHECK(limit_key("fe80::1") == "fe80::/64");
  // Not an address (a proxy wrote something odd): counted as written.
  CHECK(limit_key("unknown") == "unknown");
  CHECK(limit_key("") == "");
}
