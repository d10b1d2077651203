#include "protocol/authority.h"

#include <charconv>

namespace skirmish::protocol {

namespace {

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

}  // namespace

bool split_authority(std::string_view a, std::string& host, int& port, std::string& why) {
  std::string_view rest;
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos) {
      why = "an IPv6 address needs its closing ']'";
      return false;
    }
    host = std::string(a.substr(1, close - 1));
    for (const char c : host) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) {
        why = "not an IPv6 address in brackets";
        return false;
      }
    }
    rest = a.substr(close + 1);
  } else {
    const auto colon = a.find(':');
    host = std::string(a.substr(0, colon));
    for (const char c : host) {
      if (!host_char(c)) {
        why = "the host may only hold letters, digits, '.', '-' and '_'";
        return false;
      }
    }
    rest = colon == std::string_view::npos ? std::string_view() : a.substr(colon);
  }
  if (host.empty()) {
    why = "the host is missing";
    return false;
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() == 1) {
      why = "expected ':PORT' after the host";
      return false;
    }
    int p = 0;
    const auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), p);
    if (ec != std::errc() || end != rest.data() + rest.size() || p < 1 || p > 65535) {
      why = "the port must be a number from 1 to 65535";
      return false;
    }
    port = p;
  }
  return true;
}

bool is_plain_authority(std::string_view authority) {
  std::string host, why;
  int port = 0;
  return split_authority(authority, host, port, why);
}

}  // namespace skirmish::protocol
