#include "server/metrics_text.h"

#include <cstdio>

namespace skirmish::server {

std::string MetricsText::label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void MetricsText::labelled(std::string_view type, std::string_view name, std::string_view help, std::string_view first,
                           std::string_view second,
                           const std::map<std::pair<std::string, std::string>, double>& values) {
  header(name, help, type);
  for (const auto& [key, value] : values) {
    sample(name,
           std::string(first) + "=\"" + label_value(key.first) + "\"," + std::string(second) + "=\"" +
               label_value(key.second) + "\"",
           value);
  }
}

void MetricsText::header(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsText::sample(std::string_view name, std::string_view labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, " %.17g\n", value);
  out_ += buf;
}

void MetricsText::counter(std::string_view name, std::string_view help, double value) {
  header(name, help, "counter");
  sample(name, "", value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value) {
  header(name, help, "gauge");
  sample(name, "", value);
}

void MetricsText::histogram(std::string_view name, std::string_view help, const DurationHistogram& h) {
  header(name, help, "histogram");
  histogram_samples(name, "", h);
}

void MetricsText::histograms(std::string_view name, std::string_view help, std::string_view label,
                             const std::vector<std::pair<std::string, const DurationHistogram*>>& hs) {
  header(name, help, "histogram");
  for (const auto& [value, h] : hs) histogram_samples(name, std::string(label) + "=\"" + label_value(value) + "\"", *h);
}

void MetricsText::histogram_samples(std::string_view name, const std::string& labels, const DurationHistogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : labels + ",";
  std::uint64_t cumulative = 0;
  char le[48];
  for (std::size_t i = 0; i < std::size(DurationHistogram::kBounds); ++i) {
    cumulative += h.counts[i];
    std::snprintf(le, sizeof le, "le=\"%g\"", DurationHistogram::kBounds[i]);
    sample(bucket, prefix + le, static_cast<double>(cumulative));
  }
  sample(bucket, prefix + "le=\"+Inf\"", static_cast<double>(h.total));
  sample(std::string(name) + "_sum", labels, h.sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(h.total));
}

}  // namespace skirmish::server
