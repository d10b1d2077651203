#include "protocol/request_target.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <vector>

namespace skirmish::protocol {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> normalize_path(std::string_view target) {
  const auto end = target.find_first_of("?#");
  const std::string_view raw = target.substr(0, end);
  if (raw.empty() || raw.front() != '/') return std::nullopt;
  const auto decoded = percent_decode(raw);
  if (!decoded) return std::nullopt;
  // Checked after decoding, so "%2e%2e", "%5c" and "%00" are refused like their plain forms.
  for (const char c : *decoded) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return std::nullopt;
  }
  std::vector<std::string_view> segments;
  std::string_view rest(*decoded);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg == "..") return std::nullopt;
    if (!seg.empty() && seg != ".") segments.push_back(seg);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (const auto seg : segments) {
    out += '/';
    out += seg;
  }
  // A trailing slash names a directory: keep it so the caller can serve its index.
  if (out.empty() || decoded->back() == '/') out += '/';
  return out;
}

namespace {

// The raw (still encoded) value of `name` in the target's query; nullopt when absent.
std::optional<std::string_view> raw_query_value(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto raw = raw_query_value(target, name);
  return raw ? percent_decode(*raw, true) : std::nullopt;
}

bool query_param_malformed(std::string_view target, std::string_view name) {
  const auto raw = raw_query_value(target, name);
  return raw && !percent_decode(*raw, true);
}

std::optional<double> parse_decimal(std::string_view text) {
  // from_chars in its general format reads no hex, but does read "inf" and "nan": only
  // digits, one sign, a point and an exponent get that far.
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string_view::npos) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<float> parse_decimal_float(std::string_view text) {
  const auto value = parse_decimal(text);
  if (!value || std::fabs(*value) > static_cast<double>(std::numeric_limits<float>::max())) return std::nullopt;
  return static_cast<float>(*value);
}

}  // namespace skirmish::protocol
