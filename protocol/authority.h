// "HOST[:PORT]" or "[V6][:PORT]" taken apart: the authority of a URL the operator configured,
// or a Host header a client sent. Pure.
#pragma once

#include <string>
#include <string_view>

namespace skirmish::protocol {

// Splits `a` into a host (an IPv6 address without its brackets) and a port from 1 to 65535,
// which stays `port` when absent; false, with `why` set, for anything else.
bool split_authority(std::string_view a, std::string& host, int& port, std::string& why);

// True when `authority` splits (above): e.g. a Host header fit to build a URL from.
bool is_plain_authority(std::string_view authority);

}  // namespace skirmish::protocol
