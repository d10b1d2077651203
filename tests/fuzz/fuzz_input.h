// Splitting a fuzzer's input into pieces, so that parsers are fed at arbitrary split
// points (after uWebSockets' fuzzing/helpers.h::makeChunked): each piece is prefixed by a
// byte giving its length, so the fuzzer controls the splits as well as the bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace skirmish::fuzz {

template <class Feed>
void feed_in_pieces(const std::uint8_t* data, std::size_t size, Feed&& feed) {
  while (size > 0) {
    std::size_t len = data[0];
    ++data;
    --size;
    if (len > size) len = size;
    feed(data, len);
    data += len;
    size -= len;
  }
}

}  // namespace skirmish::fuzz
