#include "game/spatial_grid.h"

#include <algorithm>

namespace skirmish::game {

SpatialGrid::SpatialGrid(float width, float height, float cell_size)
    : geo_(width, height, cell_size), cells_(geo_.cell_count()) {}

void SpatialGrid::erase(uint32_t cell, uint32_t item) {
  std::vector<uint32_t>& list = cells_[cell];
  auto it = std::find(list.begin(), list.end(), item);
  if (it == list.end()) return;
  *it = list.back();
  list.pop_back();
}

void SpatialGrid::replace(uint32_t cell, uint32_t old_item, uint32_t new_item) {
  std::vector<uint32_t>& list = cells_[cell];
  auto it = std::find(list.begin(), list.end(), old_item);
  if (it != list.end()) *it = new_item;
}

}  // namespace skirmish::game
