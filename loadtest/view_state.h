// What one client knows of its view, kept the way docs/protocol.md says a client should:
// merge each listed entity into the one held by id, forget removed ids. Only what the load
// tester needs is kept (kind and position), in a vector sorted by id: a view holds a few
// dozen entities, so a binary search beats a hash map and allocates nothing per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "loadtest/frame_scanner.h"

namespace skirmish::loadtest {

struct KnownEntity {
  std::uint32_t id = 0;
  bool is_player = false;
  float x = 0, y = 0;
};

class ViewState {
 public:
  // Applies one frame's entities and removals; a resync frame (frame.full) first forgets
  // everything held, since it lists the whole view. Returns how many records did not fit the
  // protocol: a delta for an id that was never sent in full, or a removal of an unknown id.
  std::size_t apply(const TickBody& frame);

  std::size_t size() const { return known_.size(); }
  const std::vector<KnownEntity>& entities() const { return known_; }
  const KnownEntity* find(std::uint32_t id) const;
  // Forgets everything: a new `hello` (another world) starts the view over.
  void clear() { known_.clear(); }

  // The nearest monster to (x, y), if any is in view.
  std::optional<KnownEntity> nearest_monster(float x, float y) const;

 private:
  std::vector<KnownEntity> known_;  // sorted by id
};

}  // namespace skirmish::loadtest
