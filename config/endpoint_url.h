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
  // Sent with AUTH once connected, when the password is not empty (the username only with
  // it: Redis 6's ACL users; without one, the default user). Percent-decoded.
  std::string username;
  std::string password;
};

// "redis://[[USER]:PASSWORD@]HOST[:PORT][/]" (the user and password percent-encoded where
// they hold ':', '@', '/' or '%'); nullopt (and `why` set, never naming the password) for
// anything else: other schemes, a database number (not supported), a user without a
// password, an empty host, a port out of range.
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& why);

// The URL as it may be shown (logs, errors, --print-config): its password replaced by "***".
std::string redact_redis_url(std::string_view url);

struct PublicUrl {
  bool secure = false;    // https:// or wss://: browsers reach us over TLS
  std::string authority;  // host[:port], as browsers write it
};

// "http://", "https://", "ws://" or "wss://" then HOST[:PORT], with at most a trailing "/".
std::optional<PublicUrl> parse_public_url(std::string_view url, std::string& why);

}  // namespace skirmish::config
