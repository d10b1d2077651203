// A file built into the binary (see cmake/embed_files.cmake).
#pragma once

#include <cstddef>
#include <string_view>

namespace skirmish {

struct EmbeddedFile {
  std::string_view path;  // "/index.html"
  std::string_view data;
};

// The demo under web/, built into skirmishd; the table ends with an entry whose path is empty.
extern const EmbeddedFile kWebFiles[];
extern const std::size_t kWebFiles_count;

}  // namespace skirmish
