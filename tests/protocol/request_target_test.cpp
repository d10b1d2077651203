// Request targets: the normalised path (safe to join to a web root), query parameters and
// percent-decoding. Every way out of the root must give nullopt.
#include "protocol/request_target.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace skirmish::protocol;

namespace {
const std::optional<std::string> kRefused = std::nullopt;
using Opt = std::optional<std::string>;
}  // namespace

// ---- normalize_path: what is kept -----------------------------------------------------------

TEST_CASE("normalize_path keeps a plain absolute path", "[protocol][target]") {
  CHECK(normalize_path("/") == Opt("/"));
  CHECK(normalize_path("/index.html") == Opt("/index.html"));
  CHECK(normalize_path("/js/main.js") == Opt("/js/main.js"));
}

TEST_CASE("normalize_path drops the query and the fragment", "[protocol][target]") {
  CHECK(normalize_path("/index.html?v=2") == Opt("/index.html"));
  CHECK(normalize_path("/index.html#top") == Opt("/index.html"));
  CHECK(normalize_path("/a?x=1#frag") == Opt("/a"));
  CHECK(normalize_path("/?x=1") == Opt("/"));
  CHECK(normalize_path("/a#b?c") == Opt("/a"));
}

TEST_CASE("normalize_path ignores what the query holds, even a '..'", "[protocol][target]") {
  CHECK(normalize_path("/ws?path=../../etc/passwd") == Opt("/ws"));
  CHECK(normalize_path("/ws?x=%zz") == Opt("/ws"));
}

TEST_CASE("normalize_path collapses '.' and empty segments", "[protocol][target]") {
  CHECK(normalize_path("//a///b") == Opt("/a/b"));
  CHECK(normalize_path("/./a/./b") == Opt("/a/b"));
  CHECK(normalize_path("/.") == Opt("/"));
  CHECK(normalize_path("//") == Opt("/"));
  CHECK(normalize_path("/./") == Opt("/"));
}

TEST_CASE("normalize_path keeps a trailing slash", "[protocol][target]") {
  CHECK(normalize_path("/js/") == Opt("/js/"));
  CHECK(normalize_path("/a/b//") == Opt("/a/b/"));
  CHECK(normalize_path("/a/./") == Opt("/a/"));
  CHECK(normalize_path("/a/?q") == Opt("/a/"));
}

TEST_CASE("normalize_path decodes percent escapes", "[protocol][target]") {
  CHECK(normalize_path("/hello%20world.txt") == Opt("/hello world.txt"));
  CHECK(normalize_path("/%41%62c") == Opt("/Abc"));
  CHECK(normalize_path("/caf%C3%A9") == Opt("/caf\xC3\xA9"));
  CHECK(normalize_path("/a%2Fb") == Opt("/a/b"));  // an encoded slash is a slash after decoding
}

TEST_CASE("normalize_path keeps dots that are not whole segments", "[protocol][target]") {
  CHECK(normalize_path("/..a") == Opt("/..a"));
  CHECK(normalize_path("/a..") == Opt("/a.."));
  CHECK(normalize_path("/.hidden") == Opt("/.hidden"));
  CHECK(normalize_path("/...") == Opt("/..."));
}

TEST_CASE("normalize_path does not turn '+' into a space", "[protocol][target]") {
  CHECK(normalize_path("/a+b") == Opt("/a+b"));
}

// ---- normalize_path: what is refused ----------------------------------------------------------

TEST_CASE("normalize_path refuses '..' anywhere", "[protocol][target]") {
  for (const char* t : {"/..", "/../", "/../etc/passwd", "/a/../b", "/a/..", "/a/b/../../..", "/./../a"}) {
    INFO(t);
    CHECK(normalize_path(t) == kRefused);
  }
}

TEST_CASE("normalize_path refuses percent-encoded '..'", "[protocol][target]") {
  for (const char* t : {"/%2e%2e/x", "/%2E%2E", "/.%2e/x", "/%2e./x", "/a/%2e%2e", "/%2f..", "/a%2f..%2fb", "/a%2F%2E%2E"}) {
    INFO(t);
    CHECK(normalize_path(t) == kRefused);
  }
}

TEST_CASE("normalize_path refuses backslashes, raw or encoded", "[protocol][target]") {
  for (const char* t : {"/a\\b", "/..\\x", "/%5c", "/a%5Cb", "/%5c..%5cx"}) {
    INFO(t);
    CHECK(normalize_path(t) == kRefused);
  }
}

TEST_CASE("normalize_path refuses NUL and control characters, raw or encoded", "[protocol][target]") {
  CHECK(normalize_path("/a%00b") == kRefused);
  CHECK(normalize_path("/index.html%00.png") == kRefused);
  CHECK(normalize_path(std::string("/a\0b", 4)) == kRefused);
  for (const char* t : {"/a%01", "/a%0a", "/a%0D%0A", "/a%1f", "/a%7f", "/a\tb", "/a\nb", "/a\x7f"}) {
    INFO(t);
    CHECK(normalize_path(t) == kRefused);
  }
}

TEST_CASE("normalize_path refuses targets that are not origin-form", "[protocol][target]") {
  for (const char* t : {"http://x/", "https://example.com/a", "*", "", "a/b", "index.html", "?x=1", "#frag", "%2f"}) {
    INFO("'" << t << "'");
    CHECK(normalize_path(t) == kRefused);
  }
}

TEST_CASE("normalize_path refuses bad percent escapes", "[protocol][target]") {
  for (const char* t : {"/%zz", "/%4", "/%", "/a%g0", "/a%0g", "/%%41"}) {
    INFO(t);
    CHECK(normalize_path(t) == kRefused);
  }
}

// ---- query_param ------------------------------------------------------------------------------

TEST_CASE("query_param returns the value of a present parameter", "[protocol][target]") {
  CHECK(query_param("/ws?x=10&y=20", "x") == Opt("10"));
  CHECK(query_param("/ws?x=10&y=20", "y") == Opt("20"));
  CHECK(query_param("/ws?name=alice", "name") == Opt("alice"));
}

TEST_CASE("query_param returns nullopt for an absent parameter or no query", "[protocol][target]") {
  CHECK(query_param("/ws?x=10", "y") == kRefused);
  CHECK(query_param("/ws", "x") == kRefused);
  CHECK(query_param("/ws?", "x") == kRefused);
  CHECK(query_param("/ws?xx=1", "x") == kRefused);  // a longer name is another parameter
  CHECK(query_param("/ws?x2=1", "x") == kRefused);
}

TEST_CASE("query_param takes '+' as a space and decodes escapes", "[protocol][target]") {
  CHECK(query_param("/?name=a+b", "name") == Opt("a b"));
  CHECK(query_param("/?name=a%2Bb", "name") == Opt("a+b"));
  CHECK(query_param("/?name=caf%C3%A9", "name") == Opt("caf\xC3\xA9"));
  CHECK(query_param("/?q=%26%3D", "q") == Opt("&="));
}

TEST_CASE("query_param gives an empty value for 'name=' and for a bare 'name'", "[protocol][target]") {
  CHECK(query_param("/?x=&y=2", "x") == Opt(""));
  CHECK(query_param("/?x&y=2", "x") == Opt(""));
  CHECK(query_param("/?y=2&x", "x") == Opt(""));
}

TEST_CASE("query_param returns the first match", "[protocol][target]") {
  CHECK(query_param("/?x=1&x=2", "x") == Opt("1"));
  CHECK(query_param("/?y=0&x=first&x=second", "x") == Opt("first"));
}

TEST_CASE("query_param keeps everything after the first '=' in the value", "[protocol][target]") {
  CHECK(query_param("/?t=a=b=c", "t") == Opt("a=b=c"));
}

TEST_CASE("query_param stops at the fragment", "[protocol][target]") {
  CHECK(query_param("/?x=1#y=2", "x") == Opt("1"));
  CHECK(query_param("/?x=1#y=2", "y") == kRefused);
  CHECK(query_param("/?x=1#frag", "x") == Opt("1"));
}

TEST_CASE("query_param skips empty pairs", "[protocol][target]") {
  CHECK(query_param("/?&&x=1&", "x") == Opt("1"));
}

TEST_CASE("query_param returns nullopt for a badly encoded value", "[protocol][target]") {
  CHECK(query_param("/?x=%zz", "x") == kRefused);
  CHECK(query_param("/?x=%4", "x") == kRefused);
}

TEST_CASE("query_param matches the name as sent, without decoding it", "[protocol][target]") {
  CHECK(query_param("/?a%20b=1", "a%20b") == Opt("1"));
  CHECK(query_param("/?a%20b=1", "a b") == kRefused);
}

// ---- percent_decode ---------------------------------------------------------------------------

TEST_CASE("percent_decode decodes escapes in upper and lower case", "[protocol][target]") {
  CHECK(percent_decode("%41%42%43") == Opt("ABC"));
  CHECK(percent_decode("%6a%6B") == Opt("jk"));
  CHECK(percent_decode("a%20b") == Opt("a b"));
  CHECK(percent_decode("%ff") == Opt("\xff"));
  CHECK(percent_decode("%00") == Opt(std::string(1, '\0')));
}

TEST_CASE("percent_decode leaves plain text alone", "[protocol][target]") {
  CHECK(percent_decode("") == Opt(""));
  CHECK(percent_decode("plain/text.html") == Opt("plain/text.html"));
}

TEST_CASE("percent_decode treats '+' as a space only when asked", "[protocol][target]") {
  CHECK(percent_decode("a+b") == Opt("a+b"));
  CHECK(percent_decode("a+b", true) == Opt("a b"));
  CHECK(percent_decode("%2B", true) == Opt("+"));
}

TEST_CASE("percent_decode decodes once, not twice", "[protocol][target]") {
  CHECK(percent_decode("%2541") == Opt("%41"));
}

TEST_CASE("percent_decode refuses truncated and non-hex escapes", "[protocol][target]") {
  for (const char* in : {"%", "%4", "a%", "a%4", "%zz", "%g1", "%1g", "%-1", "% 1"}) {
    INFO("'" << in << "'");
    CHECK(percent_decode(in) == kRefused);
  }
}

TEST_CASE("percent_decode accepts an escape that ends the input", "[protocol][target]") {
  CHECK(percent_decode("ab%41") == Opt("abA"));
}

TEST_CASE("query_param_malformed tells a badly encoded value from an absent one", "[protocol][target]") {
  CHECK(query_param_malformed("/ws?world=%zz", "world"));
  CHECK(query_param_malformed("/ws?a=1&world=x%4", "world"));
  CHECK_FALSE(query_param_malformed("/ws?world=%41", "world"));
  CHECK_FALSE(query_param_malformed("/ws?x=%zz", "world"));  // another parameter's escapes are its own
  CHECK_FALSE(query_param_malformed("/ws", "world"));
}

TEST_CASE("parse_decimal reads plain decimal numbers and nothing strtod would add", "[protocol][target]") {
  CHECK(parse_decimal("2") == 2.0);
  CHECK(parse_decimal("-0.5") == -0.5);
  CHECK(parse_decimal("1e3") == 1000.0);
  CHECK(parse_decimal(".25") == 0.25);
  for (const char* bad : {"", "0x10", "0X1p3", "inf", "-inf", "nan", "infinity", "+1", "--1", " 1", "1 ", "1e",
                          "1e999", "1.2.3", "e5", "-"}) {
    INFO(bad);
    CHECK_FALSE(parse_decimal(bad));
  }
}

TEST_CASE("parse_decimal_float: a decimal number a float holds, and nothing beyond", "[protocol][target]") {
  CHECK(parse_decimal_float("12.5") == 12.5f);
  CHECK(parse_decimal_float("-3e38") == -3e38f);
  CHECK_FALSE(parse_decimal_float("1e39"));
  CHECK_FALSE(parse_decimal_float("-1e39"));
  CHECK_FALSE(parse_decimal_float("0x10"));
}
