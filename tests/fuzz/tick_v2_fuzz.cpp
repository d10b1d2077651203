// libFuzzer target: protocol v2's tick decoder takes any bytes a server (or a man in the
// middle) sends. Each input is split into frames (a length byte before each) fed to one
// decoder in order, so held lists, deltas and relative headers carry across frames. It must
// never crash, read out of bounds or allocate without bound; after a refusal it refuses
// everything until reset(); what it accepts keeps its held list sorted and duplicate-free.
#include <cstdlib>
#include <string_view>

#include "protocol/tick_v2.h"

using namespace skirmish::protocol::v2;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  TickDecoder decoder({"slime", "wolf", "ogre"});
  TickMessage msg;
  std::size_t at = 0;
  bool broken = false;
  while (at < size) {
    const std::size_t len = std::min<std::size_t>(data[at], size - at - 1);
    const std::string_view frame(reinterpret_cast<const char*>(data + at + 1), len);
    at += 1 + len;
    const auto err = decoder.decode(frame, msg);
    if (broken && !err) std::abort();  // out of step must stay out of step
    if (err) {
      if (err->empty()) std::abort();
      broken = true;
      continue;
    }
    // Entering ids ascend, and no more records than bytes.
    std::uint32_t last = 0;
    for (const auto& r : msg.entities) {
      if (!r.entering) continue;
      if (r.id <= last) std::abort();
      last = r.id;
    }
    if (msg.entities.size() + msg.removed.size() + msg.events.size() > frame.size()) std::abort();
  }
  return 0;
}
