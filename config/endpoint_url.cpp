#include "config/endpoint_url.h"

#include "protocol/authority.h"

namespace skirmish::config {

namespace {

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

constexpr std::string_view kRedisScheme = "redis://";

// RFC 3986 2.1: %XX escapes; false on a '%' not followed by two hex digits.
bool percent_decode(std::string_view in, std::string& out) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    const int hi = i + 1 < in.size() ? hex(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? hex(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// Where the user information of a redis:// URL ends: its last '@', so that a password with
// an unescaped '@', '/', '?' or '#' still parses (and is never shown); npos when none.
std::size_t userinfo_end(std::string_view rest) { return rest.rfind('@'); }

}  // namespace

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& why) {
  if (url.substr(0, kRedisScheme.size()) != kRedisScheme) {
    why = "must start with redis:// (TLS is not supported)";
    return std::nullopt;
  }
  RedisEndpoint out;
  std::string_view rest = url.substr(kRedisScheme.size());
  if (const std::size_t at = userinfo_end(rest); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      why = "a user needs a password: redis://USER:PASSWORD@HOST:PORT (or redis://:PASSWORD@HOST:PORT)";
      return std::nullopt;
    }
    if (!percent_decode(userinfo.substr(0, colon), out.username) ||
        !percent_decode(userinfo.substr(colon + 1), out.password)) {
      why = "the user or password has a '%' that is not followed by two hex digits";
      return std::nullopt;
    }
    if (out.password.empty()) {
      why = "the password is empty";
      return std::nullopt;
    }
    if (out.password == "***") {
      // --print-config's mask, copied back into a file: the real password is not there.
      why = "the password is '***', the mask --print-config shows in its place: write the real one";
      return std::nullopt;
    }
    rest.remove_prefix(at + 1);
  }
  const std::string host_part = std::string(kRedisScheme) + std::string(rest);
  std::string_view authority;
  if (!authority_of(host_part, kRedisScheme, authority, why)) {
    if (host_part.find('/', kRedisScheme.size()) != std::string::npos) {
      why = "a database number or path is not supported: redis://[USER:PASSWORD@]HOST:PORT";
    }
    return std::nullopt;
  }
  if (!protocol::split_authority(authority, out.host, out.port, why)) return std::nullopt;
  return out;
}

std::string redact_redis_url(std::string_view url) {
  if (url.substr(0, kRedisScheme.size()) != kRedisScheme) return std::string(url);
  const std::string_view rest = url.substr(kRedisScheme.size());
  const std::size_t at = userinfo_end(rest);
  if (at == std::string_view::npos) return std::string(url);
  // The user is shown when it is plainly one (a user and a password); anything else in front
  // of the '@' may be a password.
  const std::string_view userinfo = rest.substr(0, at);
  const std::size_t colon = userinfo.find(':');
  const bool plain_user = colon != std::string_view::npos && userinfo.substr(0, colon).find_first_of("/?#") == std::string_view::npos;
  return std::string(kRedisScheme) + (plain_user ? std::string(userinfo.substr(0, colon)) + ":***" : "***") +
         std::string(rest.substr(at));
}

std::optional<PublicUrl> parse_public_url(std::string_view url, std::string& why) {
  for (const auto& [scheme, secure] : {std::pair<std::string_view, bool>{"http://", false}, {"https://", true},
                                       {"ws://", false}, {"wss://", true}}) {
    if (url.substr(0, scheme.size()) != scheme) continue;
    std::string_view authority;
    if (!authority_of(url, scheme, authority, why)) return std::nullopt;
    std::string host;
    int port = 0;
    if (!protocol::split_authority(authority, host, port, why)) return std::nullopt;
    return PublicUrl{secure, std::string(authority)};
  }
  why = "must start with http://, https://, ws:// or wss://";
  return std::nullopt;
}

}  // namespace skirmish::config
