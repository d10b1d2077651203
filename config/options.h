// The table of every configuration option: its key in the JSON file, its environment
// variable and command-line flag, what values it allows, and where it lives in Config.
// Loading, validation, --help, --print-config and the README table all come from here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace skirmish::config {

enum class ValueKind { Int, Float, String, Choice, StringList, Json };

struct Option {
  std::string key;   // "game.tick_rate"
  std::string env;   // "SKIRMISH_TICK_RATE", empty when the option is file-only
  std::string flag;  // "--tick-rate", empty when the option is file-only
  std::string help;
  ValueKind kind = ValueKind::Int;
  double min = 0, max = 0;           // Int and Float
  std::vector<std::string> choices;  // Choice
  // What a value of the right kind must also be (a Json option's shape, a URL's parts):
  // returns what is wrong, or "" when fine. Optional except for Json options.
  std::function<std::string(const nlohmann::json&)> check;
  // How a value is shown in errors and by --print-config, when not as it is (a URL's
  // password hidden). Optional.
  std::function<nlohmann::json(const nlohmann::json&)> shown;
  std::function<void(Config&, const nlohmann::json&)> set;  // value already checked
  std::function<nlohmann::json(const Config&)> get;
};

const std::vector<Option>& options();

}  // namespace skirmish::config
