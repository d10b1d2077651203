// Making sense of a request target ("/path?query") without trusting it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skirmish::protocol {

// The decoded, normalised path of a request target, safe to join to a web root: always
// starts with '/', has no "." or ".." segments, no empty segments, no NUL, no backslash
// and no control characters, before or after percent-decoding. Query and fragment are
// dropped. Returns nullopt for anything that could reach outside the root or that is not
// an origin-form target at all.
std::optional<std::string> normalize_path(std::string_view target);

// The value of `name` in the target's query string, percent-decoded ('+' is a space), or
// nullopt when absent or badly encoded.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

// True when `name` is in the target's query with a value that does not decode ("%zz"): it
// reads as absent from query_param, so a caller that acts on the value refuses the request.
bool query_param_malformed(std::string_view target, std::string_view name);

// A finite decimal number as a query gives one ("2", "-0.5", "1e3", ".25"), or nullopt for
// anything else: strtod's hex ("0x10"), "inf", "nan", signs doubled or leading '+', spaces.
std::optional<double> parse_decimal(std::string_view text);
// The same, as a float, when a float holds it (nullopt beyond +-FLT_MAX): a point in the world.
std::optional<float> parse_decimal_float(std::string_view text);

// Percent-decodes `in`; nullopt for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

}  // namespace skirmish::protocol
