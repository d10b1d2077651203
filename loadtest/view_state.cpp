#include "loadtest/view_state.h"

#include <algorithm>

namespace skirmish::loadtest {

namespace {
bool id_less(const KnownEntity& e, std::uint32_t id) { return e.id < id; }
}  // namespace

const KnownEntity* ViewState::find(std::uint32_t id) const {
  const auto it = std::lower_bound(known_.begin(), known_.end(), id, id_less);
  return it != known_.end() && it->id == id ? &*it : nullptr;
}

std::size_t ViewState::apply(const TickBody& frame) {
  std::size_t inconsistent = 0;
  // A resync lists everything in view: what it does not list is gone, not merely unchanged.
  if (frame.full) known_.clear();
  // Removals first: an id removed and sent again in the same frame would be a new entry.
  for (const std::uint32_t id : frame.removed) {
    const auto it = std::lower_bound(known_.begin(), known_.end(), id, id_less);
    if (it != known_.end() && it->id == id) {
      known_.erase(it);
    } else {
      inconsistent++;
    }
  }
  for (const EntityRecord& r : frame.entities) {
    auto it = std::lower_bound(known_.begin(), known_.end(), r.id, id_less);
    if (it == known_.end() || it->id != r.id) {
      if (!r.has_kind) inconsistent++;  // a delta for something we were never shown
      it = known_.insert(it, KnownEntity{r.id, false, 0, 0});
    }
    if (r.has_kind) it->is_player = r.is_player;
    if (r.has_x) it->x = r.x;
    if (r.has_y) it->y = r.y;
  }
  return inconsistent;
}

std::optional<KnownEntity> ViewState::nearest_monster(float x, float y) const {
  std::optional<KnownEntity> best;
  float best_d2 = 0;
  for (const KnownEntity& e : known_) {
    if (e.is_player) continue;
    const float dx = e.x - x, dy = e.y - y;
    const float d2 = dx * dx + dy * dy;
    if (!best || d2 < best_d2) {
      best = e;
      best_d2 = d2;
    }
  }
  return best;
}

}  // namespace skirmish::loadtest
