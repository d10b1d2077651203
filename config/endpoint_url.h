// The two URLs the fleet is configured with, checked and taken apart: where Redis is
// (fleet.redis_url) and how browsers reach this process (server.public_url). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skirmish::config {

struct RedisEndpoint {
  std::string host;  // a name or an address; an IPv6 address without its brackets
  int port = 6379;
};

// "redis://HOST[:PORT][/]"; nullopt (and `why` set) for anything else: other schemes,
// credentials or a database number (not supported), an empty host, a port out of range.
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& why);

struct PublicUrl {
  bool secure = false;    // https:// or wss://: browsers reach us over TLS
  std::string authority;  // host[:port], as browsers write it
};

// "http://", "https://", "ws://" or "wss://" then HOST[:PORT], with at most a trailing "/".
std::optional<PublicUrl> parse_public_url(std::string_view url, std::string& why);

}  // namespace skirmish::config
