// A connection's bytes accepted for sending and not yet written, in order: whole frames (or
// answers), except the front one, which the kernel may have taken part of. A batch of chunks
// goes to one vectored write at a time ("in flight"); the rest are the connection's to drop
// (discard_unsent: a slow client's frames, a close that must not wait behind them). No libuv
// here: the connection hands the batch to uv_write and says when it is done.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace skirmish::server {

class SendQueue {
 public:
  bool empty() const { return chunks_.empty(); }
  // Bytes queued, the batch in flight included.
  std::size_t bytes() const { return bytes_; }
  bool in_flight() const { return in_flight_ > 0; }

  // Appends `first` then `second` as one chunk of their own bytes (copied: the caller's are
  // usually a loop's scratch, reused for the next connection).
  void push(std::string_view first, std::string_view second) {
    const std::size_t size = first.size() + second.size();
    Chunk chunk{std::make_unique_for_overwrite<char[]>(size), size};
    std::memcpy(chunk.bytes.get(), first.data(), first.size());
    if (!second.empty()) std::memcpy(chunk.bytes.get() + first.size(), second.data(), second.size());
    chunks_.push_back(std::move(chunk));
    bytes_ += size;
  }

  // The next batch, when none is in flight: the front chunk and those after it, up to
  // `max_chunks` and `max_bytes` (the front one whatever its size), each given to
  // add(data, size). Returns how many are in flight now (0: nothing to write).
  template <class Add>
  std::size_t take_batch(std::size_t max_chunks, std::size_t max_bytes, Add&& add) {
    if (in_flight_ > 0) return 0;
    std::size_t n = 0, bytes = 0;
    while (n < chunks_.size() && n < max_chunks && (n == 0 || bytes + chunks_[n].size <= max_bytes)) {
      add(chunks_[n].bytes.get(), chunks_[n].size);
      bytes += chunks_[n].size;
      n++;
    }
    in_flight_ = n;
    return n;
  }

  // The batch in flight was written (or failed: either way its bytes are done with).
  void written() {
    for (std::size_t i = 0; i < in_flight_; ++i) bytes_ -= chunks_[i].size;
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
    in_flight_ = 0;
    if (chunks_.empty()) std::vector<Chunk>().swap(chunks_);  // a connection that caught up holds no slots
  }

  // Drops every chunk not in flight (libuv still points at those).
  void discard_unsent() {
    while (chunks_.size() > in_flight_) {
      bytes_ -= chunks_.back().size;
      chunks_.pop_back();
    }
  }

 private:
  // Each chunk owns a heap buffer, so the vector may grow under an in-flight write without
  // moving the bytes libuv points at (a std::string's short bytes live inside it).
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
  };
  std::vector<Chunk> chunks_;
  std::size_t in_flight_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace skirmish::server
