#include "loadtest/stats.h"

#include <catch2/catch.hpp>

using skirmish::loadtest::ClientWindow;
using skirmish::loadtest::summarize_clients;

namespace {
ClientWindow client(std::uint32_t i, std::uint64_t frames, double game_rate, std::uint64_t gap) {
  return {i, 5.0, frames, game_rate > 0, game_rate, gap};
}
}  // namespace

TEST_CASE("per-client rates: no clients give zeros", "[loadtest]") {
  const auto j = summarize_clients({});
  CHECK(j["clients"] == 0);
  CHECK(j["frame_rate"]["min"] == 0.0);
  CHECK(j["frame_rate"]["p5"] == 0.0);
  CHECK(j["frame_rate"]["p50"] == 0.0);
  CHECK(j["game_rate"]["clients"] == 0);
  CHECK(j["game_rate"]["max"] == 0.0);
  CHECK(j["tick_gap"]["clients"] == 0);
  CHECK(j["tick_gap"]["max"] == 0);
  CHECK(j["tick_gap"]["p99"] == 0);
}

TEST_CASE("per-client rates: exact ranks over clients", "[loadtest]") {
  // 100 clients over 5 s: 96 got every tick (100 frames), 4 every 4th (25 frames).
  std::vector<ClientWindow> w;
  for (std::uint32_t i = 0; i < 96; ++i) w.push_back(client(i, 100, 20.0 + i * 0.001, 1));
  for (std::uint32_t i = 96; i < 100; ++i) w.push_back(client(i, 25, 19.5, 4));
  const auto j = summarize_clients(w);
  CHECK(j["clients"] == 100);
  CHECK(j["frame_rate"]["min"].get<double>() == Approx(5.0));
  CHECK(j["frame_rate"]["p5"].get<double>() == Approx(20.0));  // rank 5: the first full client
  CHECK(j["frame_rate"]["p50"].get<double>() == Approx(20.0));
  CHECK(j["game_rate"]["clients"] == 100);
  CHECK(j["game_rate"]["min"].get<double>() == Approx(19.5));
  CHECK(j["game_rate"]["max"].get<double>() == Approx(20.095));
  CHECK(j["tick_gap"]["clients"] == 100);
  CHECK(j["tick_gap"]["max"] == 4);
  CHECK(j["tick_gap"]["p99"] == 4);  // rank 99 of 100: among the 4 slow ones

  w.resize(99);  // 3 slow ones left: rank 99 of 99 is a slow one
  CHECK(summarize_clients(w)["tick_gap"]["p99"] == 4);
  w.resize(98);  // rank ceil(97.02) = 98 of 98: a slow one
  CHECK(summarize_clients(w)["tick_gap"]["p99"] == 4);
  w.resize(97);  // rank ceil(96.03) = 97 of 97: the one slow client left
  CHECK(summarize_clients(w)["tick_gap"]["p99"] == 4);
  w.pop_back();  // none slow
  CHECK(summarize_clients(w)["tick_gap"]["p99"] == 1);
}

TEST_CASE("per-client rates: clients without a rate or a gap count only for the frame rate", "[loadtest]") {
  std::vector<ClientWindow> w = {client(0, 0, 0, 0), client(1, 1, 0, 0), client(2, 100, 20.0, 1)};
  const auto j = summarize_clients(w);
  CHECK(j["clients"] == 3);
  CHECK(j["frame_rate"]["min"].get<double>() == 0.0);
  CHECK(j["frame_rate"]["p50"].get<double>() == Approx(0.2));
  CHECK(j["game_rate"]["clients"] == 1);
  CHECK(j["game_rate"]["min"].get<double>() == Approx(20.0));
  CHECK(j["tick_gap"]["clients"] == 1);
  CHECK(j["tick_gap"]["max"] == 1);
}

TEST_CASE("summary: server_delay_ms only with kernel timestamps, shaped as delay_ms", "[loadtest]") {
  skirmish::loadtest::IntervalStats s;
  for (std::uint64_t us : {1000u, 2000u, 3000u}) s.delay_us.record(us + 5000);
  for (std::uint64_t us : {1000u, 2000u, 3000u}) s.server_delay_us.record(us);
  s.c.frames = 3;
  const auto without = skirmish::loadtest::summarize(s, 1.0, 1.0, 3.0);
  REQUIRE(without.contains("server_delay_ms"));
  CHECK(without["server_delay_ms"].is_null());
  const auto with = skirmish::loadtest::summarize(s, 1.0, 1.0, 3.0, true);
  REQUIRE(with["server_delay_ms"].is_object());
  for (const auto& [key, value] : with["delay_ms"].items()) CHECK(with["server_delay_ms"].contains(key));
  CHECK(with["server_delay_ms"]["count"] == 3);
  CHECK(with["server_delay_ms"]["p50"].get<double>() == Approx(2.0).epsilon(0.01));
  CHECK(with["delay_ms"]["p50"].get<double>() == Approx(7.0).epsilon(0.01));

  skirmish::loadtest::IntervalStats sum;
  sum.merge(s);
  sum.merge(s);
  CHECK(sum.server_delay_us.count() == 6);
}

namespace {
ClientWindow stayed(std::uint32_t i, bool at_start, bool at_end, std::uint64_t frames) {
  ClientWindow w = client(i, frames, 20.0, 1);
  w.open_at_start = at_start;
  w.open_at_end = at_end;
  return w;
}
}  // namespace

TEST_CASE("a window without a result says why; a normal or shedding one has a result", "[loadtest]") {
  using skirmish::loadtest::window_without_result;
  // Everyone stayed and got frames; also when the daemon shed most of them (few frames).
  CHECK_FALSE(window_without_result(2, 200, {stayed(0, true, true, 100), stayed(1, true, true, 100)}));
  CHECK_FALSE(window_without_result(2, 10, {stayed(0, true, true, 5), stayed(1, true, true, 5)}));
  // Some left, one stayed: still a result.
  CHECK_FALSE(window_without_result(2, 150, {stayed(0, true, false, 50), stayed(1, true, true, 100)}));

  const auto none = window_without_result(0, 0, {});
  REQUIRE(none);
  CHECK(none->find("no client was connected") != std::string::npos);
  // Connected, but not one tick frame (a server that sends something else, or nothing).
  const auto silent = window_without_result(3, 0, {stayed(0, true, true, 0), stayed(1, true, true, 0)});
  REQUIRE(silent);
  CHECK(silent->find("no tick frame") != std::string::npos);
  // Frames came, then every client was dropped (the daemon was killed mid-window); a client
  // that connected later and got a frame does not make it a result.
  const auto gone = window_without_result(2, 120, {stayed(0, true, false, 60), stayed(1, true, false, 60),
                                                   stayed(2, false, true, 1)});
  REQUIRE(gone);
  CHECK(gone->find("disconnected before its end") != std::string::npos);
}

TEST_CASE("summary: connected time is merged, inputs are per connected client-second", "[loadtest]") {
  skirmish::loadtest::IntervalStats a, b;
  a.c.connected_us = 1500000;
  b.c.connected_us = 500000;
  a.c.inputs_sent = 30;
  a.merge(b);
  CHECK(a.c.connected_us == 2000000);
  // 2 client-seconds over 1 s: 2 clients on average, 15 inputs each a second.
  const auto j = skirmish::loadtest::summarize(a, 1.0, 2.0, 40.0);
  CHECK(j["inputs_per_s"].get<double>() == Approx(30.0));
  CHECK(j["inputs_per_client_per_s"].get<double>() == Approx(15.0));
  CHECK(j["expected_by_time"].get<double>() == Approx(40.0));
}
