#pragma once

#include <cmath>
#include <cstdint>

namespace skirmish::game {

// The cell layout shared by the entity grid and the obstacle map: square cells covering
// [0, width] x [0, height], coordinates outside clamped to the border cells.
struct GridGeometry {
  // Memory bound: the cell edge doubles until there are at most this many cells.
  static constexpr int64_t kMaxCells = 1 << 18;

  float cell_size = 1;
  float inv_cell = 1;
  int cols = 1, rows = 1;

  GridGeometry() = default;
  GridGeometry(float width, float height, float cell) : cell_size(cell) {
    auto count = [](float extent, float edge) {
      const float n = std::ceil(extent / edge);
      return n < 1 ? int64_t{1} : static_cast<int64_t>(n);
    };
    while (count(width, cell_size) * count(height, cell_size) > kMaxCells) cell_size *= 2;
    cols = static_cast<int>(count(width, cell_size));
    rows = static_cast<int>(count(height, cell_size));
    inv_cell = 1.0f / cell_size;
  }

  // Monotonic in x (and y), which the obstacle map relies on.
  int col_of(float x) const { return clamp_index(x * inv_cell, cols); }
  int row_of(float y) const { return clamp_index(y * inv_cell, rows); }
  uint32_t cell_of(float x, float y) const { return static_cast<uint32_t>(row_of(y) * cols + col_of(x)); }
  size_t cell_count() const { return static_cast<size_t>(cols) * static_cast<size_t>(rows); }

 private:
  static int clamp_index(float v, int n) {
    const float c = std::floor(v);
    if (!(c >= 0)) return 0;  // negative or NaN
    if (c >= static_cast<float>(n - 1)) return n - 1;
    return static_cast<int>(c);
  }
};

}  // namespace skirmish::game
