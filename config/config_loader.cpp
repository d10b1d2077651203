#include "config/config_loader.h"


#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "config/options.h"

#ifndef SKIRMISH_VERSION
#define SKIRMISH_VERSION "0.0.0"
#endif

namespace skirmish::config {

using nlohmann::json;

namespace {

std::string format_number(double v) {
  // Whole numbers as integers: "9007199254740991", not "9.00719925474099e+15".
  if (std::floor(v) == v && std::fabs(v) < 9e18) return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s.precision(15);
  s << v;
  return s.str();
}

std::string describe_allowed(const Option& o) {
  switch (o.kind) {
    case ValueKind::Int: return "must be an integer from " + format_number(o.min) + " to " + format_number(o.max);
    case ValueKind::Float: return "must be a number from " + format_number(o.min) + " to " + format_number(o.max);
    case ValueKind::String: return "must be a string";
    case ValueKind::StringList: return "must be a list of strings";
    case ValueKind::Choice: {
      std::string s = "must be one of:";
      for (const auto& c : o.choices) s += " " + c;
      return s;
    }
    case ValueKind::Json: return "has the wrong shape";
  }
  return "is not allowed";
}

[[noreturn]] void bad_value(const Option& o, const std::string& shown, const std::string& origin,
                            const std::string& why) {
  throw ConfigError(o.key + " = " + shown + " (from " + origin + "): " + why);
}

// Checks a JSON value against the option's kind and range; throws naming key and origin.
void check_value(const Option& o, const json& v, const std::string& origin) {
  const std::string shown = (o.shown ? o.shown(v) : v).dump();
  bool ok = false;
  switch (o.kind) {
    case ValueKind::Int:
      ok = v.is_number_integer() && v.get<double>() >= o.min && v.get<double>() <= o.max;
      break;
    case ValueKind::Float:
      ok = v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= o.min && v.get<double>() <= o.max;
      break;
    case ValueKind::String: ok = v.is_string(); break;
    case ValueKind::Choice:
      ok = v.is_string() && std::find(o.choices.begin(), o.choices.end(), v.get<std::string>()) != o.choices.end();
      break;
    case ValueKind::StringList:
      ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
      break;
    case ValueKind::Json: ok = true; break;
  }
  if (!ok) bad_value(o, shown, origin, describe_allowed(o));
  if (o.check) {
    if (std::string why = o.check(v); !why.empty()) bad_value(o, shown, origin, why);
  }
}

// Environment variables and flags arrive as text; turn it into the JSON the file would hold.
json parse_text(const Option& o, const std::string& text, const std::string& origin) {
  switch (o.kind) {
    case ValueKind::Int: {
      long long n = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, n);
      if (ec != std::errc() || ptr != end || text.empty()) bad_value(o, "\"" + text + "\"", origin, describe_allowed(o));
      return json(n);
    }
    case ValueKind::Float: {
      // A plain decimal, as for whole numbers: no spaces, hex or sign but '-'.
      double d = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, d);
      // Checked here too: "inf" and "nan" would show up as null in check_value's message.
      if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(d)) {
        bad_value(o, "\"" + text + "\"", origin, describe_allowed(o));
      }
      return json(d);
    }
    case ValueKind::String:
    case ValueKind::Choice: return json(text);
    case ValueKind::StringList: {
      json list = json::array();
      std::string item;
      std::istringstream in(text);
      while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        list.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
      }
      return list;
    }
    case ValueKind::Json: {
      json v = json::parse(text, nullptr, false);
      if (v.is_discarded()) bad_value(o, "\"" + text + "\"", origin, "is not valid JSON");
      return v;
    }
  }
  return json();
}

const Option* find_option(const std::string& key) {
  for (const auto& o : options()) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

bool is_section(const std::string& prefix) {
  for (const auto& o : options()) {
    if (o.key.rfind(prefix + ".", 0) == 0) return true;
  }
  return false;
}

// Where each key's value came from ("config file F", "environment E", "command line --f"), for
// the rules that tie two keys together; a key not in it has its built-in default.
using Origins = std::map<std::string, std::string>;

void apply_json_at(Config& config, const json& doc, const std::string& prefix, const std::string& origin,
                   Origins* origins) {
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.key().find('.') != std::string::npos && find_option(key)) {
      // One spelling of each key: a flat "game.tick_rate" beside a nested one would win
      // silently over it.
      throw ConfigError("configuration key '" + it.key() + "' (in " + origin + "): write it nested, as {\"" +
                        it.key().substr(0, it.key().find('.')) + "\": {\"" + it.key().substr(it.key().find('.') + 1) +
                        "\": ...}}");
    }
    if (const Option* o = find_option(key)) {
      check_value(*o, it.value(), origin);
      o->set(config, it.value());
      if (origins) (*origins)[key] = origin;
    } else if (is_section(key)) {
      if (!it.value().is_object()) {
        throw ConfigError("configuration section '" + key + "' (in " + origin + ") must be an object of settings, got " +
                          it.value().dump());
      }
      apply_json_at(config, it.value(), key, origin, origins);
    } else {
      throw ConfigError("unknown configuration key '" + key + "' (in " + origin + ")");
    }
  }
}

// A config file is a few KB; anything far larger is a mistake (a log, a dump) to refuse
// before reading it whole.
constexpr std::uintmax_t kMaxConfigFileBytes = 1 << 20;

json read_json_file(const std::string& path) {
  std::string text;
  if (const std::string why = read_small_file(path, kMaxConfigFileBytes, text); !why.empty()) {
    throw ConfigError("cannot read config file '" + path + "': " + why);
  }
  // JSON allows a key twice and nlohmann keeps the last; in a config file the first one is
  // then silently ignored, which is never what its author meant.
  // Each open object or array, with the path to it ("game", "game.monster_kinds[1]") and an
  // object's keys so far, to name a duplicate fully.
  struct Open {
    bool array = false;
    std::string path;
    std::set<std::string> keys;
    std::size_t items = 0;  // an array's elements begun
  };
  std::vector<Open> open;
  std::string last_key, duplicate;
  // Where a value that starts now sits: under the last key of the object around it, or the
  // next element of the array around it.
  const auto here = [&]() -> std::string {
    if (open.empty()) return "";
    Open& around = open.back();
    if (around.array) return around.path + "[" + std::to_string(around.items++) + "]";
    return around.path.empty() ? last_key : around.path + "." + last_key;
  };
  const json::parser_callback_t track_keys = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open.push_back({false, here(), {}, 0}); break;
      case json::parse_event_t::array_start: open.push_back({true, here(), {}, 0}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        last_key = parsed.get<std::string>();
        if (!open.empty() && !open.back().keys.insert(last_key).second && duplicate.empty()) {
          duplicate = open.back().path.empty() ? last_key : open.back().path + "." + last_key;
        }
        break;
      case json::parse_event_t::value:
        if (!open.empty() && open.back().array) open.back().items++;  // a scalar element
        break;
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text, track_keys, true, true);
  } catch (const json::exception& e) {
    // nlohmann's message says where ("parse error at line 3, column 17: ..."), after a tag.
    std::string why = e.what();
    if (const auto tag = why.find("] "); why.rfind("[json.exception", 0) == 0 && tag != std::string::npos) {
      why.erase(0, tag + 2);
    }
    throw ConfigError("config file '" + path + "' is not valid JSON: " + why);
  }
  if (!doc.is_object()) throw ConfigError("config file '" + path + "' is not a JSON object");
  if (!duplicate.empty()) {
    throw ConfigError("config file '" + path + "' sets '" + duplicate + "' more than once");
  }
  return doc;
}

// The state file is read at start and replaced at every stop: a path that cannot be one
// (a directory, a missing folder, a folder we may not write) is named now, not found out
// by a crash after "listening" or a save that fails at the end.
void check_state_file(const std::string& path, const std::string& from) {
  if (path.empty()) return;
  const std::string what = "game.state_file = \"" + path + "\"" + from + ": ";
  const std::string hint = " (set it to \"\" to keep no state)";
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    throw ConfigError(what + (std::filesystem::is_directory(status) ? "is a directory" : "is not a regular file") + hint);
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec)) throw ConfigError(what + "its folder " + dir.string() + " does not exist" + hint);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw ConfigError(what + "cannot write in its folder " + dir.string() + ": " + std::strerror(errno) + hint);
  }
}

// Rules that tie two options together, checked once everything is loaded.
void check_consistency(const Config& c, const Origins& origins) {
  // " (from ...)", or " (the default)", as a value error says where its value came from.
  const auto from = [&origins](const std::string& key) {
    const auto it = origins.find(key);
    return it == origins.end() ? std::string(" (the default)") : " (from " + it->second + ")";
  };
  if (c.game.monster_count > 0 && c.game.monster_kinds.empty()) {
    throw ConfigError("game.monster_kinds" + from("game.monster_kinds") + " must not be empty when game.monsters" +
                      from("game.monsters") + " > 0");
  }
  if (auto why = game::validate_config(c.game)) throw ConfigError("game: " + *why);
  check_state_file(c.session.state_file, from("game.state_file"));
  if (!c.server.web_root.empty() && !std::filesystem::is_directory(c.server.web_root)) {
    throw ConfigError("server.web_root = \"" + c.server.web_root + "\"" + from("server.web_root") +
                      ": no such folder (empty: the files built in)");
  }
  if (c.polling.longpoll_timeout_ms > c.polling.max_longpoll_ms) {
    throw ConfigError("polling.longpoll_timeout_ms = " + std::to_string(c.polling.longpoll_timeout_ms) +
                      from("polling.longpoll_timeout_ms") + " must not be above polling.max_longpoll_ms = " +
                      std::to_string(c.polling.max_longpoll_ms) + from("polling.max_longpoll_ms"));
  }
  if (c.flow.hard_limit_bytes < c.flow.soft_limit_bytes) {
    throw ConfigError("websocket.hard_limit_bytes = " + std::to_string(c.flow.hard_limit_bytes) +
                      from("websocket.hard_limit_bytes") + " must not be below websocket.soft_limit_bytes = " +
                      std::to_string(c.flow.soft_limit_bytes) + from("websocket.soft_limit_bytes"));
  }
}

}  // namespace

std::string read_small_file(const std::string& path, std::uintmax_t max_bytes, std::string& out) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return ec.message();
  if (std::filesystem::is_directory(status)) return "it is a directory";
  if (!std::filesystem::is_regular_file(status)) return "it is not a regular file";
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return ec.message();
  if (size > max_bytes) return "it is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::strerror(errno);
  out.resize(static_cast<std::size_t>(size));
  const std::size_t got = std::fread(out.data(), 1, out.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return "read failed";
  out.resize(got);
  return "";
}

void apply_json(Config& config, const json& doc, const std::string& origin) {
  if (!doc.is_object()) throw ConfigError(origin + " must be a JSON object");
  apply_json_at(config, doc, "", origin, nullptr);
}

json to_json(const Config& config) {
  json out = json::object();
  for (const auto& o : options()) {
    const auto dot = o.key.find('.');
    const json value = o.get(config);
    out[o.key.substr(0, dot)][o.key.substr(dot + 1)] = o.shown ? o.shown(value) : value;
  }
  return out;
}

std::vector<OptionInfo> describe_options() {
  const Config defaults;
  std::vector<OptionInfo> out;
  for (const auto& o : options()) {
    out.push_back({o.key, o.env, o.flag, o.get(defaults).dump(), o.help});
  }
  return out;
}

namespace {

// Levenshtein distance, stopping early once it is sure to exceed `limit` (names are short).
std::size_t edit_distance(const std::string& a, const std::string& b, std::size_t limit) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0], best = row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
      best = std::min(best, row[j]);
    }
    if (best > limit) return limit + 1;
  }
  return row[b.size()];
}

std::string upper_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

std::vector<std::string> misspelt_environment(const std::vector<std::string>& names) {
  std::vector<std::string> settings{"SKIRMISH_CONFIG"};
  // What a file-only key's variable would be called, were there one.
  std::vector<std::pair<std::string, std::string>> file_only;
  for (const auto& o : options()) {
    if (!o.env.empty()) {
      settings.push_back(o.env);
    } else {
      file_only.emplace_back(upper_case("SKIRMISH_" + o.key.substr(o.key.rfind('.') + 1)), o.key);
    }
  }
  // One name is the other and more words: SKIRMISH_REDIS for SKIRMISH_REDIS_URL.
  const auto words_of = [](const std::string& longer, const std::string& shorter) {
    return longer.size() > shorter.size() && longer.compare(0, shorter.size(), shorter) == 0 &&
           longer[shorter.size()] == '_';
  };
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (name.rfind("SKIRMISH_", 0) != 0) continue;
    if (std::find(settings.begin(), settings.end(), name) != settings.end()) continue;
    const std::string upper = upper_case(name);
    if (const auto f = std::find_if(file_only.begin(), file_only.end(), [&](const auto& g) { return g.first == upper; });
        f != file_only.end()) {
      out.push_back(name + " is not a setting (" + f->second + " is set in the config file only); ignored");
      continue;
    }
    const std::string* nearest = nullptr;
    std::size_t nearest_distance = 3;
    for (const auto& s : settings) {
      const std::size_t d = s == upper || words_of(s, upper) || words_of(upper, s) ? 0 : edit_distance(upper, s, 2);
      if (d < nearest_distance) nearest = &s, nearest_distance = d;
    }
    if (nearest) out.push_back(name + " is not a setting (did you mean " + *nearest + "?); ignored");
  }
  return out;
}

// What --help shows after a flag: the kind of value it takes (a choice's values).
std::string value_shape(const Option& o) {
  switch (o.kind) {
    case ValueKind::Int: return "INT";
    case ValueKind::Float: return "NUMBER";
    case ValueKind::Choice: {
      std::string s = "{";
      for (const auto& c : o.choices) s += (s.size() > 1 ? "|" : "") + c;
      return s + "}";
    }
    case ValueKind::StringList: return "LIST";
    case ValueKind::Json: return "JSON";
    case ValueKind::String: break;
  }
  return "TEXT";
}

LoadResult load_config(const std::vector<std::string>& args, const EnvLookup& env) {
  LoadResult result;
  CLI::App app{"skirmishd: a realtime WebSocket game server (a monster fight for browsers)", "skirmishd"};
  std::string config_path;
  bool print_config = false;
  bool version = false;
  bool options_table = false;
  app.add_option("-c,--config", config_path, "JSON config file (see config/skirmish.json); env SKIRMISH_CONFIG");
  app.add_flag("--print-config", print_config, "print the effective configuration as JSON and exit");
  app.add_flag("-V,--version", version, "print the version and exit");
  app.add_flag("--print-options-table", options_table, "print every option as a Markdown table (for the README)");
  std::vector<std::string> flag_values(options().size());
  for (std::size_t i = 0; i < options().size(); ++i) {
    const Option& o = options()[i];
    if (o.flag.empty()) continue;
    std::string help = o.help + " [" + o.key + ", env " + o.env + ", default " + o.get(Config{}).dump() + "]";
    app.add_option(o.flag, flag_values[i], help)->type_name(value_shape(o));
  }
  app.footer("Precedence: built-in defaults < --config file < SKIRMISH_* environment < command line.");

  // A flag given without its value would take the next argument as one, even another flag
  // ("--state-file --port 9000": the state saved to a file named "--port"): refused, naming both.
  auto names_option = [&](const std::string& arg) {
    return arg.rfind("-", 0) == 0 && app.get_option_no_throw(arg.substr(0, arg.find('='))) != nullptr;
  };
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--" || a.find('=') != std::string::npos || !names_option(a)) continue;
    if (app.get_option(a)->get_expected_min() < 1 || !names_option(args[i + 1])) continue;
    result.exit_now = true;
    result.exit_code = 2;
    result.output = "skirmishd: configuration error: command line: " + a + " needs a value, but is followed by " +
                    args[i + 1].substr(0, args[i + 1].find('=')) + " (skirmishd --help lists the options)\n";
    return result;
  }
  std::vector<const char*> argv;
  argv.push_back("skirmishd");
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    result.exit_now = true;
    if (e.get_exit_code() != static_cast<int>(CLI::ExitCodes::Success)) {
      // A malformed command line is a configuration error like any other: the same words, the
      // same exit status (2).
      result.exit_code = 2;
      result.output = std::string("skirmishd: configuration error: command line: ") + e.what() +
                      " (skirmishd --help lists the options)\n";
      return result;
    }
    std::ostringstream out, err;
    result.exit_code = app.exit(e, out, err);
    result.output = out.str() + err.str();
    return result;
  }
  if (options_table) {
    result.exit_now = true;
    result.output = "| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n";
    for (const auto& o : describe_options()) {
      auto cell = [](const std::string& v) { return v.empty() ? std::string("(file only)") : "`" + v + "`"; };
      result.output += "| `" + o.key + "` | " + cell(o.env) + " | " + cell(o.flag) + " | `" + o.default_value +
                       "` | " + o.help + " |\n";
    }
    return result;
  }
  if (version) {
    result.exit_now = true;
    result.output = std::string("skirmishd ") + SKIRMISH_VERSION + "\n";
    return result;
  }

  Config& config = result.config;
  if (config_path.empty()) {
    if (const char* p = env("SKIRMISH_CONFIG")) config_path = p;
  }
  Origins origins;
  if (!config_path.empty()) {
    const json doc = read_json_file(config_path);
    apply_json_at(config, doc, "", "config file " + config_path, &origins);
  }
  result.config_file = config_path;

  for (const auto& o : options()) {
    if (o.env.empty()) continue;
    // The command line wins: an environment value it overrides is not read, bad or not.
    if (!o.flag.empty() && app.get_option(o.flag)->count() > 0) continue;
    if (const char* value = env(o.env.c_str())) {
      const std::string origin = "environment " + o.env;
      const json v = parse_text(o, value, origin);
      check_value(o, v, origin);
      o.set(config, v);
      origins[o.key] = origin;
    }
  }
  for (std::size_t i = 0; i < options().size(); ++i) {
    const Option& o = options()[i];
    if (o.flag.empty() || app.get_option(o.flag)->count() == 0) continue;
    const std::string origin = "command line " + o.flag;
    const json v = parse_text(o, flag_values[i], origin);
    check_value(o, v, origin);
    o.set(config, v);
    origins[o.key] = origin;
  }
  check_consistency(config, origins);

  if (print_config) {
    result.exit_now = true;
    result.output = to_json(config).dump(2) + "\n";
  }
  return result;
}

}  // namespace skirmish::config
