// A once-per-tick snapshot of where every visible entity stands, for the many view queries a
// tick needs (one per client). The live SpatialGrid keeps one vector per cell so that moves are
// cheap; reading it means a pointer chase per cell and a locator lookup per entity. Here the
// entities are packed by cell in one array (a counting sort), so the cells of one grid row are
// one contiguous run: a query reads a handful of runs of 16-byte records and nothing else.
#pragma once

#include <cstdint>
#include <vector>

#include "game/grid_geometry.h"
#include "game/world.h"

namespace skirmish::game {

class VisibilityIndex {
 public:
  // Cells laid out like the world's own grid (world size and game.grid_cell_size).
  explicit VisibilityIndex(const GameConfig& cfg);

  // Takes a snapshot of `world` (made with that config) as it is now. Queries answer for that
  // moment until the next rebuild; the indices they return are valid while the world's entity
  // list is unchanged.
  void rebuild(const World& world);

  // Appends, sorted by id, the visible entities within distance r of (x, y) (inclusive),
  // with their index in world.entities(): the same answer as World::query_visible.
  void query(float x, float y, float r, std::vector<World::VisibleRef>& out) const;

 private:
  struct Item {
    float x, y;
    EntityId id;
    std::uint32_t index;
  };
  GridGeometry geo_;
  std::vector<std::uint32_t> cell_start_;  // items of cell c: [cell_start_[c], cell_start_[c + 1])
  std::vector<std::uint32_t> cell_of_;     // scratch: each entity's cell during rebuild
  std::vector<Item> items_;
};

}  // namespace skirmish::game
