#include "server/polling_sessions.h"

#include <malloc.h>

#include <algorithm>

#include "protocol/game_messages.h"
#include "protocol/handshake.h"
#include "protocol/request_target.h"
#include "protocol/ws_types.h"
#include "server/json_response.h"

namespace skirmish::server {

namespace {

protocol::HttpResponse error_response(const protocol::HttpRequest& request, int status, std::string_view code,
                                      std::string_view message) {
  // A 503 here is a busy moment (too many sessions or long polls): soon over.
  if (status == 503) return service_unavailable(request, protocol::encode_error(code, message), 2);
  return json_response(request, status, protocol::encode_error(code, message));
}

protocol::HttpResponse wrong_method(const protocol::HttpRequest& request, const char* allow, std::string_view message) {
  return method_not_allowed(request, allow, protocol::encode_error("bad_method", message));
}

// The body as a client message, parsed once; a body without "type" gets the one the
// endpoint implies. nullopt: not a JSON object.
std::optional<nlohmann::json> message_from_body(const std::string& body, const char* implied_type) {
  nlohmann::json j = protocol::parse_client_json(body);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (!j.contains("type")) j["type"] = implied_type;
  return j;
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

PollingSessions::PollingSessions(uv_loop_t* loop, AppHost& server, const config::Config& config, GamePort& game,
                                 std::recursive_mutex& mutex)
    : server_(server), config_(config), game_(game), mutex_(mutex) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  auto route = [this](const protocol::HttpRequest& r, const RequestOrigin& o) { return handle(r, o); };
  server_.add_route("/session", route);
  server_.add_route("/session/", route);
  server_.set_deferred_gone_handler([this](ConnId c) { on_poll_gone(c); });
}

void PollingSessions::start() {
  // Long-poll deadlines and idle sessions are checked on their own timer, so a low tick rate
  // does not stretch a client's timeout.
  uv_timer_start(&timer_, [](uv_timer_t* t) {
    auto* self = static_cast<PollingSessions*>(t->data);
    std::lock_guard<std::recursive_mutex> lock(self->mutex_);
    self->expire(self->server_.now_ms());
  }, 100, 100);
}

void PollingSessions::stop() {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

ViewerSink::Readiness PollingSessions::Sink::readiness() const {
  if (session_.dormant) return Readiness::Skip;
  return session_.needs_full ? Readiness::Resync : Readiness::Ready;
}

void PollingSessions::Sink::send_frame(std::string_view payload) { owner_.on_frame(session_, payload); }

void PollingSessions::Sink::send_message(std::string_view json) {
  if (session_.replies) {
    session_.replies->emplace_back(json);
  } else {
    add_notice(session_, json);
    owner_.answer_waiting(session_);  // news: a held long poll need not wait for the next tick
  }
}

void PollingSessions::Sink::start_over(std::string_view hello) {
  // Frames of the old world not yet fetched would land after the new hello: drop them.
  std::string().swap(session_.backlog);
  session_.backlog_ticks = 0;
  send_message(hello);
}

std::string PollingSessions::take_backlog(Session& session) {
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

void PollingSessions::answer_waiting(Session& session, bool keep_alive) {
  if (!session.waiting) return;
  protocol::HttpRequest waiting_request;
  waiting_request.keep_alive = keep_alive && session.waiting_keep_alive;
  const ConnId conn = session.waiting;
  session.waiting = 0;
  waiting_by_conn_.erase(conn);
  waiting_polls_--;
  session.last_seen_ms = server_.now_ms();
  // If the connection is gone by the time the answer gets there, the frames it held went
  // nowhere: the session's next frame lists its view in full.
  server_.finish_deferred(conn, json_response(waiting_request, 200, take_backlog(session)), [this, id = session.id] {
    if (const auto it = sessions_.find(id); it != sessions_.end()) it->second->needs_full = true;
  });
}

void PollingSessions::on_frame(Session& session, std::string_view payload) {
  session.needs_full = false;
  if (!session.backlog.empty()) session.backlog += ',';
  session.backlog += payload;
  session.backlog_ticks++;
  const auto max_ticks = static_cast<std::size_t>(config_.polling.max_backlog_ticks);
  const auto max_bytes = static_cast<std::size_t>(config_.polling.max_backlog_bytes);
  if (!session.waiting && (session.backlog_ticks > max_ticks || session.backlog.size() > max_bytes)) {
    // Nobody is fetching: drop the pile and stop building frames until the client asks;
    // it then gets one frame that lists its view in full.
    std::string().swap(session.backlog);
    session.backlog_ticks = 0;
    session.dormant = true;
    session.needs_full = true;
    game_.stats().backlog_resyncs++;
    sessions_freed_++;
    return;
  }
  answer_waiting(session);
}

std::optional<protocol::HttpResponse> PollingSessions::handle(const protocol::HttpRequest& request,
                                                              const RequestOrigin& origin) {
  const std::string path = protocol::normalize_path(request.target).value_or("");
  // websocket.allowed_origins holds here too: a page elsewhere may not make players through
  // the polling API either (a POST of text/plain needs no CORS preflight). A request without
  // an Origin passes: browsers leave it out of same-origin GETs, and scripts are no browsers.
  if (!protocol::origin_allowed(request, config_.handshake.allowed_origins, true)) {
    return error_response(request, 403, "origin_not_allowed", "this page's origin is not in websocket.allowed_origins");
  }
  if (path == "/session") {
    if (request.method != "POST") return wrong_method(request, "POST", "POST /session to join");
    return create(request, origin);
  }
  // /session/{id}[/action]
  const std::string rest = path.substr(std::string("/session/").size());
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return error_response(request, 404, "no_session", "no such session (it may have expired)");
  Session& session = *it->second;
  session.last_seen_ms = server_.now_ms();

  if (action.empty()) {
    if (request.method != "DELETE") return wrong_method(request, "DELETE", "DELETE /session/{id} to leave");
    // ?away=1: the page is going (closed, reloaded), not its player: the player stays, away,
    // for its token to take back, as when a WebSocket closes. Otherwise the player leaves.
    const auto away = protocol::query_param(request.target, "away");
    if (protocol::query_param_malformed(request.target, "away") || (away && *away != "1" && *away != "0")) {
      return error_response(request, 400, "bad_field", "away must be 1 or 0");
    }
    answer_waiting(session);
    if (away != "1") {
      protocol::ClientMsg leave = protocol::LeaveMsg{};
      game_.handle(session.viewer, leave);
    }
    erase(it);  // a player still here goes away (GameService::close_viewer)
    return json_response(request, 204, "");
  }
  if (action == "input") {
    if (request.method != "POST") return wrong_method(request, "POST", "POST a game message");
    return input(session, request);
  }
  if (action == "poll" || action == "longpoll") {
    if (request.method != "GET") return wrong_method(request, "GET", "GET to poll");
    return poll(session, request, origin.conn, action == "longpoll");
  }
  return error_response(request, 404, "no_such_action", "use input, poll or longpoll");
}

bool PollingSessions::is_long_poll(const protocol::HttpRequest& request) {
  const std::string path = protocol::normalize_path(request.target).value_or("");  // as handle() reads it
  return path.starts_with("/session/") && path.ends_with("/longpoll");
}

std::vector<std::string> PollingSessions::handle_collecting(Session& session, protocol::ClientMsg& msg) {
  std::vector<std::string> replies;
  session.replies = &replies;
  try {
    game_.handle(session.viewer, msg);
  } catch (...) {
    session.replies = nullptr;  // a route may throw (answered 500): its replies die here
    throw;
  }
  session.replies = nullptr;
  return replies;
}

protocol::HttpResponse PollingSessions::input(Session& session, const protocol::HttpRequest& request) {
  const auto body = message_from_body(request.body, "input");
  if (!body) return error_response(request, 400, "bad_json", "the body must be a JSON object");
  auto decoded = protocol::decode_client_message(*body);
  if (const auto* bad = std::get_if<protocol::DecodeError>(&decoded)) {
    return error_response(request, 400, bad->code, bad->message);
  }
  const std::vector<std::string> replies = handle_collecting(session, std::get<protocol::ClientMsg>(decoded));
  if (replies.empty()) return json_response(request, 204, "");
  return json_response(request, 200, json_array(replies));
}

std::optional<protocol::HttpResponse> PollingSessions::poll(Session& session, const protocol::HttpRequest& request,
                                                            ConnId conn, bool long_poll) {
  auto& stats = game_.stats();
  // A long poll's ?timeout= is judged whether or not news is waiting: the same request must
  // not be a 400 or a 200 by the moment it came.
  double wait_ms = config_.polling.longpoll_timeout_ms;
  if (long_poll) {
    if (protocol::query_param_malformed(request.target, "timeout")) {
      return error_response(request, 400, "bad_field", "timeout must be a number of seconds");
    }
    if (const auto t = protocol::query_param(request.target, "timeout")) {
      const auto secs = protocol::parse_decimal(*t);
      if (!secs || !(*secs >= 0)) {
        return error_response(request, 400, "bad_field", "timeout must be a number of seconds");
      }
      wait_ms = *secs * 1000;
    }
  }
  const bool dormant = session.dormant;
  if (dormant) {
    // Its frames stopped while nobody asked: the next tick builds one full frame, and this
    // request waits for it (a short poll at most a second) like a long poll.
    session.dormant = false;
  }
  const bool has_news = !session.backlog.empty() || !session.notices.empty();
  // Stopping: nothing waits any more (the waiting ones were answered when the stop began).
  if ((!long_poll && !dormant) || has_news || server_.shutting_down()) {
    (long_poll ? stats.long_polls : stats.polls)++;
    return json_response(request, 200, take_backlog(session));
  }
  if (!long_poll) wait_ms = 1000;
  // Capped as a double, before the conversion: ?timeout=1e300 must not overflow it.
  wait_ms = std::min(wait_ms, static_cast<double>(config_.polling.max_longpoll_ms));
  // A newer poll replaces an older one (a client that gave up on it): answer the old.
  answer_waiting(session);
  if (waiting_polls_ >= static_cast<std::size_t>(config_.polling.max_waiting)) {
    return error_response(request, 503, "busy", "too many long polls waiting: poll again shortly");
  }
  (long_poll ? stats.long_polls : stats.polls)++;
  session.waiting = conn;
  session.waiting_keep_alive = request.keep_alive;
  session.wait_until_ms = server_.now_ms() + static_cast<std::uint64_t>(wait_ms);
  waiting_by_conn_[conn] = &session;
  waiting_polls_++;
  return std::nullopt;
}

protocol::HttpResponse PollingSessions::create(const protocol::HttpRequest& request, const RequestOrigin& origin) {
  auto& stats = game_.stats();
  const std::string ip(origin.ip);
  // Stopping (a request in the stop's last call): a session made now would only be told to go
  // at its first poll, and its page would say "connected" in between. Refused, the page's try
  // fails like one against a stopped server, and it keeps saying the server is restarting.
  if (server_.shutting_down()) {
    return error_response(request, 503, "shutting_down", "the server is shutting down: try again shortly");
  }
  if (sessions_.size() >= static_cast<std::size_t>(config_.polling.max_sessions)) {
    stats.sessions_refused++;
    return error_response(request, 503, "busy", "too many polling sessions (polling.max_sessions): try again shortly");
  }
  if (const int per_ip = config_.polling.max_sessions_per_ip; per_ip > 0) {
    const auto it = sessions_by_ip_.find(ip);
    if (it != sessions_by_ip_.end() && it->second >= per_ip) {
      stats.sessions_refused++;
      return error_response(request, 503, "busy",
                            "too many polling sessions from your address (polling.max_sessions_per_ip)");
    }
  }
  auto body = message_from_body(request.body, "join");
  if (!body) return error_response(request, 400, "bad_json", "the body must be a JSON object like {\"name\":\"alice\"}");
  const auto& cfg = game_.world_config();
  if ((*body)["type"] == "watch") {
    // A spectator cannot know the world's centre before it has the hello: default to it.
    if (!body->contains("x")) (*body)["x"] = cfg.world_width / 2;
    if (!body->contains("y")) (*body)["y"] = cfg.world_height / 2;
  }
  // The world it asks for (optional): a field of its own, not part of the game message.
  std::string world;
  if (const auto it = body->find("world"); it != body->end()) {
    if (!it->is_string()) return error_response(request, 400, "bad_field", "world must be a world's name (see /worlds)");
    world = it->get<std::string>();
    body->erase("world");
  }
  auto decoded = protocol::decode_client_message(*body);
  if (auto* err = std::get_if<protocol::DecodeError>(&decoded)) return error_response(request, 400, err->code, err->message);
  auto& msg = std::get<protocol::ClientMsg>(decoded);
  const auto* join_msg = std::get_if<protocol::JoinMsg>(&msg);
  const auto* watch_msg = std::get_if<protocol::WatchMsg>(&msg);
  if (!join_msg && !watch_msg) return error_response(request, 400, "bad_message", "POST /session takes a join or a watch message");

  auto owned = std::make_unique<Session>();
  Session& session = *owned;
  session.id = game_.new_token();
  session.sink = std::make_unique<Sink>(*this, session);
  session.ip = ip;
  session.last_seen_ms = server_.now_ms();
  session.viewer = game_.open_viewer(*session.sink, watch_msg ? watch_msg->x : cfg.world_width / 2,
                                     watch_msg ? watch_msg->y : cfg.world_height / 2, world, "", ip);
  if (session.viewer == 0) {
    return error_response(request, 404, "no_such_world", "no world has that name: see /worlds");
  }
  std::string answer;
  if (join_msg) {
    std::vector<std::string> replies;
    try {
      replies = handle_collecting(session, msg);
    } catch (...) {
      // The route answers 500 (server.cpp); the session dies with this frame: not its viewer.
      game_.close_viewer(session.viewer);
      throw;
    }
    // The last reply is the welcome or the error (a player placed in another world was sent
    // that world's hello first, which the answer carries anyway).
    answer = replies.empty() ? std::string() : replies.back();
    if (!game_.has_player(session.viewer)) {
      game_.close_viewer(session.viewer);
      return service_unavailable(request, answer.empty() ? protocol::encode_error("server_full", "try later") : answer,
                                 kFullRetryAfterS);
    }
  } else {
    answer = R"({"type":"watching"})";  // a spectator session; it can join later through /input
  }
  stats.sessions_created++;
  sessions_by_ip_[ip]++;
  // The answer, plus the session id and the hello a WebSocket client would have had.
  answer.pop_back();
  answer += ",\"session\":\"" + session.id + "\",\"hello\":" + game_.hello(session.viewer) + "}";
  sessions_.emplace(session.id, std::move(owned));
  return json_response(request, 200, answer);
}

void PollingSessions::erase(SessionMap::iterator it) {
  Session& session = *it->second;
  if (session.waiting) {
    waiting_by_conn_.erase(session.waiting);
    waiting_polls_--;
  }
  game_.close_viewer(session.viewer);
  if (const auto ip = sessions_by_ip_.find(session.ip); ip != sessions_by_ip_.end() && --ip->second <= 0) {
    sessions_by_ip_.erase(ip);
  }
  sessions_.erase(it);
  sessions_freed_++;
}

void PollingSessions::expire(std::uint64_t now_ms) {
  const auto idle_limit = static_cast<std::uint64_t>(std::max(config_.session.reconnect_window_ms, 5000));
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& session = *it->second;
    if (session.waiting && now_ms >= session.wait_until_ms) answer_waiting(session);
    // Added, not subtracted: a poll answered just now (answer_waiting) stamps the session with
    // a clock read after now_ms, and now_ms - last_seen_ms would wrap around to "idle for ever".
    if (session.waiting || session.last_seen_ms + idle_limit >= now_ms) {
      ++it;
      continue;
    }
    // Like a WebSocket player whose reconnect window ran out: the player leaves the world.
    protocol::ClientMsg leave = protocol::LeaveMsg{};
    game_.handle(session.viewer, leave);
    erase(it++);
    game_.stats().sessions_expired++;
  }
  return_freed_memory();
}

void PollingSessions::return_freed_memory() {
  // A crowd of sessions leaves its backlogs spread over the heap; glibc keeps such pages
  // until asked. Asked once a burst of sessions (or of their backlogs) has gone, not per
  // session: a trim walks the heap.
  constexpr std::size_t kBurst = 64;
  if (sessions_freed_ < kBurst) return;
  sessions_freed_ = 0;
  malloc_trim(0);
}

void PollingSessions::on_poll_gone(ConnId conn) {
  const auto it = waiting_by_conn_.find(conn);
  if (it == waiting_by_conn_.end()) return;
  Session& session = *it->second;
  waiting_by_conn_.erase(it);
  session.waiting = 0;
  waiting_polls_--;
  session.last_seen_ms = server_.now_ms();
}

void PollingSessions::tell_all_stopping() {
  // Every session is told, as a WebSocket is by its close frame (1001), so that a page says
  // "restarting" rather than "connection lost": a waiting long poll gets it at once, with what
  // it holds and "Connection: close", before the connection ends; a poll that comes in before
  // the connections close finds it among its notices.
  // The code and reason a WebSocket gets in its close frame (connection_loop.cpp).
  const std::string closing =
      protocol::encode_closing(static_cast<std::uint16_t>(protocol::CloseCode::GoingAway), "server shutting down");
  for (auto& [id, session] : sessions_) {
    add_notice(*session, closing);
    answer_waiting(*session, false);
  }
}

void PollingSessions::add_notice(Session& session, std::string_view json) {
  // Bounded like the backlog of frames, or a session nobody polls could be grown without end
  // by requests on others (a token taken back and forth: a session_taken each time). The same
  // news again says nothing new; past kMaxNotices the oldest goes.
  auto& notices = session.notices;
  if (!notices.empty() && notices.back() == json) return;
  if (notices.size() >= Session::kMaxNotices) notices.erase(notices.begin());
  notices.emplace_back(json);
}

}  // namespace skirmish::server
