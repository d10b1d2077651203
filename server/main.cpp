// skirmishd: loads the configuration, starts the event loop, runs until SIGINT/SIGTERM.
#include <uv.h>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "server/agones_sdk.h"
#include "server/file_limit.h"
#include "server/game_service.h"
#include "server/logging.h"
#include "server/server.h"

using namespace skirmish;

// The process's environment (POSIX), for naming misspelt SKIRMISH_* variables.
extern char** environ;

namespace {

// Raises the open-file limit; returns the connections it leaves room for (SIZE_MAX: all the
// configuration asks), and says once what a hard limit below that means.
std::size_t connections_the_file_limit_allows(const skirmish::config::Config& cfg) {
  const server::FileLimit limit = server::raise_file_limit();
  const std::uint64_t wanted = static_cast<std::uint64_t>(cfg.server.max_connections) + server::kOwnDescriptors;
  if (limit.now == 0) return SIZE_MAX;
  if (limit.now < wanted) {
    const std::uint64_t room = limit.now > 2 * server::kOwnDescriptors ? limit.now - server::kOwnDescriptors
                                                                       : limit.now / 2;
    spdlog::warn("the open-file limit is {}, below server.max_connections ({}) and the daemon's own {}: past {} "
                 "connections the rest get 503, so that saving the players and reporting health still have "
                 "descriptors. Raise the hard limit (ulimit -Hn, LimitNOFILE= for systemd, --ulimit nofile=N:N "
                 "for docker run) or lower server.max_connections",
                 limit.now, cfg.server.max_connections, server::kOwnDescriptors, room);
    return static_cast<std::size_t>(room);
  }
  if (limit.now != limit.before) spdlog::debug("open-file limit raised from {} to {}", limit.before, limit.now);
  return SIZE_MAX;
}

}  // namespace

int main(int argc, char** argv) {
  config::LoadResult loaded;
  try {
    loaded = config::load_config(std::vector<std::string>(argv + 1, argv + argc),
                                 [](const char* name) { return std::getenv(name); });
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "skirmishd: configuration error: %s\n", e.what());
    return 2;
  }
  std::vector<std::string> environment_names;
  for (char** e = environ; *e; ++e) environment_names.emplace_back(*e, std::strcspn(*e, "="));
  const auto misspelt = config::misspelt_environment(environment_names);
  if (loaded.exit_now) {
    // --print-config is how an operator checks a configuration: it says what was ignored too.
    for (const auto& line : misspelt) std::fprintf(stderr, "skirmishd: warning: %s\n", line.c_str());
    std::fputs(loaded.output.c_str(), loaded.exit_code == 0 ? stdout : stderr);
    return loaded.exit_code;
  }
  const config::Config& cfg = loaded.config;
  // A peer that resets its connection must cost us an EPIPE from write(), not the process.
  std::signal(SIGPIPE, SIG_IGN);
  server::setup_logging(cfg.server.log_level);
  for (const auto& line : misspelt) spdlog::warn("{}", line);
  const std::size_t descriptor_cap = connections_the_file_limit_allows(cfg);

  // Agones sets AGONES_SDK_HTTP_PORT in a game server's container; fleet.agones decides.
  const char* agones_env = std::getenv("AGONES_SDK_HTTP_PORT");
  const bool agones_on = cfg.fleet.agones == "on" || (cfg.fleet.agones == "auto" && agones_env && *agones_env);
  int agones_port = 9358;  // the SDK server's documented default
  if (agones_env && *agones_env) {
    const int p = std::atoi(agones_env);
    if (p > 0 && p < 65536) {
      agones_port = p;
    } else {
      spdlog::warn("AGONES_SDK_HTTP_PORT = '{}' is not a port; using {}", agones_env, agones_port);
    }
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    server::Server srv(&loop, cfg);
    server::GameService game(&loop, srv, cfg);
    std::optional<server::AgonesSdk> agones;
    srv.set_application(&game);
    srv.set_descriptor_cap(descriptor_cap);
    // Shutdown goes to Agones last: the players are saved, the connections closed.
    srv.set_on_stopped([&game, &agones, &exit_code] {
      {
        std::lock_guard<std::recursive_mutex> lock(game.mutex());
        if (!game.stop()) exit_code = 1;  // the players are lost: a supervisor should hear of it
      }
      if (agones) agones->shutdown();
    });
    if (!srv.listen()) {
      exit_code = 1;
      srv.begin_shutdown();
    } else {
      spdlog::info("skirmishd {} listening on {}:{} ({} world(s) of {}x{}, each up to {} players and {} monsters; "
                   "tick rate {} Hz; {} event loop(s); state file {}; config {}; demo from {})",
                   SKIRMISH_VERSION, cfg.server.host, srv.port(), cfg.session.worlds, cfg.game.world_width,
                   cfg.game.world_height, cfg.game.max_players, cfg.game.monster_count, cfg.game.tick_rate,
                   srv.event_loops(), cfg.session.state_file.empty() ? "none" : cfg.session.state_file,
                   loaded.config_file.empty() ? "built-in defaults" : loaded.config_file,
                   cfg.server.web_root.empty() ? "the binary" : cfg.server.web_root);
      {
        std::lock_guard<std::recursive_mutex> lock(game.mutex());
        game.start();
      }
      if (agones_on) {
        agones.emplace(
            &loop, agones_port,
            [&game] {
              std::lock_guard<std::recursive_mutex> lock(game.mutex());
              return game.players();
            },
            [&game](const std::string& world) {
              std::lock_guard<std::recursive_mutex> lock(game.mutex());
              game.prefer_world(world);
            });
        srv.add_metrics_source([&agones](server::MetricsText& m) { agones->write_metrics(m); });
        agones->start();
      }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    // The other loops may still run tasks that reach the game: they end before it does.
    srv.join_loops();
    const auto& st = srv.stats();
    spdlog::info("stopped: {} connections, {} websockets, {} http requests, {} frames in, {} frames out, "
                 "{} bytes in, {} bytes out",
                 st.connections_total, st.websockets_opened, st.http_requests, st.frames_in, st.frames_out,
                 st.bytes_in, st.bytes_out);
  }
  if (uv_loop_close(&loop) != 0) {
    spdlog::warn("event loop closed with handles still open");
    exit_code = exit_code ? exit_code : 1;
  }
  return exit_code;
}
