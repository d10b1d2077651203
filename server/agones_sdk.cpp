#include "server/agones_sdk.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "server/metrics_text.h"

namespace skirmish::server {

AgonesSdk::AgonesSdk(uv_loop_t* loop, int port, std::function<std::size_t()> players,
                     std::function<void(const std::string&)> on_world)
    : http_(loop, port), players_(std::move(players)), on_world_(std::move(on_world)) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  spdlog::info("agones: talking to the SDK sidecar on localhost:{}", port);
}

void AgonesSdk::start() {
  send_ready();
  // Until Ready is taken the timer beats every second: Ready again once an earlier one has
  // ended unanswered, Health every other second (Agones counts missed Health from the
  // container's start, Ready or not). Then every kHealthPeriodMs.
  uv_timer_start(&timer_, on_timer, 1000, 1000);
}

void AgonesSdk::on_timer(uv_timer_t* t) {
  auto* self = static_cast<AgonesSdk*>(t->data);
  if (!self->ready_) {
    self->send_ready();
    if (++self->beats_before_ready_ % 2 == 0) self->beat();
    return;
  }
  self->beat();
}

void AgonesSdk::send_ready() {
  if (ready_in_flight_ || stopping_) return;
  ready_in_flight_ = true;
  calls_++;
  // A slow answer is waited for, not asked again: a Ready that timed out may have been taken,
  // and another one landing after an allocation would put an Allocated server back in the
  // Ready pool.
  http_.request("POST", "/ready", "{}", [this](int status, const std::string&) {
    ready_in_flight_ = false;
    note(kReady, "ready", status);
    if (status / 100 != 2 || ready_ || stopping_) return;
    ready_ = true;
    spdlog::info("agones: ready");
    beat();
    uv_timer_start(&timer_, on_timer, kHealthPeriodMs, kHealthPeriodMs);
  }, kReadyTimeoutMs);
}

void AgonesSdk::beat() {
  calls_++;
  http_.request("POST", "/health", "{}", [this](int status, const std::string&) { note(kHealth, "health", status); });
  // Our GameServer, for the label an allocation may set: the world its players should get.
  calls_++;
  http_.request("GET", "/gameserver", "", [this](int status, const std::string& body) {
    note(kGameServer, "gameserver", status);
    if (status / 100 != 2) return;
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    std::string world;
    if (doc.is_object()) {
      const auto meta = doc.find("object_meta");
      if (meta != doc.end() && meta->is_object()) {
        const auto labels = meta->find("labels");
        if (labels != meta->end() && labels->is_object()) {
          const auto label = labels->find(kWorldLabel);
          if (label != labels->end() && label->is_string()) world = label->get<std::string>();
        }
      }
    }
    if (world == world_label_) return;
    world_label_ = world;
    if (on_world_) on_world_(world);
  });
  const auto players = static_cast<std::int64_t>(players_ ? players_() : 0);
  if (players != label_sent_) {
    calls_++;
    const std::string body = R"({"key":"players","value":")" + std::to_string(players) + "\"}";
    http_.request("PUT", "/metadata/label", body, [this, players](int status, const std::string&) {
      note(kLabel, "label", status);
      if (status / 100 == 2) label_sent_ = players;
    });
  }
}

void AgonesSdk::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  // A Ready or Health still waiting on a hung sidecar would hold the stop for its timeout.
  http_.cancel_all();
  calls_++;
  http_.request("POST", "/shutdown", "{}", [this](int status, const std::string&) {
    note(kShutdown, "shutdown", status);
    if (status / 100 == 2) spdlog::info("agones: shutdown sent");
  });
}

void AgonesSdk::note(int kind, const char* what, int status) {
  bool& failing = failing_[kind];
  if (status / 100 == 2) {
    if (failing) spdlog::info("agones: the SDK sidecar takes {} again", what);
    failing = false;
    return;
  }
  failures_++;
  if (!failing) {
    spdlog::warn("agones: {} got {} from the SDK sidecar; {}", what,
                 status == 0 ? std::string("no answer") : "HTTP " + std::to_string(status),
                 kind == kShutdown ? "the process stops all the same (Agones deletes it once it has gone)"
                                   : "the game goes on, and it is tried again");
  }
  failing = true;
}

void AgonesSdk::write_metrics(MetricsText& m) const {
  m.gauge("skirmish_agones_ready", "1 once the Agones SDK sidecar took Ready", ready_.load() ? 1.0 : 0.0);
  m.counter("skirmish_agones_calls_total", "requests to the Agones SDK sidecar", static_cast<double>(calls_.load()));
  m.counter("skirmish_agones_failures_total", "of them unanswered or not 2xx", static_cast<double>(failures_.load()));
}

}  // namespace skirmish::server
