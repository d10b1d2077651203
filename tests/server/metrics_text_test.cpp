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

TEST_CASE("two labels are written as two, each value escaped", "[metrics]") {
  MetricsText m;
  m.labelled("gauge", "x_every", "every", "world", "class",
             std::map<std::pair<std::string, std::string>, double>{{{"world-1", "player"}, 1}, {{"w\"2", "watcher"}, 3}});
  CHECK(m.take() ==
        "# HELP x_every every\n# TYPE x_every gauge\nx_every{world=\"w\\\"2\",class=\"watcher\"} 3\n"
        "x_every{world=\"world-1\",class=\"player\"} 1\n");
}
