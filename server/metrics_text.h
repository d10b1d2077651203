// Writing the Prometheus text exposition format (version 0.0.4), one metric at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/duration_histogram.h"

namespace skirmish::server {

class MetricsText {
 public:
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);
  // One metric with a label per map entry, e.g. closes by code.
  template <class Key, class Value>
  void labelled(std::string_view type, std::string_view name, std::string_view help, std::string_view label,
                const std::map<Key, Value>& values);
  // Two labels: (first's value, second's value) -> sample.
  void labelled(std::string_view type, std::string_view name, std::string_view help, std::string_view first,
                std::string_view second, const std::map<std::pair<std::string, std::string>, double>& values);
  void histogram(std::string_view name, std::string_view help, const DurationHistogram& h);
  // One histogram per value of `label` (e.g. one per world).
  void histograms(std::string_view name, std::string_view help, std::string_view label,
                  const std::vector<std::pair<std::string, const DurationHistogram*>>& hs);
  std::string take() { return std::move(out_); }
  // A label's value as the text format writes it: backslash, double quote and line feed
  // escaped (the values are ours today, world names included; kept safe whatever they become).
  static std::string label_value(std::string_view value);

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, std::string_view labels, double value);
  void histogram_samples(std::string_view name, const std::string& labels, const DurationHistogram& h);
  std::string out_;
};

template <class Key, class Value>
void MetricsText::labelled(std::string_view type, std::string_view name, std::string_view help,
                           std::string_view label, const std::map<Key, Value>& values) {
  header(name, help, type);
  for (const auto& [key, value] : values) {
    std::string l(label);
    l += "=\"";
    if constexpr (std::is_arithmetic_v<Key>) {
      l += std::to_string(key);
    } else {
      l += label_value(key);
    }
    l += '"';
    sample(name, l, static_cast<double>(value));
  }
}

}  // namespace skirmish::server
