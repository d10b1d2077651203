#include "server/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace skirmish::server {

void setup_logging(const std::string& level) {
  // _mt: every event loop (server.io_threads) logs from its own thread.
  auto logger = spdlog::stderr_logger_mt("skirmishd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");  // ISO 8601 with the offset
  logger->set_level(spdlog::level::from_str(level));
  // Warnings and the start-up line must reach a supervisor (or a test) at once.
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace skirmish::server
