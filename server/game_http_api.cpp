// The game over plain HTTP (docs/protocol.md, "Polling"): sessions instead of sockets, tick
// frames kept in a per-session backlog, delivered by short polls at once or by long polls
// the moment a tick exists. Waiting long polls are deferred HTTP responses on the event
// loop, woken by the tick: no threads, no busy waiting.
#include <spdlog/spdlog.h>

#include <malloc.h>

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
  std::string body;
  body.reserve(2 + session.backlog.size() + 64 * session.notices.size());
  body += '[';
  for (const auto& notice : session.notices) {
    if (body.size() > 1) body += ',';
    body += notice;
  }
  if (!session.backlog.empty()) {
    if (body.size() > 1) body += ',';
    body += session.backlog;
  }
  body += ']';
  // Released, not cleared: an idle session holds no buffer sized for its busiest moment.
  std::string().swap(session.backlog);
  std::vector<std::string>().swap(session.notices);
  session.backlog_ticks = 0;
  return body;
}

void GameService::answer_waiting(HttpSession& session, bool keep_alive) {
  if (!session.waiting) return;
  protocol::HttpRequest waiting_request;
  waiting_request.keep_alive = keep_alive && session.waiting_keep_alive;
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
    return create_session(request, conn);
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
    erase_session(it);
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
    const bool dormant = session.dormant;
    if (dormant) {
      // Its frames stopped while nobody asked: the next tick builds one full frame, and
      // this request waits for it (a short poll at most a second) like a long poll.
      session.dormant = false;
      session.client.resync = true;
    }
    const bool has_news = !session.backlog.empty() || !session.notices.empty();
    if ((action == "poll" && !dormant) || has_news) {
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
    if (action == "poll") wait_ms = 1000;
    // Capped as a double, before the conversion: ?timeout=1e300 must not overflow it.
    wait_ms = std::min(wait_ms, static_cast<double>(config_.polling.max_longpoll_ms));
    // A newer poll replaces an older one (a client that gave up on it): answer the old.
    answer_waiting(session);
    if (waiting_polls_ >= static_cast<std::size_t>(config_.polling.max_waiting)) {
      return error_response(request, 503, "busy", "too many long polls waiting: poll again shortly");
    }
    (action == "poll" ? stats_.polls : stats_.long_polls)++;
    session.waiting = conn;
    session.waiting_keep_alive = request.keep_alive;
    session.wait_until_ms = now + static_cast<std::uint64_t>(wait_ms);
    waiting_polls_++;
    return std::nullopt;
  }
  return error_response(request, 404, "no_such_action", "use input, poll or longpoll");
}

protocol::HttpResponse GameService::create_session(const protocol::HttpRequest& request, ConnId conn) {
  const Connection* connection = server_.find(conn);
  const std::string ip = connection ? std::string(connection->ip()) : std::string();
  if (sessions_.size() >= static_cast<std::size_t>(config_.polling.max_sessions)) {
    stats_.sessions_refused++;
    return error_response(request, 503, "busy", "too many polling sessions (polling.max_sessions): try again shortly");
  }
  if (const int per_ip = config_.polling.max_sessions_per_ip; per_ip > 0) {
    const auto it = sessions_by_ip_.find(ip);
    if (it != sessions_by_ip_.end() && it->second >= per_ip) {
      stats_.sessions_refused++;
      return error_response(request, 503, "busy",
                            "too many polling sessions from your address (polling.max_sessions_per_ip)");
    }
  }
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
  session.client.notices = &session.notices;
  session.ip = ip;
  sessions_by_ip_[ip]++;
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
      erase_session(sessions_.find(id));
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
  const auto max_ticks = static_cast<std::size_t>(config_.polling.max_backlog_ticks);
  const auto max_bytes = static_cast<std::size_t>(config_.polling.max_backlog_bytes);
  for (auto& [id, session] : sessions_) {
    if (session.dormant) continue;
    build_view(session.client);
    const std::string_view frame = std::string_view(payload_).substr(protocol::kMaxFrameHeader);  // JSON only
    if (!session.backlog.empty()) session.backlog += ',';
    session.backlog += frame;
    session.backlog_ticks++;
    stats_.tick_frames_sent++;
    stats_.tick_bytes_sent += frame.size();
    if (!session.waiting && (session.backlog_ticks > max_ticks || session.backlog.size() > max_bytes)) {
      // Nobody is fetching: drop the pile and stop building frames until the client asks;
      // it then gets one frame that lists its view in full.
      std::string().swap(session.backlog);
      session.backlog_ticks = 0;
      session.dormant = true;
      session.client.resync = true;
      stats_.backlog_resyncs++;
      sessions_freed_++;
      continue;
    }
    answer_waiting(session);
  }
}

void GameService::erase_session(std::unordered_map<std::string, HttpSession>::iterator it) {
  if (const auto ip = sessions_by_ip_.find(it->second.ip); ip != sessions_by_ip_.end() && --ip->second <= 0) {
    sessions_by_ip_.erase(ip);
  }
  sessions_.erase(it);
  sessions_freed_++;
}

void GameService::expire_sessions(std::uint64_t now_ms) {
  const auto idle_limit = static_cast<std::uint64_t>(std::max(config_.session.reconnect_window_ms, 5000));
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    HttpSession& session = it->second;
    if (session.waiting && now_ms >= session.wait_until_ms) answer_waiting(session);
    if (session.waiting || now_ms - session.last_seen_ms <= idle_limit) {
      ++it;
      continue;
    }
    // Like a WebSocket player whose reconnect window ran out: the player leaves the world.
    leave(session.client);
    erase_session(it++);
    stats_.sessions_expired++;
  }
  return_freed_memory();
}

void GameService::return_freed_memory() {
  // A crowd of sessions leaves its backlogs spread over the heap; glibc keeps such pages
  // until asked. Asked once a burst of sessions (or of their backlogs) has gone, not per
  // session: a trim walks the heap.
  constexpr std::size_t kBurst = 64;
  if (sessions_freed_ < kBurst) return;
  sessions_freed_ = 0;
  malloc_trim(0);
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

void GameService::on_server_stopping() {
  // Every waiting long poll gets its answer (what it holds, usually []) with
  // "Connection: close", so the client hears from us before the connection ends.
  for (auto& [id, session] : sessions_) answer_waiting(session, false);
}

}  // namespace skirmish::server
