#include "game/visibility_index.h"

#include <algorithm>

namespace skirmish::game {

VisibilityIndex::VisibilityIndex(const GameConfig& cfg)
    : geo_(cfg.world_width, cfg.world_height, cfg.grid_cell_size) {}

void VisibilityIndex::rebuild(const World& world) {
  const auto& entities = world.entities();
  cell_start_.assign(geo_.cell_count() + 1, 0);
  cell_of_.resize(entities.size());
  std::uint32_t visible = 0;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const Entity& e = entities[i];
    if (!e.visible()) {
      cell_of_[i] = UINT32_MAX;
      continue;
    }
    const std::uint32_t cell = geo_.cell_of(e.x, e.y);
    cell_of_[i] = cell;
    ++cell_start_[cell + 1];
    ++visible;
  }
  for (std::size_t c = 1; c < cell_start_.size(); ++c) cell_start_[c] += cell_start_[c - 1];
  items_.resize(visible);
  // cell_start_[c] doubles as the fill cursor of cell c; afterwards it is the end of cell c,
  // i.e. the start of c + 1, so shifting it right by one restores the starts.
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const std::uint32_t cell = cell_of_[i];
    if (cell == UINT32_MAX) continue;
    const Entity& e = entities[i];
    items_[cell_start_[cell]++] = {e.x, e.y, e.id, static_cast<std::uint32_t>(i)};
  }
  for (std::size_t c = cell_start_.size() - 1; c > 0; --c) cell_start_[c] = cell_start_[c - 1];
  cell_start_[0] = 0;
}

void VisibilityIndex::query(float x, float y, float r, std::vector<World::VisibleRef>& out) const {
  if (!(r >= 0) || items_.empty()) return;  // also rejects NaN
  const std::size_t first = out.size();
  const float r2 = r * r;
  const int c0 = geo_.col_of(x - r), c1 = geo_.col_of(x + r);
  const int r0 = geo_.row_of(y - r), r1 = geo_.row_of(y + r);
  for (int row = r0; row <= r1; ++row) {
    const std::size_t base = static_cast<std::size_t>(row) * static_cast<std::size_t>(geo_.cols);
    const Item* it = items_.data() + cell_start_[base + static_cast<std::size_t>(c0)];
    const Item* end = items_.data() + cell_start_[base + static_cast<std::size_t>(c1) + 1];
    for (; it != end; ++it) {
      const float dx = it->x - x, dy = it->y - y;
      if (dx * dx + dy * dy <= r2) out.push_back({it->id, it->index});
    }
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), World::VisibleRef::ById{});
}

}  // namespace skirmish::game
