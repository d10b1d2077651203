// The game over plain HTTP (docs/protocol.md, "Polling"): sessions instead of sockets, tick
// frames kept in a per-session backlog, delivered by short polls at once or by long polls
// the moment a tick exists. Waiting long polls are deferred HTTP responses on the event
// loop, woken by the tick: no threads, no busy waiting.
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "protocol/frame_encoder.h"
#include "protocol/game_messages.h"
#include "protocol/request_target.h"
#include "server/game_service.h"
#include "server/json_response.h"
#include "server/server.h"

namespace skirmish::server {

namespace {

protocol::HttpResponse error_response(const protocol::HttpRequest& request, int status, std::string_view code,
                                      std::string_view message) {
  auto r = json_response(request, status, protocol::encode_error(code, message));
  if (status == 405) r.headers.push_back({"Allow", "GET, POST, DELETE"});
  if (status == 503) r.headers.push_back({"Retry-After", "2"});
  return r;
}

// The body as a client message; a body without "type" gets the one the endpoint implies.
std::optional<std::string> message_from_body(const std::string& body, const char* implied_type) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (!j.contains("type")) j["type"] = implied_type;
  return j.dump();
}

// "[a,b,c]" from already-encoded JSON messages.
std::string json_array(const std::vector<std::string>& items) {
  std::size_t size = 2;
  for (const auto& i : items) size += i.size() + 1;
  std::string out;
  out.reserve(size);
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += ']';
  return out;
}

}  // namespace

std::string GameService::take_backlog(HttpSession& session) {
  std::string body = json_array(session.backlog);
  session.backlog.clear();
  return body;
}

void GameService::answer_waiting(HttpSession& session) {
  if (!session.waiting) return;
  protocol::HttpRequest waiting_request;
  waiting_request.keep_alive = session.waiting_keep_alive;
  server_.finish_deferred(session.waiting, json_response(waiting_request, 200, take_backlog(session)));
  session.waiting = 0;
  waiting_polls_--;
  session.last_seen_ms = server_.now_ms();
}

std::optional<protocol::HttpResponse> GameService::handle_session_request(const protocol::HttpRequest& request,
                                                                          ConnId conn) {
  const std::string path = protocol::normalize_path(request.target).value_or("");
  if (path == "/session") {
    if (request.method != "POST") return error_response(request, 405, "bad_method", "POST /session to join");
    return create_session(request);
  }
  // /session/{id}[/action]
  const std::string rest = path.substr(std::string("/session/").size());
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return error_response(request, 404, "no_session", "no such session (it may have expired)");
  HttpSession& session = it->second;
  const std::uint64_t now = server_.now_ms();
  session.last_seen_ms = now;

  if (action.empty()) {
    if (request.method != "DELETE") return error_response(request, 405, "bad_method", "DELETE /session/{id} to leave");
    answer_waiting(session);
    leave(session.client);
    sessions_.erase(it);
    return json_response(request, 204, "");
  }
  if (action == "input") {
    if (request.method != "POST") return error_response(request, 405, "bad_method", "POST a game message");
    const auto text = message_from_body(request.body, "input");
    if (!text) return error_response(request, 400, "bad_json", "the body must be a JSON object");
    const auto checked = protocol::decode_client_message(*text);
    if (const auto* bad = std::get_if<protocol::DecodeError>(&checked)) {
      return error_response(request, 400, bad->code, bad->message);
    }
    session.client.replies.clear();
    handle_message(session.client, *text);
    std::vector<std::string> replies;
    replies.swap(session.client.replies);
    if (replies.empty()) return json_response(request, 204, "");
    return json_response(request, 200, json_array(replies));
  }
  if (action == "poll" || action == "longpoll") {
    if (request.method != "GET") return error_response(request, 405, "bad_method", "GET to poll");
    if (action == "poll" || !session.backlog.empty()) {
      (action == "poll" ? stats_.polls : stats_.long_polls)++;
      return json_response(request, 200, take_backlog(session));
    }
    double wait_ms = config_.polling.longpoll_timeout_ms;
    if (const auto t = protocol::query_param(request.target, "timeout")) {
      char* end = nullptr;
      const double secs = std::strtod(t->c_str(), &end);
      if (end == t->c_str() || *end != '\0' || !(secs >= 0)) {
        return error_response(request, 400, "bad_field", "timeout must be a number of seconds");
      }
      wait_ms = secs * 1000;
    }
    // Capped as a double, before the conversion: ?timeout=1e300 must not overflow it.
    wait_ms = std::min(wait_ms, static_cast<double>(config_.polling.max_longpoll_ms));
    // A newer poll replaces an older one (a client that gave up on it): answer the old.
    answer_waiting(session);
    if (waiting_polls_ >= static_cast<std::size_t>(config_.polling.max_waiting)) {
      return error_response(request, 503, "busy", "too many long polls waiting: poll again shortly");
    }
    stats_.long_polls++;
    session.waiting = conn;
    session.waiting_keep_alive = request.keep_alive;
    session.wait_until_ms = now + static_cast<std::uint64_t>(wait_ms);
    waiting_polls_++;
    return std::nullopt;
  }
  return error_response(request, 404, "no_such_action", "use input, poll or longpoll");
}

protocol::HttpResponse GameService::create_session(const protocol::HttpRequest& request) {
  auto text = message_from_body(request.body, "join");
  if (!text) return error_response(request, 400, "bad_json", "the body must be a JSON object like {\"name\":\"alice\"}");
  {
    // A spectator cannot know the world's centre before it has the hello: default to it.
    nlohmann::json j = nlohmann::json::parse(*text);
    if (j["type"] == "watch") {
      if (!j.contains("x")) j["x"] = world_.config().world_width / 2;
      if (!j.contains("y")) j["y"] = world_.config().world_height / 2;
      text = j.dump();
    }
  }
  auto decoded = protocol::decode_client_message(*text);
  if (auto* err = std::get_if<protocol::DecodeError>(&decoded)) return error_response(request, 400, err->code, err->message);
  auto& msg = std::get<protocol::ClientMsg>(decoded);
  auto* join_msg = std::get_if<protocol::JoinMsg>(&msg);
  auto* watch_msg = std::get_if<protocol::WatchMsg>(&msg);
  if (!join_msg && !watch_msg) return error_response(request, 400, "bad_message", "POST /session takes a join or a watch message");

  std::string id = new_token();
  HttpSession& session = sessions_[id];
  session.client.backlog = &session.backlog;
  session.last_seen_ms = server_.now_ms();
  const auto& cfg = world_.config();
  session.client.view_x = watch_msg ? std::clamp(watch_msg->x, 0.0f, cfg.world_width) : cfg.world_width / 2;
  session.client.view_y = watch_msg ? std::clamp(watch_msg->y, 0.0f, cfg.world_height) : cfg.world_height / 2;
  std::string answer;
  if (join_msg) {
    join(session.client, std::move(join_msg->name), join_msg->token);
    answer = session.client.replies.empty() ? std::string() : session.client.replies.front();
    session.client.replies.clear();
    if (session.client.player == 0) {
      sessions_.erase(id);
      return json_response(request, 503, answer.empty() ? protocol::encode_error("server_full", "try later") : answer);
    }
  } else {
    answer = R"({"type":"watching"})";  // a spectator session; it can join later through /input
  }
  stats_.sessions_created++;
  // The answer, plus the session id and the hello a WebSocket client would have had.
  answer.pop_back();
  answer += ",\"session\":\"" + id + "\",\"hello\":" + hello_ + "}";
  return json_response(request, 200, answer);
}

void GameService::deliver_backlogs() {
  const auto cap = static_cast<std::size_t>(config_.polling.max_backlog_ticks);
  for (auto& [id, session] : sessions_) {
    build_view(session.client);
    if (session.backlog.size() >= cap) {
      // Nobody is fetching: replace the pile with one frame that lists the view in full.
      session.backlog.clear();
      session.client.resync = true;
      stats_.backlog_resyncs++;
      build_view(session.client);
    }
    session.backlog.emplace_back(payload_, protocol::kMaxFrameHeader);  // the JSON, without the headroom
    stats_.tick_frames_sent++;
    stats_.tick_bytes_sent += session.backlog.back().size();
    answer_waiting(session);
  }
}

void GameService::expire_sessions(std::uint64_t now_ms) {
  const auto idle_limit = static_cast<std::uint64_t>(std::max(config_.session.reconnect_window_ms, 5000));
  std::vector<std::string> expired;
  for (auto& [id, session] : sessions_) {
    if (session.waiting && now_ms >= session.wait_until_ms) answer_waiting(session);
    if (!session.waiting && now_ms - session.last_seen_ms > idle_limit) expired.push_back(id);
  }
  for (const auto& id : expired) {
    HttpSession& session = sessions_.at(id);
    // Like a WebSocket player whose reconnect window ran out: the player leaves the world.
    leave(session.client);
    sessions_.erase(id);
    stats_.sessions_expired++;
  }
}

void GameService::on_poll_gone(ConnId conn) {
  for (auto& [id, session] : sessions_) {
    if (session.waiting == conn) {
      session.waiting = 0;
      waiting_polls_--;
      session.last_seen_ms = server_.now_ms();
      return;
    }
  }
}

}  // namespace skirmish::server
