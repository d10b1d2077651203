// What a player's name may be (protocol/player_name.h): something visible, nothing that hides
// or garbles text, at most kMaxNameChars characters (and kMaxNameBytes bytes).
#include "protocol/player_name.h"

#include <catch2/catch.hpp>

#include <string>

using namespace skirmish::protocol;

TEST_CASE("an ordinary name is kept as it is", "[protocol][name]") {
  CHECK(clean_player_name("alice") == "alice");
  CHECK(clean_player_name("Zoë the 2nd") == "Zoë the 2nd");
  CHECK(clean_player_name("玩家一号") == "玩家一号");
}

TEST_CASE("names of only invisible characters are refused (empty)", "[protocol][name]") {
  for (const std::string& name : {
           std::string("\u3164"),              // Hangul filler
           std::string("\u3164\u3164\u3164"),
           std::string("\u00ad\u00ad"),        // soft hyphens
           std::string("\U000E0041\U000E0042"),  // tag characters
           std::string("\u200b\u200d\u2060"),  // zero-width
           std::string("\u0301\u0301\u0301"),  // combining marks with nothing under them
           std::string("\u2800"),              // braille blank
           std::string("\u3000\u00a0 "),       // spaces of other widths
           std::string("\ufe0f\ufe0f"),        // variation selectors alone
           std::string("\u115f\u1160\uffa0"),  // more fillers
       }) {
    INFO(name);
    CHECK(clean_player_name(name).empty());
  }
}

TEST_CASE("invisible characters inside a visible name are dropped", "[protocol][name]") {
  CHECK(clean_player_name("a\u3164b\u00adc\U000E0041d\u200be") == "abcde");
  CHECK(clean_player_name("\u202eevil") == "evil");
}

TEST_CASE("a stack of combining marks keeps at most kMaxCombiningMarks per character", "[protocol][name]") {
  std::string zalgo = "Z";
  for (int i = 0; i < 30; ++i) zalgo += "\u0301";
  zalgo += "a";
  CHECK(clean_player_name(zalgo) == "Z\u0301\u0301a");
  CHECK(clean_player_name("e\u0301") == "e\u0301");  // an accent is still fine
}

TEST_CASE("blanks around a name are trimmed, blanks inside kept", "[protocol][name]") {
  CHECK(clean_player_name("\u3000 bob the brave \u00a0") == "bob the brave");
}

TEST_CASE("a name is cut at kMaxNameChars characters without splitting one", "[protocol][name]") {
  CHECK(clean_player_name(std::string(100000, 'x')) == std::string(kMaxNameChars, 'x'));
  std::string e26;
  for (int i = 0; i < 26; ++i) e26 += "é";  // 2 bytes each
  CHECK(clean_player_name(e26).size() == 2 * kMaxNameChars);
  CHECK(clean_player_name(std::string(23, 'a') + "é") == std::string(23, 'a') + "é");
  // The play-test's names: an Arabic and a Chinese one, whole (a 24-byte cut halved them).
  CHECK(clean_player_name("محارب الظلام القوي جدا") == "محارب الظلام القوي جدا");
  CHECK(clean_player_name("李小龍的徒弟天下無敵") == "李小龍的徒弟天下無敵");
}
