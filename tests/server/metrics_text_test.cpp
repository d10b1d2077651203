// The Prometheus text MetricsText writes: label values escaped as the format says.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "server/metrics_text.h"

using skirmish::server::MetricsText;

TEST_CASE("label values escape backslash, quote and line feed", "[metrics]") {
  CHECK(MetricsText::label_value("world-1") == "world-1");
  CHECK(MetricsText::label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  MetricsText m;
  m.labelled("gauge", "x_players", "players", "world", std::map<std::string, double>{{"w\"1", 2}});
  CHECK(m.take() == "# HELP x_players players\n# TYPE x_players gauge\nx_players{world=\"w\\\"1\"} 2\n");
}
