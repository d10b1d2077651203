#include "protocol/close_code.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using skirmish::protocol::Close;
using skirmish::protocol::CloseCode;
using skirmish::protocol::is_valid_close_code_on_wire;
using skirmish::protocol::parse_close_payload;

namespace {

std::string close_payload(std::uint16_t code, const std::string& reason = "") {
  std::string s;
  s.push_back(static_cast<char>(code >> 8));
  s.push_back(static_cast<char>(code & 0xFF));
  return s + reason;
}

int error_code_of(const std::string& payload) {
  Close out;
  const auto err = parse_close_payload(payload, out);
  return err ? static_cast<int>(err->code) : 0;
}

}  // namespace

TEST_CASE("close codes 1000-1003, 1007-1014 and 3000-4999 are valid on the wire", "[protocol][close]") {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3001, 3999,
                   4000, 4001, 4998, 4999}) {
    INFO("code " << code);
    CHECK(is_valid_close_code_on_wire(static_cast<std::uint16_t>(code)));
  }
}

TEST_CASE("reserved, never-sent and unassigned close codes are invalid on the wire", "[protocol][close]") {
  for (int code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 5001, 65535}) {
    INFO("code " << code);
    CHECK_FALSE(is_valid_close_code_on_wire(static_cast<std::uint16_t>(code)));
  }
}

TEST_CASE("every 16-bit close code is classified by the RFC 6455 ranges", "[protocol][close]") {
  int wrong = 0;
  for (int code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    if (is_valid_close_code_on_wire(static_cast<std::uint16_t>(code)) != expected) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("an empty close payload means 1005 with no reason", "[protocol][close]") {
  Close out{1000, "stale"};
  CHECK_FALSE(parse_close_payload("", out).has_value());
  CHECK(out.code == 1005);
  CHECK(out.reason.empty());
}

TEST_CASE("a close payload with only a code has an empty reason", "[protocol][close]") {
  Close out;
  CHECK_FALSE(parse_close_payload(close_payload(1000), out).has_value());
  CHECK(out.code == 1000);
  CHECK(out.reason.empty());
}

TEST_CASE("a close payload's code is big-endian and its reason follows", "[protocol][close]") {
  Close out;
  CHECK_FALSE(parse_close_payload(std::string("\x0f\xa0server restart", 16), out).has_value());
  CHECK(out.code == 4000);
  CHECK(out.reason == "server restart");
}

TEST_CASE("every valid code parses from a close payload", "[protocol][close]") {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
    INFO("code " << code);
    Close out;
    CHECK_FALSE(parse_close_payload(close_payload(static_cast<std::uint16_t>(code), "ok"), out).has_value());
    CHECK(out.code == code);
    CHECK(out.reason == "ok");
  }
}

TEST_CASE("a one-byte close payload is a protocol error", "[protocol][close]") {
  CHECK(error_code_of(std::string(1, '\x03')) == 1002);
}

TEST_CASE("every invalid code in a close payload is a protocol error", "[protocol][close]") {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    INFO("code " << code);
    CHECK(error_code_of(close_payload(static_cast<std::uint16_t>(code))) == 1002);
    CHECK(error_code_of(close_payload(static_cast<std::uint16_t>(code), "reason")) == 1002);
  }
}

TEST_CASE("a close reason that is not UTF-8 is invalid payload data", "[protocol][close]") {
  CHECK(error_code_of(close_payload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")) == 1007);
  CHECK(error_code_of(close_payload(1000, "\xff")) == 1007);
  CHECK(error_code_of(close_payload(1000, "cut \xe2\x82")) == 1007);  // ends inside a code point
}

TEST_CASE("a UTF-8 close reason of 123 bytes is accepted", "[protocol][close]") {
  Close out;
  const std::string reason = std::string(121, 'a') + "\xc3\xa9";
  CHECK_FALSE(parse_close_payload(close_payload(1001, reason), out).has_value());
  CHECK(out.code == 1001);
  CHECK(out.reason == reason);
}

TEST_CASE("a rejected close payload leaves the output untouched", "[protocol][close]") {
  Close out{1000, "before"};
  CHECK(parse_close_payload(close_payload(1000, "\xff"), out).has_value());
  CHECK(parse_close_payload(close_payload(1005), out).has_value());
  CHECK(out.code == 1000);
  CHECK(out.reason == "before");
}

TEST_CASE("close payload errors carry a reason", "[protocol][close]") {
  Close out;
  const auto err = parse_close_payload(close_payload(1004), out);
  REQUIRE(err.has_value());
  CHECK(err->code == CloseCode::ProtocolError);
  CHECK(std::string(err->reason).size() > 0);
}
