#include "loadtest/stats.h"

#include <algorithm>
#include <cmath>

namespace skirmish::loadtest {

void Counters::merge(const Counters& o) {
  connects_ok += o.connects_ok;
  connect_failures += o.connect_failures;
  frames += o.frames;
  other_messages += o.other_messages;
  bytes_in += o.bytes_in;
  missing += o.missing;
  stale += o.stale;
  inputs_sent += o.inputs_sent;
  bytes_out += o.bytes_out;
  view_entities_sum += o.view_entities_sum;
  view_frames += o.view_frames;
  view_moved_sum += o.view_moved_sum;
  view_inconsistent += o.view_inconsistent;
  unparsed += o.unparsed;
  connected_us += o.connected_us;
  for (const auto& [k, v] : o.errors) errors[k] += v;
  for (const auto& [k, v] : o.disconnects) disconnects[k] += v;
}

std::uint64_t Counters::error_total() const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : errors) n += v;
  return n;
}

std::uint64_t Counters::disconnect_total() const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : disconnects) n += v;
  return n;
}

double us_to_ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

namespace {
nlohmann::json percentiles_ms(const Histogram& h) {
  return {{"count", h.count()},
          {"p50", us_to_ms(h.percentile(50))},
          {"p90", us_to_ms(h.percentile(90))},
          {"p99", us_to_ms(h.percentile(99))},
          {"p99_9", us_to_ms(h.percentile(99.9))},
          {"max", us_to_ms(h.max())},
          {"mean", h.mean() / 1000.0}};
}
double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

// The value at rank ceil(p/100 * n) (1-based) of sorted values; 0 when there are none.
template <typename T>
T rank_percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return T{};
  auto rank = static_cast<std::size_t>(std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}
}  // namespace

nlohmann::json summarize_clients(const std::vector<ClientWindow>& windows) {
  std::vector<double> frame_rate, game_rate;
  std::vector<std::uint64_t> gap;
  frame_rate.reserve(windows.size());
  for (const ClientWindow& w : windows) {
    frame_rate.push_back(ratio(static_cast<double>(w.frames), w.seconds));
    if (w.has_game_rate) game_rate.push_back(w.game_rate);
    if (w.max_gap > 0) gap.push_back(w.max_gap);
  }
  std::sort(frame_rate.begin(), frame_rate.end());
  std::sort(game_rate.begin(), game_rate.end());
  std::sort(gap.begin(), gap.end());
  return {
      {"clients", windows.size()},
      {"frame_rate",
       {{"min", rank_percentile(frame_rate, 0)},
        {"p5", rank_percentile(frame_rate, 5)},
        {"p50", rank_percentile(frame_rate, 50)}}},
      {"game_rate",
       {{"clients", game_rate.size()},
        {"min", rank_percentile(game_rate, 0)},
        {"p50", rank_percentile(game_rate, 50)},
        {"max", rank_percentile(game_rate, 100)}}},
      {"tick_gap",
       {{"clients", gap.size()}, {"max", rank_percentile(gap, 100)}, {"p99", rank_percentile(gap, 99)}}},
  };
}

std::optional<std::string> window_without_result(int connected_at_start, std::uint64_t window_frames,
                                                 const std::vector<ClientWindow>& windows) {
  if (connected_at_start == 0) return "no client was connected when the window started (see the errors above)";
  if (window_frames == 0) return "no tick frame arrived in the measured window (see the errors above)";
  const bool someone_stayed =
      std::any_of(windows.begin(), windows.end(), [](const ClientWindow& w) { return w.open_at_start && w.open_at_end; });
  if (!someone_stayed) {
    return "every client connected at the window's start was disconnected before its end (see the disconnects "
           "above: 1006 the connection dropped, 1001 the server stopping, 1008 it refused our messages, e.g. more "
           "than its server.max_messages_per_second, 1013 we read too slowly)";
  }
  return std::nullopt;
}

nlohmann::json summarize(const IntervalStats& s, double seconds, double clients, double expected_by_time,
                         bool kernel_timestamps) {
  const Counters& c = s.c;
  const auto frames = static_cast<double>(c.frames);
  nlohmann::json disconnects = nlohmann::json::object();
  for (const auto& [code, n] : c.disconnects) disconnects[std::to_string(code)] = n;
  return {
      {"seconds", seconds},
      {"clients_avg", clients},
      {"frames", c.frames},
      {"frames_per_s", ratio(frames, seconds)},
      {"missing", c.missing},
      {"stale", c.stale},
      {"delivered_ratio_by_gaps", ratio(frames, frames + static_cast<double>(c.missing))},
      {"expected_by_time", expected_by_time},
      {"delivered_ratio_by_time", ratio(frames, expected_by_time)},
      {"bytes_in", c.bytes_in},
      {"bytes_in_per_s", ratio(static_cast<double>(c.bytes_in), seconds)},
      {"bytes_per_client_per_s", ratio(static_cast<double>(c.bytes_in), seconds * clients)},
      {"bytes_per_frame", ratio(static_cast<double>(c.bytes_in), frames)},
      {"other_messages", c.other_messages},
      {"inputs_sent", c.inputs_sent},
      {"inputs_per_s", ratio(static_cast<double>(c.inputs_sent), seconds)},
      {"inputs_per_client_per_s", ratio(static_cast<double>(c.inputs_sent), seconds * clients)},
      {"bytes_out", c.bytes_out},
      {"entities_per_view_avg", ratio(static_cast<double>(c.view_entities_sum), static_cast<double>(c.view_frames))},
      {"view_frames", c.view_frames},
      {"moved_per_view_avg", ratio(static_cast<double>(c.view_moved_sum), static_cast<double>(c.view_frames))},
      {"view_inconsistent", c.view_inconsistent},
      {"unparsed_frames", c.unparsed},
      {"delay_ms", percentiles_ms(s.delay_us)},
      {"server_delay_ms", kernel_timestamps ? percentiles_ms(s.server_delay_us) : nlohmann::json()},
      {"connects_ok", c.connects_ok},
      {"connect_failures", c.connect_failures},
      {"connect_ms", percentiles_ms(s.connect_us)},
      {"tester_loop_lag_ms", percentiles_ms(s.loop_lag_us)},
      {"errors", c.errors},
      {"error_total", c.error_total()},
      {"disconnects", disconnects},
      {"disconnect_total", c.disconnect_total()},
  };
}

}  // namespace skirmish::loadtest
