// Encoding code points as UTF-8 by the plain bit layout, with no checks, so tests can build
// both valid text and the sequences a validator must refuse (surrogates, > U+10FFFF).
#pragma once

#include <cstdint>
#include <string>

namespace skirmish::testing {

inline void append_code_point(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline std::string encode_code_point(std::uint32_t cp) {
  std::string s;
  append_code_point(s, cp);
  return s;
}

}  // namespace skirmish::testing
