// The game's HTTP routes: /stats.json, /worlds and /place (where a new player goes, anywhere
// in the fleet), and the URLs they hand out. Kept apart from game_service.cpp, which places,
// joins and routes viewers, so each file has one job.
#include "server/game_service.h"

#include <spdlog/spdlog.h>

#include <string>

#include "config/endpoint_url.h"
#include "protocol/authority.h"
#include "protocol/game_messages.h"
#include "protocol/request_target.h"
#include "server/json_response.h"

namespace skirmish::server {

namespace {

// A Host header fit to build a URL from: a name or address and an optional port, nothing else
// (it is the client's own text, and it goes into JSON and into other clients' hands).
bool plausible_host(const std::string& host) { return host.size() <= 255 && protocol::is_plain_authority(host); }

// A read-only route's answer to any method but GET and HEAD.
std::optional<protocol::HttpResponse> refuse_unless_get(const protocol::HttpRequest& request) {
  if (request.method == "GET" || request.method == "HEAD") return std::nullopt;
  return method_not_allowed(request, "GET, HEAD", protocol::encode_error("method_not_allowed", "use GET"));
}

// "ws(s)://authority" of server.public_url, or nullopt when the operator set none.
std::optional<std::string> public_base(const std::string& public_url) {
  std::string why;
  const auto pub = config::parse_public_url(public_url, why);
  if (!pub) return std::nullopt;
  return (pub->secure ? "wss://" : "ws://") + pub->authority;
}

// The scheme and authority browsers use for this client's URLs: server.public_url when the
// operator set it (behind a shared front door the Host may name another process), else the
// Host it came with when that is plausible, else localhost and our port.
std::string base_for(const protocol::HttpRequest& request, const RequestOrigin& origin, int port,
                     const std::string& public_url) {
  if (auto base = public_base(public_url)) return *base;
  const std::string* host = request.header("host");
  const std::string authority = host && plausible_host(*host) ? *host : "localhost:" + std::to_string(port);
  return (origin.secure ? "wss://" : "ws://") + authority;
}

}  // namespace

void GameService::add_routes() {
  server_.add_route("/stats.json", [this](const protocol::HttpRequest& request, const RequestOrigin&) {
    if (auto refused = refuse_unless_get(request)) return *refused;
    if (protocol::query_param_malformed(request.target, "world")) {
      return json_response(request, 400, protocol::encode_error("bad_field", kWorldBadlyEncoded));
    }
    const auto name = protocol::query_param(request.target, "world");
    // An empty name is no pick, as at the handshake.
    const GameWorld* world = name && !name->empty() ? world_named(*name) : worlds_.front().get();
    if (!world) return json_response(request, 404, protocol::encode_error("no_such_world", "no world has that name: see /worlds"));
    nlohmann::json names = nlohmann::json::array();
    for (const auto& w : worlds_) names.push_back(w->name());
    auto body = nlohmann::json::parse(world->history().to_json());
    body["world"] = world->name();
    body["worlds"] = std::move(names);
    return json_response(request, 200, body.dump());
  });
  server_.add_route("/worlds", [this](const protocol::HttpRequest& request, const RequestOrigin& origin) {
    if (auto refused = refuse_unless_get(request)) return *refused;
    // Our worlds with absolute URLs as this client reached us (wss:// when a trusted proxy says
    // it came over TLS); the fleet's other worlds as their processes published them.
    const std::string base = base_for(request, origin, server_.port(), config_.server.public_url);
    const std::string process = fleet_ ? fleet_->id() : "";
    nlohmann::json list = nlohmann::json::array();
    for (const auto& w : worlds_) {
      const std::string path = "/ws?world=" + w->name();
      list.push_back({{"name", w->name()},
                      {"players", w->world().player_count()},
                      {"capacity", config_.game.max_players},
                      {"tick_rate", w->world().config().tick_rate},
                      {"viewers", w->tick().viewer_count()},
                      {"loop", w->tick().home()},
                      {"path", path},
                      {"url", base + path},
                      {"process", process},
                      {"local", true}});
    }
    if (fleet_) {
      for (const auto& w : fleet_->remote_worlds()) {
        list.push_back({{"name", w.name},
                        {"players", w.players},
                        {"capacity", w.capacity},
                        {"tick_rate", w.tick_rate},
                        {"path", "/ws?world=" + w.name},
                        {"url", w.url},
                        {"process", w.process},
                        {"local", false}});
      }
    }
    nlohmann::json fleet = {{"redis", !fleet_ ? "off" : fleet_->state()},
                            {"processes", fleet_ ? fleet_->processes() : 1}};
    return json_response(request, 200,
                         nlohmann::json{{"worlds", list}, {"placement", worlds_[placement()]->name()}, {"fleet", fleet}}.dump());
  });
  server_.add_route("/place", [this](const protocol::HttpRequest& request, const RequestOrigin& origin) {
    return place(request, origin);
  });
}

std::optional<protocol::HttpResponse> GameService::place(const protocol::HttpRequest& request,
                                                         const RequestOrigin& origin) {
  // POST only: each answer holds a seat for a while, which a prefetching GET must not do.
  if (request.method != "POST") {
    return method_not_allowed(request, "POST", protocol::encode_error("method_not_allowed", "use POST /place"));
  }
  if (!fleet_ || !fleet_->up()) return place_locally(request, origin);
  // Every world of the fleet, in the order a new player should try them: place_player's choice
  // first, then its choice among the rest, and so on.
  std::vector<FleetWorld> all = own_worlds();
  for (auto& w : all) w.players += fleet_->reserved(w.name);
  for (const auto& w : fleet_->remote_worlds()) all.push_back(w);
  std::vector<WorldLoad> loads;
  for (const auto& w : all) loads.push_back({w.players, w.capacity});
  std::vector<FleetWorld> order;
  while (auto next = place_player(loads, static_cast<std::size_t>(config_.session.lively_players))) {
    order.push_back(all[*next]);
    loads[*next].players = loads[*next].capacity;
  }
  const std::string base = base_for(request, origin, server_.port(), config_.server.public_url);
  fleet_->reserve(std::move(order), [this, request, origin_conn = origin.conn, secure = origin.secure, base](
                                        std::optional<std::pair<FleetWorld, std::string>> got, bool full) {
    protocol::HttpResponse answer;
    if (got) {
      const auto& [w, seat] = *got;
      // Our own worlds as this client reached us; others' as their processes publish them.
      const std::string url = (w.local ? base + "/ws?world=" + w.name : w.url) + "&seat=" + seat;
      answer = json_response(request, 200,
                             nlohmann::json{{"world", w.name}, {"url", url}, {"seat", seat}, {"process", w.process},
                                            {"local", w.local}, {"hold_ms", config_.fleet.seat_hold_ms}}
                                 .dump());
    } else if (full) {
      stats_.joins_refused++;
      answer = service_unavailable(
          request, protocol::encode_error("server_full", "every world of the fleet is full: try again later"),
          kFullRetryAfterS);
    } else {
      answer = place_locally(request, RequestOrigin{origin_conn, {}, secure});  // Redis failed on the way: this process still has room
    }
    server_.finish_deferred(origin_conn, std::move(answer));
  });
  return std::nullopt;
}

protocol::HttpResponse GameService::place_locally(const protocol::HttpRequest& request, const RequestOrigin& origin) {
  const auto at = local_choice();
  if (!at) {
    stats_.joins_refused++;
    return service_unavailable(request, protocol::encode_error("server_full", "every world is full: try again later"),
                               kFullRetryAfterS);
  }
  const GameWorld& w = *worlds_[*at];
  return json_response(request, 200,
                       nlohmann::json{{"world", w.name()},
                                      {"url", base_for(request, origin, server_.port(), config_.server.public_url) + "/ws?world=" + w.name()},
                                      {"process", fleet_ ? fleet_->id() : ""},
                                      {"local", true}}
                           .dump());
}

std::vector<FleetWorld> GameService::own_worlds() const {
  const std::string base =
      public_base(config_.server.public_url).value_or("ws://localhost:" + std::to_string(server_.port()));
  std::vector<FleetWorld> out;
  for (const auto& w : worlds_) {
    out.push_back({fleet_ ? fleet_->id() : "", w->name(), base + "/ws?world=" + w->name(),
                   w->world().player_count(), static_cast<std::size_t>(config_.game.max_players),
                   w->world().config().tick_rate, true});
  }
  return out;
}

}  // namespace skirmish::server
