#include "server/saved_players.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "config/config_loader.h"
#include "protocol/player_name.h"

namespace skirmish::server {

using nlohmann::json;

namespace {

std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of `bytes` to a new file and fsyncs it. Readable by the daemon's user only: it
// holds every player's token (whoever has one plays that player).
std::optional<std::string> write_file_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return os_error("cannot write " + path);
  // The mode only applies to a file created now: one left by a crash (or an older build) keeps
  // its own.
  ::fchmod(fd, 0600);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const auto error = os_error("cannot write " + path);
      ::close(fd);
      return error;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto error = os_error("cannot sync " + path);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return os_error("cannot write " + path);
  return std::nullopt;
}

void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file itself is already durable
  ::fsync(fd);
  ::close(fd);
}

bool whole_number(const json& v) {
  return v.is_number_integer() && v.get<std::int64_t>() >= 0 &&
         v.get<std::int64_t>() <= std::numeric_limits<int>::max();
}

bool finite(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

}  // namespace

std::optional<SavedPlayer> player_from_json(const json& p) {
  if (!p.is_object()) return std::nullopt;
  const auto token = p.find("token");
  const auto name = p.find("name");
  if (token == p.end() || !token->is_string() || token->get_ref<const std::string&>().empty() ||
      token->get_ref<const std::string&>().size() > 64) {
    return std::nullopt;
  }
  if (name == p.end() || !name->is_string()) return std::nullopt;
  for (const char* key : {"x", "y"}) {
    if (!p.contains(key) || !finite(p[key])) return std::nullopt;
  }
  for (const char* key : {"hp", "score"}) {
    if (!p.contains(key) || !whole_number(p[key])) return std::nullopt;
  }
  SavedPlayer out;
  out.token = token->get<std::string>();
  out.name = protocol::clean_player_name(name->get_ref<const std::string&>());
  if (out.name.empty()) return std::nullopt;
  if (p.contains("id") && p["id"].is_number_unsigned() && p["id"].get<std::uint64_t>() <= 0xffffffffULL) {
    out.id = p["id"].get<std::uint32_t>();
  }
  // A finite double past float's range is undefined as a float: clamped first (the world then
  // clamps it to its own edges, as it does any saved point).
  const auto coordinate = [&](const char* key) {
    const double v = p[key].get<double>();
    return static_cast<float>(std::clamp(v, -static_cast<double>(std::numeric_limits<float>::max()),
                                         static_cast<double>(std::numeric_limits<float>::max())));
  };
  out.x = coordinate("x");
  out.y = coordinate("y");
  out.hp = p["hp"].get<int>();
  out.score = p["score"].get<int>();
  if (const auto world = p.find("world"); world != p.end() && world->is_string() && world->get_ref<const std::string&>().size() <= 64) {
    out.world = world->get<std::string>();
  }
  return out;
}

json player_to_json(const SavedPlayer& p) {
  json record = {{"token", p.token}, {"id", p.id}, {"name", p.name}, {"x", p.x}, {"y", p.y},
                 {"hp", p.hp}, {"score", p.score}};
  if (!p.world.empty()) record["world"] = p.world;
  return record;
}

std::optional<std::string> save_state(const std::string& path, const SavedState& state) {
  json players = json::array();
  for (const auto& p : state.players) players.push_back(player_to_json(p));
  const json doc = {{"version", 1}, {"saved_at_ms", state.saved_at_ms}, {"players", players}};
  const std::string tmp = path + ".tmp";
  if (auto error = write_file_synced(tmp, doc.dump() + "\n")) {
    std::remove(tmp.c_str());
    return error;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return os_error("cannot rename " + tmp + " to " + path);
  sync_directory_of(path);
  return std::nullopt;
}

std::optional<std::string> move_aside(const std::string& path, const std::string& to) {
  if (std::rename(path.c_str(), to.c_str()) != 0) return os_error("cannot rename " + path + " to " + to);
  ::chmod(to.c_str(), 0600);  // the tokens in it, whoever wrote it
  sync_directory_of(to);
  return std::nullopt;
}

std::optional<SavedState> load_state(const std::string& path, std::uintmax_t max_bytes, std::string& error) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    error = "no file";
    return std::nullopt;
  }
  std::string text;
  if (std::string why = config::read_small_file(path, max_bytes, text); !why.empty()) {
    error = std::move(why);
    return std::nullopt;
  }
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("version", 0) != 1 || !doc.contains("players") ||
      !doc["players"].is_array()) {
    error = "not a saved-players file";
    return std::nullopt;
  }
  SavedState state;
  const json& saved_at = doc.contains("saved_at_ms") ? doc["saved_at_ms"] : json();
  if (!saved_at.is_number_integer()) {
    error = "saved_at_ms is missing or not an integer";
    return std::nullopt;
  }
  state.saved_at_ms = saved_at.get<std::int64_t>();
  for (const json& p : doc["players"]) {
    if (auto player = player_from_json(p)) {
      state.players.push_back(std::move(*player));
    } else {
      state.skipped++;
    }
  }
  return state;
}

}  // namespace skirmish::server
