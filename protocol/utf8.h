// UTF-8 validation for WebSocket text messages and close reasons (RFC 3629 / RFC 6455 8.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace skirmish::protocol {

// Incremental validator: text messages arrive in fragments split at arbitrary bytes, so
// the state between two feeds is the position inside the current code point. It fails
// at the first byte that makes the input impossible to complete as valid UTF-8, which
// lets the frame decoder close with 1007 before the rest of a bad message arrives.
class Utf8Validator {
 public:
  // Returns false once the bytes fed so far cannot be a prefix of valid UTF-8 (overlong
  // forms, surrogates, code points above U+10FFFF, bytes C0, C1, F5-FF, misplaced
  // continuation bytes). A failed validator stays failed until reset().
  bool feed(const std::uint8_t* data, std::size_t len);
  bool feed(std::string_view bytes) {
    return feed(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }

  // True when the bytes so far are valid and do not end inside a code point.
  bool complete() const { return state_ == kAccept; }
  bool failed() const { return state_ == kReject; }
  void reset() { state_ = kAccept; }

  // DFA states; public only so the transition table in utf8.cpp can name them.
  static constexpr std::uint8_t kAccept = 0;
  static constexpr std::uint8_t kReject = 1;

 private:
  std::uint8_t state_ = kAccept;
};

// Whole-string check: valid and complete.
bool is_valid_utf8(std::string_view bytes);

}  // namespace skirmish::protocol
