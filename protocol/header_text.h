// Small helpers for reading header values: optional whitespace and ASCII case, as HTTP
// defines them (RFC 9110 5.6.3: OWS is spaces and tabs; names, tokens and schemes compare
// without case).
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace skirmish::protocol {

// `s` without the spaces and tabs around it.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Equal, ignoring ASCII case.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// `s` begins with `prefix`, ignoring ASCII case.
inline bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Whether `pred` holds for an element of the comma-separated list `list` (RFC 9110 5.6.1),
// each element trimmed; empty elements are passed too.
template <class Pred>
bool any_list_item(std::string_view list, Pred&& pred) {
  while (true) {
    const auto comma = list.find(',');
    if (pred(trim(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace skirmish::protocol
