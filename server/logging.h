// spdlog set-up for the daemon: one stderr logger, level from config.
#pragma once

#include <string>

namespace skirmish::server {

// Configures the default logger. `level` is one of spdlog's names (checked by config/).
void setup_logging(const std::string& level);

}  // namespace skirmish::server
