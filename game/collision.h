#pragma once

#include <cstdint>
#include <vector>

#include "game/game_config.h"
#include "game/grid_geometry.h"

namespace skirmish::game {

// Entities are points. An obstacle's edges count as outside.
inline bool inside_obstacle(const Obstacle& o, float x, float y) {
  return x > o.x && x < o.x + o.w && y > o.y && y < o.y + o.h;
}

// Clamps a coordinate into [0, limit]; NaN goes to 0 so it cannot poison a position.
inline float clamp_coord(float v, float limit) { return v > 0 ? (v < limit ? v : limit) : 0; }

// The world's bounds and obstacles, with each obstacle listed in every grid cell its
// rectangle touches, so a move checks only the one or two cells it crosses instead of
// every obstacle (10,000 movers x 100 walls would otherwise dominate the tick).
class ObstacleMap {
 public:
  ObstacleMap() = default;
  ObstacleMap(std::vector<Obstacle> obstacles, float width, float height, float cell_size);

  const std::vector<Obstacle>& obstacles() const { return obstacles_; }

  // True if (x, y) lies inside an obstacle.
  bool blocked(float x, float y) const;

  // Moves the point (x, y) by (dx, dy) one axis at a time, clamped to the world,
  // stopping flush at the first obstacle edge it would cross. Moving the axes separately
  // lets an entity slide along a wall instead of sticking to it, and checking the
  // crossed segment (not only the end point) stops fast movers at thin walls. A point
  // already inside an obstacle (placed there by a scenario) may move out freely.
  void move(float& x, float& y, float dx, float dy) const;

 private:
  float move_x(float x, float y, float dx) const;
  float move_y(float x, float y, float dy) const;

  std::vector<Obstacle> obstacles_;
  float width_ = 0, height_ = 0;
  GridGeometry geo_;
  // Cell c lists obstacles items_[start_[c] .. start_[c + 1]) (compressed rows).
  std::vector<uint32_t> start_ = std::vector<uint32_t>(2, 0);
  std::vector<uint32_t> items_;
};

}  // namespace skirmish::game
