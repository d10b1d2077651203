// Builds the Config from built-in defaults < JSON file < SKIRMISH_* environment < command line.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace skirmish::config {

// A bad value or key. The message names the key, the value, where it came from and what
// is allowed, e.g. "game.tick_rate = 500 (from command line --tick-rate): must be an integer from 1 to 128".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Looks up an environment variable; nullptr when unset. Injected so tests need no real env.
using EnvLookup = std::function<const char*(const char* name)>;

struct LoadResult {
  Config config;
  // Set when the command line asked for something other than running (--help, --version,
  // --print-config) or was malformed: print `output` and exit with `exit_code`.
  bool exit_now = false;
  int exit_code = 0;
  std::string output;
  std::string config_file;  // the file read (--config, SKIRMISH_CONFIG), "" for none
};

// Throws ConfigError for bad values, unknown keys or an unreadable file.
LoadResult load_config(const std::vector<std::string>& args, const EnvLookup& env);

// The SKIRMISH_* names among `names` (the process's environment variables) that are no setting
// but within two letters of one: "SKIRMISH_PROT is not a setting (did you mean SKIRMISH_PORT?)",
// one line each, for the daemon to warn about (a misspelt variable is otherwise ignored in silence).
// Names further from every setting (the scripts' own SKIRMISH_SKIP_FRESH, say) are left alone.
std::vector<std::string> misspelt_environment(const std::vector<std::string>& names);

// Reads a whole regular file of at most `max_bytes` into `out`. Returns why it could not
// ("it is a directory", "it is N bytes, over the limit of M", the OS's reason), or "".
std::string read_small_file(const std::string& path, std::uintmax_t max_bytes, std::string& out);

// Applies a JSON document shaped like config/skirmish.json on top of `config`.
// `origin` goes into error messages ("config file x.json").
void apply_json(Config& config, const nlohmann::json& doc, const std::string& origin);

// The configuration as a JSON document with every key (what --print-config shows).
nlohmann::json to_json(const Config& config);

// One line per option for documentation: key, env var, flag, default, meaning.
struct OptionInfo {
  std::string key, env, flag, default_value, help;
};
std::vector<OptionInfo> describe_options();

}  // namespace skirmish::config
