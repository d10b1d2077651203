// libFuzzer target: the incremental UTF-8 validator must agree with itself however the
// bytes are split, and with a straightforward reference decoder.
#include <cstdlib>
#include <string_view>

#include "protocol/utf8.h"
#include <algorithm>

using namespace skirmish::protocol;

namespace {
// RFC 3629 by the book: slow and obvious.
bool reference_valid(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = s[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the piece size; the rest is the text.
  const std::size_t step = data[0] % 8 + 1;
  const std::uint8_t* text = data + 1;
  const std::size_t n = size - 1;
  const bool whole = is_valid_utf8(std::string_view(reinterpret_cast<const char*>(text), n));
  if (whole != reference_valid(text, n)) std::abort();
  Utf8Validator v;
  bool ok = true;
  for (std::size_t i = 0; i < n; i += step) ok = v.feed(text + i, std::min(step, n - i)) && ok;
  if ((ok && v.complete()) != whole) std::abort();
  return 0;
}
