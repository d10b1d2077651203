// Feeds one byte string to a parser every way the network might cut it: whole, one byte
// at a time, and in two pieces at every offset (after h11's t_body_reader and uWS's
// makeChunked). A parser that only works when a frame arrives in one read fails here.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace skirmish::testing {

// Above this size, two-piece splits are taken at every offset within kSplitEdge bytes of
// either end (where headers and message boundaries are) and at a stride in between:
// every offset of a 64 KiB input would be quadratic.
inline constexpr std::size_t kExhaustiveSplitLimit = 4096;
inline constexpr std::size_t kSplitEdge = 256;
inline constexpr std::size_t kSplitStrideCount = 64;

// The offsets at which the two-piece mode cuts `size` bytes (both pieces non-empty).
inline std::vector<std::size_t> split_offsets(std::size_t size) {
  std::vector<std::size_t> offsets;
  if (size < 2) return offsets;
  if (size <= kExhaustiveSplitLimit) {
    for (std::size_t at = 1; at < size; ++at) offsets.push_back(at);
    return offsets;
  }
  const std::size_t stride = size / kSplitStrideCount;
  for (std::size_t at = 1; at < size; ++at) {
    const bool near_edge = at <= kSplitEdge || at >= size - kSplitEdge;
    if (near_edge || at % stride == 0) offsets.push_back(at);
  }
  return offsets;
}

// Calls visit(name, pieces) for: the whole input, one byte per piece, and each
// two-piece split. An empty input is fed as one empty piece.
template <class Visit>
void for_each_split(std::string_view bytes, Visit&& visit) {
  visit(std::string("whole"), std::vector<std::string_view>{bytes});

  std::vector<std::string_view> one_by_one;
  for (std::size_t i = 0; i < bytes.size(); ++i) one_by_one.push_back(bytes.substr(i, 1));
  visit(std::string("one byte at a time"), one_by_one);

  for (std::size_t at : split_offsets(bytes.size())) {
    visit("split at " + std::to_string(at), std::vector<std::string_view>{bytes.substr(0, at), bytes.substr(at)});
  }
}

// Runs feed_all(pieces) for every split; `feed_all` must start from fresh state on each
// call. Every result must equal the whole-input result, which is returned.
template <class FeedAll>
auto feed_every_way(std::string_view bytes, FeedAll&& feed_all) {
  auto expected = feed_all(std::vector<std::string_view>{bytes});
  bool all_same = true;
  for_each_split(bytes, [&](const std::string& name, const std::vector<std::string_view>& pieces) {
    if (!all_same) return;  // report the first mismatch only
    auto got = feed_all(pieces);
    if (!(got == expected)) {
      all_same = false;
      INFO("split mode: " << name);
      CHECK(got == expected);
    }
  });
  CHECK(all_same);
  return expected;
}

}  // namespace skirmish::testing
