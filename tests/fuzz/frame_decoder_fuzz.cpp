// libFuzzer target: the WebSocket frame decoder, server and client roles, arbitrary splits.
// Whatever the bytes, it must end in events or a WsError, never crash, and once failed stay failed.
#include <cstdlib>

#include "protocol/frame_decoder.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skirmish::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Role role = (data[0] & 1) ? Role::Client : Role::Server;
  FrameDecoder decoder(WsLimits{64 * 1024}, role);
  std::vector<WsEvent> events;
  std::optional<WsError> first_error;
  skirmish::fuzz::feed_in_pieces(data + 1, size - 1, [&](const std::uint8_t* p, std::size_t n) {
    auto err = decoder.feed(p, n, events);
    if (first_error && (!err || err->code != first_error->code)) std::abort();  // errors are sticky
    if (err && !first_error) first_error = err;
  });
  for (const auto& e : events) {
    if (const auto* t = std::get_if<TextMessage>(&e); t && !is_valid_utf8(t->data)) std::abort();
    if (const auto* c = std::get_if<Close>(&e); c && !is_valid_utf8(c->reason)) std::abort();
  }
  return 0;
}
