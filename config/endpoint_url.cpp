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

}  // namespace

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& why) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    why = "must start with redis:// (TLS, credentials and databases are not supported)";
    return std::nullopt;
  }
  std::string_view authority;
  if (!authority_of(url, kScheme, authority, why)) return std::nullopt;
  RedisEndpoint out;
  if (!protocol::split_authority(authority, out.host, out.port, why)) return std::nullopt;
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
    if (!protocol::split_authority(authority, host, port, why)) return std::nullopt;
    return PublicUrl{secure, std::string(authority)};
  }
  why = "must start with http://, https://, ws:// or wss://";
  return std::nullopt;
}

}  // namespace skirmish::config
