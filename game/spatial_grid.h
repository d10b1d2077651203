#pragma once

#include <cstdint>
#include <vector>

#include "game/grid_geometry.h"

namespace skirmish::game {

// A uniform grid over the world. Each cell lists the items (entity indices) whose
// position lies in it; the World keeps it up to date as entities move, so it is exact
// at every moment and queries visit only the cells overlapping the query square.
// Cells keep their capacity, so after warm-up moving entities allocate nothing.
class SpatialGrid {
 public:
  static constexpr int64_t kMaxCells = GridGeometry::kMaxCells;

  SpatialGrid() = default;
  // Covers [0, width] x [0, height]. The cell edge may grow beyond `cell_size` to keep
  // the number of cells at most kMaxCells (memory stays bounded for huge worlds).
  SpatialGrid(float width, float height, float cell_size);

  // Positions outside the world clamp to the border cells.
  uint32_t cell_of(float x, float y) const { return geo_.cell_of(x, y); }
  void insert(uint32_t cell, uint32_t item) { cells_[cell].push_back(item); }
  // Removes `item` from `cell`; the order inside a cell is not meaningful.
  void erase(uint32_t cell, uint32_t item);
  // Renames `old_item` to `new_item` in `cell` (the World's swap-and-pop removal).
  void replace(uint32_t cell, uint32_t old_item, uint32_t new_item);

  // Calls fn(item) for every item in the cells overlapping the square around (x, y) of
  // half-side r. Callers filter by exact distance; the visiting order is deterministic
  // but arbitrary, so callers that pick one item must break ties themselves.
  template <class Fn>
  void for_each_near(float x, float y, float r, Fn&& fn) const {
    if (!(r >= 0)) return;  // also rejects NaN
    const int c0 = geo_.col_of(x - r), c1 = geo_.col_of(x + r);
    const int r0 = geo_.row_of(y - r), r1 = geo_.row_of(y + r);
    for (int row = r0; row <= r1; ++row)
      for (int col = c0; col <= c1; ++col)
        for (uint32_t item : cells_[static_cast<size_t>(row * geo_.cols + col)]) fn(item);
  }

  int cols() const { return geo_.cols; }
  int rows() const { return geo_.rows; }
  float cell_size() const { return geo_.cell_size; }

 private:
  GridGeometry geo_;
  std::vector<std::vector<uint32_t>> cells_ = std::vector<std::vector<uint32_t>>(1);
};

}  // namespace skirmish::game
