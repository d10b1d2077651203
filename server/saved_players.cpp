#include "server/saved_players.h"

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

namespace skirmish::server {

using nlohmann::json;

std::optional<std::string> save_state(const std::string& path, const SavedState& state) {
  json players = json::array();
  for (const auto& p : state.players) {
    players.push_back({{"token", p.token}, {"id", p.id}, {"name", p.name}, {"x", p.x}, {"y", p.y},
                       {"hp", p.hp}, {"score", p.score}});
  }
  const json doc = {{"version", 1}, {"saved_at_ms", state.saved_at_ms}, {"players", players}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return "cannot write " + tmp;
    out << doc.dump() << '\n';
    if (!out.flush()) return "cannot write " + tmp;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return "cannot rename " + tmp + " to " + path;
  return std::nullopt;
}

std::optional<SavedState> load_state(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "no file";
    return std::nullopt;
  }
  const json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("version", 0) != 1 || !doc.contains("players") ||
      !doc["players"].is_array()) {
    error = "not a saved-players file";
    return std::nullopt;
  }
  SavedState state;
  state.saved_at_ms = doc.value("saved_at_ms", std::int64_t{0});
  try {
    for (const json& p : doc["players"]) {
      state.players.push_back({p.at("token").get<std::string>(), p.at("id").get<std::uint32_t>(),
                               p.at("name").get<std::string>(), p.at("x").get<float>(), p.at("y").get<float>(),
                               p.at("hp").get<int>(), p.at("score").get<int>()});
    }
  } catch (const json::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  return state;
}

}  // namespace skirmish::server
