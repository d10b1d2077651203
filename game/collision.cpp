#include "game/collision.h"

#include <utility>

namespace skirmish::game {

ObstacleMap::ObstacleMap(std::vector<Obstacle> obstacles, float width, float height, float cell_size)
    : obstacles_(std::move(obstacles)), width_(width), height_(height), geo_(width, height, cell_size) {
  // Two passes (count, then fill) build the compressed rows without per-cell vectors.
  start_.assign(geo_.cell_count() + 1, 0);
  auto for_each_cell = [&](const Obstacle& o, auto&& fn) {
    for (int row = geo_.row_of(o.y); row <= geo_.row_of(o.y + o.h); ++row)
      for (int col = geo_.col_of(o.x); col <= geo_.col_of(o.x + o.w); ++col)
        fn(static_cast<size_t>(row) * static_cast<size_t>(geo_.cols) + static_cast<size_t>(col));
  };
  for (const Obstacle& o : obstacles_) for_each_cell(o, [&](size_t c) { ++start_[c + 1]; });
  for (size_t c = 1; c < start_.size(); ++c) start_[c] += start_[c - 1];
  items_.resize(start_.back());
  std::vector<uint32_t> fill(start_.begin(), start_.end() - 1);
  for (uint32_t i = 0; i < obstacles_.size(); ++i)
    for_each_cell(obstacles_[i], [&](size_t c) { items_[fill[c]++] = i; });
}

bool ObstacleMap::blocked(float x, float y) const {
  const uint32_t c = geo_.cell_of(x, y);
  for (uint32_t k = start_[c]; k < start_[c + 1]; ++k)
    if (inside_obstacle(obstacles_[items_[k]], x, y)) return true;
  return false;
}

// Each axis move visits the cells its segment crosses: every obstacle whose edge lies on
// the segment and whose span holds the other coordinate is listed in one of them, since
// col_of / row_of are monotonic. An obstacle listed in two cells is checked twice, which
// is harmless: clamping to the same edge again changes nothing.
float ObstacleMap::move_x(float x, float y, float dx) const {
  float next = clamp_coord(x + dx, width_);
  const int row = geo_.row_of(y);
  const int c0 = geo_.col_of(dx > 0 ? x : next), c1 = geo_.col_of(dx > 0 ? next : x);
  for (int col = c0; col <= c1; ++col) {
    const size_t c = static_cast<size_t>(row) * static_cast<size_t>(geo_.cols) + static_cast<size_t>(col);
    for (uint32_t k = start_[c]; k < start_[c + 1]; ++k) {
      const Obstacle& o = obstacles_[items_[k]];
      if (!(y > o.y && y < o.y + o.h)) continue;  // not in this wall's lane
      if (next > x && x <= o.x && next > o.x) next = o.x;
      else if (next < x && x >= o.x + o.w && next < o.x + o.w) next = o.x + o.w;
    }
  }
  return next;
}

float ObstacleMap::move_y(float x, float y, float dy) const {
  float next = clamp_coord(y + dy, height_);
  const int col = geo_.col_of(x);
  const int r0 = geo_.row_of(dy > 0 ? y : next), r1 = geo_.row_of(dy > 0 ? next : y);
  for (int row = r0; row <= r1; ++row) {
    const size_t c = static_cast<size_t>(row) * static_cast<size_t>(geo_.cols) + static_cast<size_t>(col);
    for (uint32_t k = start_[c]; k < start_[c + 1]; ++k) {
      const Obstacle& o = obstacles_[items_[k]];
      if (!(x > o.x && x < o.x + o.w)) continue;
      if (next > y && y <= o.y && next > o.y) next = o.y;
      else if (next < y && y >= o.y + o.h && next < o.y + o.h) next = o.y + o.h;
    }
  }
  return next;
}

void ObstacleMap::move(float& x, float& y, float dx, float dy) const {
  if (dx != 0) x = move_x(x, y, dx);
  if (dy != 0) y = move_y(x, y, dy);
}

}  // namespace skirmish::game
