#include "config/endpoint_url.h"

#include <charconv>

namespace skirmish::config {

namespace {

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

// Splits "host[:port]" or "[v6][:port]"; the port stays `port` when absent.
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

// The part after the scheme, without one trailing '/'; nothing else may follow the authority.
bool authority_of(std::string_view url, std::string_view scheme, std::string_view& authority, std::string& why) {
  authority = url.substr(scheme.size());
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.find_first_of("/?#@") != std::string_view::npos) {
    why = "only a scheme, a host and a port, e.g. " + std::string(scheme) + "example.com:8080";
    return false;
  }
  return true;
}

}  // namespace

bool is_plain_authority(std::string_view authority) {
  std::string host, why;
  int port = 0;
  return split_authority(authority, host, port, why);
}

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& why) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    why = "must start with redis:// (TLS, credentials and databases are not supported)";
    return std::nullopt;
  }
  std::string_view authority;
  if (!authority_of(url, kScheme, authority, why)) return std::nullopt;
  RedisEndpoint out;
  if (!split_authority(authority, out.host, out.port, why)) return std::nullopt;
  return out;
}

std::optional<PublicUrl> parse_public_url(std::string_view url, std::string& why) {
  for (const auto& [scheme, secure] : {std::pair<std::string_view, bool>{"http://", false}, {"https://", true},
                                       {"ws://", false}, {"wss://", true}}) {
    if (url.substr(0, scheme.size()) != scheme) continue;
    std::string_view authority;
    if (!authority_of(url, scheme, authority, why)) return std::nullopt;
    std::string host;
    int port = 0;
    if (!split_authority(authority, host, port, why)) return std::nullopt;
    return PublicUrl{secure, std::string(authority)};
  }
  why = "must start with http://, https://, ws:// or wss://";
  return std::nullopt;
}

}  // namespace skirmish::config
