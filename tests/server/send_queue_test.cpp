#include "server/send_queue.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using skirmish::server::SendQueue;

namespace {
// The batch a write would get, as strings.
std::vector<std::string> take(SendQueue& q, std::size_t max_chunks, std::size_t max_bytes) {
  std::vector<std::string> batch;
  q.take_batch(max_chunks, max_bytes, [&](const char* data, std::size_t size) { batch.emplace_back(data, size); });
  return batch;
}
}  // namespace

TEST_CASE("a send queue keeps its chunks in order, each its own copy of both parts", "[server]") {
  SendQueue q;
  CHECK(q.empty());
  std::string header = "H1", payload = "payload-1";
  q.push(header, payload);
  header = "XX";  // the caller's buffers are reused for the next frame
  payload = "changed!!";
  q.push("H2", "");
  CHECK(q.bytes() == 2 + 9 + 2);
  CHECK(take(q, 64, 1 << 16) == std::vector<std::string>{"H1payload-1", "H2"});
  CHECK(q.in_flight());
  CHECK(take(q, 64, 1 << 16).empty());  // one batch at a time
  q.written();
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  CHECK_FALSE(q.in_flight());
}

TEST_CASE("a batch stops at its chunk and byte limits, but always takes the front chunk", "[server]") {
  SendQueue q;
  for (const char* s : {"aaaa", "bbbb", "cccc", "dddd"}) q.push(s, "");
  CHECK(take(q, 2, 100) == std::vector<std::string>{"aaaa", "bbbb"});
  q.written();
  CHECK(q.bytes() == 8);
  CHECK(take(q, 64, 6) == std::vector<std::string>{"cccc"});  // the next would pass 6 bytes
  q.written();
  CHECK(take(q, 64, 1) == std::vector<std::string>{"dddd"});  // bigger than the limit, but first
  q.written();
  CHECK(q.empty());
}

TEST_CASE("discarding the unsent keeps the batch in flight and what is pushed after", "[server]") {
  SendQueue q;
  for (const char* s : {"one", "two", "three"}) q.push(s, "");
  CHECK(take(q, 1, 100) == std::vector<std::string>{"one"});
  q.discard_unsent();
  CHECK(q.bytes() == 3);  // "one" is still libuv's
  q.push("close", "");
  q.written();
  CHECK(q.bytes() == 5);
  CHECK(take(q, 64, 100) == std::vector<std::string>{"close"});
  q.written();
  CHECK(q.empty());
  q.discard_unsent();  // nothing to drop
  CHECK(q.bytes() == 0);
}
