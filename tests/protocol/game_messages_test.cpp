// The game's JSON messages (docs/protocol.md): decoding every client message and its
// errors, and the server encoders, whose output is parsed back with nlohmann::json.
#include "protocol/game_messages.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/decoded_alike.h"

using namespace skirmish::protocol;
using nlohmann::json;

namespace {

// The decoded message of type T; fails the test for an error or another type.
template <class T>
T decoded(std::string_view text) {
  auto result = decode_client_message(text);
  if (const auto* err = std::get_if<DecodeError>(&result)) {
    FAIL("decode error " << err->code << ": " << err->message);
  }
  const ClientMsg& msg = std::get<ClientMsg>(result);
  REQUIRE(std::holds_alternative<T>(msg));
  return std::get<T>(msg);
}

DecodeError decode_error(std::string_view text) {
  auto result = decode_client_message(text);
  REQUIRE(std::holds_alternative<DecodeError>(result));
  const DecodeError err = std::get<DecodeError>(result);
  CHECK_FALSE(err.message.empty());
  return err;
}

std::string error_code(std::string_view text) { return decode_error(text).code; }

// Parses `text` as JSON; fails the test when it is not.
json parsed(const std::string& text) {
  INFO(text);
  json j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string join_named(const std::string& name) { return json{{"type", "join"}, {"name", name}}.dump(); }

EntityView sample_player() {
  EntityView e{};
  e.id = 201;
  e.kind = "player";
  e.x = 1610.54f;
  e.y = 1588.0f;
  e.facing = 0.0f;
  e.hp = 100;
  e.max_hp = 100;
  e.score = 3;
  e.state = "idle";
  e.name = "alice";
  return e;
}

EntityView sample_monster() {
  EntityView e{};
  e.id = 17;
  e.kind = "wolf";
  e.x = 1702.31f;
  e.y = 1577.94f;
  e.facing = 3.14159f;
  e.hp = 12;
  e.max_hp = 60;
  e.score = 0;
  e.state = "chase";
  return e;
}

std::string full(const EntityView& e) {
  std::string out;
  append_entity_full(out, e);
  return out;
}

std::string delta(const EntityView& e, std::uint8_t fields) {
  std::string out;
  append_entity_delta(out, e, fields);
  return out;
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace

// ---- join ----------------------------------------------------------------------------------

TEST_CASE("join with a name decodes to a JoinMsg without token", "[protocol][messages]") {
  const JoinMsg m = decoded<JoinMsg>(R"({"type":"join","name":"alice"})");
  CHECK(m.name == "alice");
  CHECK(m.token.empty());
}

TEST_CASE("join with a token keeps the token", "[protocol][messages]") {
  const JoinMsg m = decoded<JoinMsg>(R"({"type":"join","name":"alice","token":"4f1c9a0e5b7d2c3e8a6f1b2d3c4e5f60"})");
  CHECK(m.name == "alice");
  CHECK(m.token == "4f1c9a0e5b7d2c3e8a6f1b2d3c4e5f60");
}

TEST_CASE("join takes a null token as none, and counts a token's length in bytes", "[protocol][messages]") {
  CHECK(decoded<JoinMsg>(R"({"type":"join","name":"alice","token":null})").token.empty());
  // 32 two-byte characters are 64 bytes: taken; 33 are 66: refused, and the message says bytes.
  std::string e_acute_32;
  for (int i = 0; i < 32; ++i) e_acute_32 += "\xc3\xa9";
  CHECK(decoded<JoinMsg>(json{{"type", "join"}, {"name", "a"}, {"token", e_acute_32}}.dump()).token == e_acute_32);
  CHECK(error_code(json{{"type", "join"}, {"name", "a"}, {"token", e_acute_32 + "\xc3\xa9"}}.dump()) == "bad_field");
  CHECK(error_code(R"({"type":"join","name":"a","token":7})") == "bad_field");
}

TEST_CASE("join accepts a token of 64 characters and refuses 65", "[protocol][messages]") {
  const std::string ok = json{{"type", "join"}, {"name", "a"}, {"token", std::string(64, 't')}}.dump();
  CHECK(decoded<JoinMsg>(ok).token == std::string(64, 't'));
  const std::string long_token = json{{"type", "join"}, {"name", "a"}, {"token", std::string(65, 't')}}.dump();
  CHECK(error_code(long_token) == "bad_field");
}

TEST_CASE("join with a token that is not a string is a bad_field", "[protocol][messages]") {
  CHECK(error_code(R"({"type":"join","name":"a","token":123})") == "bad_field");
  CHECK(error_code(R"({"type":"join","name":"a","token":["t"]})") == "bad_field");
}

TEST_CASE("join without a string name is a bad_field", "[protocol][messages]") {
  CHECK(error_code(R"({"type":"join"})") == "bad_field");
  CHECK(error_code(R"({"type":"join","name":42})") == "bad_field");
  CHECK(error_code(R"({"type":"join","name":null})") == "bad_field");
  CHECK(error_code(R"({"type":"join","name":["a"]})") == "bad_field");
}

TEST_CASE("join drops control characters from the name", "[protocol][messages]") {
  CHECK(decoded<JoinMsg>(join_named("a\x01" "b\tc\nd\x7f" "e\x1f")).name == "abcde");
}

TEST_CASE("join trims spaces around the name but keeps inner ones", "[protocol][messages]") {
  CHECK(decoded<JoinMsg>(join_named("  bob the brave  ")).name == "bob the brave");
}

TEST_CASE("join refuses an empty or invisible name", "[protocol][messages]") {
  for (const std::string& name : {std::string(""), std::string("   "), std::string("\x01\x02\t\n"), std::string(" \t ")}) {
    INFO("'" << name << "'");
    CHECK(error_code(join_named(name)) == "bad_field");
  }
}

TEST_CASE("join keeps a name of exactly kMaxNameChars characters", "[protocol][messages]") {
  const std::string name(kMaxNameChars, 'n');
  CHECK(decoded<JoinMsg>(join_named(name)).name == name);
}

TEST_CASE("join cuts a long name at kMaxNameChars", "[protocol][messages]") {
  CHECK(decoded<JoinMsg>(join_named(std::string(100, 'n'))).name == std::string(kMaxNameChars, 'n'));
}

TEST_CASE("join counts characters, not bytes, and never splits one", "[protocol][messages]") {
  const std::string e_acute = "\xC3\xA9";    // 2 bytes
  const std::string euro = "\xE2\x82\xAC";   // 3 bytes
  const std::string grin = "\xF0\x9F\x98\x80";  // 4 bytes
  const std::string acute_mark = "\xCC\x81";  // U+0301, rides on the letter before it
  // 23 ASCII letters and one of 2, 3 or 4 bytes: 24 characters, all kept; a 25th is not.
  for (const std::string& c : {e_acute, euro, grin}) {
    CHECK(decoded<JoinMsg>(join_named(std::string(23, 'a') + c)).name == std::string(23, 'a') + c);
    CHECK(decoded<JoinMsg>(join_named(std::string(24, 'a') + c)).name == std::string(24, 'a'));
  }
  // 24 characters of 4 bytes each (96 bytes) are kept whole: an emoji name is as long as a Latin one.
  std::string grins;
  for (int i = 0; i < 25; ++i) grins += grin;
  CHECK(decoded<JoinMsg>(join_named(grins)).name == grins.substr(0, 4 * kMaxNameChars));
  // A combining mark is part of its letter: "e" + U+0301 twenty-four times is 24 characters.
  std::string accented;
  for (int i = 0; i < 24; ++i) accented += "e" + acute_mark;
  CHECK(decoded<JoinMsg>(join_named(accented + "z")).name == accented);
  // Marks can make 24 characters more than kMaxNameBytes: the bytes bound the name too.
  std::string heavy;
  for (int i = 0; i < 24; ++i) heavy += grin + acute_mark + acute_mark;  // 8 bytes each
  const std::string cut = decoded<JoinMsg>(join_named(heavy)).name;
  CHECK(cut.size() <= kMaxNameBytes);
  CHECK(cut == heavy.substr(0, cut.size()));
  CHECK(cut.size() % 8 == 0);  // whole characters, marks and all
  // Clusters of 5 bytes (e and two acutes): 19 fit in 96 bytes; the 20th's letter would, its
  // marks would not: it goes whole rather than bare.
  std::string five;
  for (int i = 0; i < 24; ++i) five += "e" + acute_mark + acute_mark;
  CHECK(decoded<JoinMsg>(join_named(five)).name == five.substr(0, 19 * 5));
}

TEST_CASE("dropped control characters do not count towards the name limit", "[protocol][messages]") {
  const std::string name = std::string(10, '\x01') + std::string(kMaxNameChars, 'n');
  CHECK(decoded<JoinMsg>(join_named(name)).name == std::string(kMaxNameChars, 'n'));
}

// ---- input ---------------------------------------------------------------------------------

TEST_CASE("input decodes seq, move and attack", "[protocol][messages]") {
  const InputMsg m = decoded<InputMsg>(R"({"type":"input","seq":17,"move":[0.5,-0.25],"attack":true})");
  CHECK(m.seq == 17);
  CHECK(m.has_seq);
  CHECK(m.dx == 0.5f);
  CHECK(m.dy == -0.25f);
  CHECK(m.attack);
}

TEST_CASE("input fields are optional and default to zero and false", "[protocol][messages]") {
  const InputMsg m = decoded<InputMsg>(R"({"type":"input"})");
  CHECK(m.seq == 0);
  CHECK_FALSE(m.has_seq);
  CHECK(m.dx == 0.0f);
  CHECK(m.dy == 0.0f);
  CHECK_FALSE(m.attack);
}

TEST_CASE("input move components are clamped to [-1, 1]", "[protocol][messages]") {
  const InputMsg m = decoded<InputMsg>(R"({"type":"input","move":[5,-7.5]})");
  CHECK(m.dx == 1.0f);
  CHECK(m.dy == -1.0f);
  const InputMsg big = decoded<InputMsg>(R"({"type":"input","move":[1e300,-1e300]})");
  CHECK(big.dx == 1.0f);
  CHECK(big.dy == -1.0f);
  const InputMsg edge = decoded<InputMsg>(R"({"type":"input","move":[1,-1]})");
  CHECK(edge.dx == 1.0f);
  CHECK(edge.dy == -1.0f);
}

TEST_CASE("input seq covers the whole uint32 range", "[protocol][messages]") {
  CHECK(decoded<InputMsg>(R"({"type":"input","seq":0})").seq == 0);
  CHECK(decoded<InputMsg>(R"({"type":"input","seq":4294967295})").seq == 4294967295u);
}

TEST_CASE("input seq outside uint32 or not an integer is a bad_field", "[protocol][messages]") {
  for (const char* seq : {"4294967296", "-1", "1.5", "\"17\"", "null", "true", "18446744073709551615"}) {
    INFO(seq);
    CHECK(error_code(std::string(R"({"type":"input","seq":)") + seq + "}") == "bad_field");
  }
}

TEST_CASE("input move that is not two finite numbers is a bad_field", "[protocol][messages]") {
  for (const char* move : {"[1]", "[1,2,3]", "[]", "[\"a\",0]", "[0,null]", "[true,0]", "{\"x\":1,\"y\":0}", "1", "null"}) {
    INFO(move);
    CHECK(error_code(std::string(R"({"type":"input","move":)") + move + "}") == "bad_field");
  }
}

TEST_CASE("a number too large for a double is refused as bad_json before it can be non-finite",
          "[protocol][messages]") {
  CHECK(error_code(R"({"type":"input","move":[1e400,0]})") == "bad_json");
}

TEST_CASE("input attack that is not a boolean is a bad_field", "[protocol][messages]") {
  for (const char* attack : {"1", "0", "\"yes\"", "null"}) {
    INFO(attack);
    CHECK(error_code(std::string(R"({"type":"input","attack":)") + attack + "}") == "bad_field");
  }
}

TEST_CASE("input with attack false decodes to no attack", "[protocol][messages]") {
  CHECK_FALSE(decoded<InputMsg>(R"({"type":"input","attack":false})").attack);
}

TEST_CASE("a later duplicate key overrides an earlier one in an input, as in any message", "[protocol][messages]") {
  const InputMsg m = decoded<InputMsg>(
      R"({"seq":1,"type":"input","move":[1,1],"attack":true,"seq":2,"move":[-0.5,0.25],"attack":false})");
  CHECK(m.seq == 2);
  CHECK(m.dx == -0.5f);
  CHECK(m.dy == 0.25f);
  CHECK_FALSE(m.attack);
  CHECK(std::holds_alternative<PingMsg>(std::get<ClientMsg>(decode_client_message(std::string_view(R"({"type":"input","type":"ping"})")))));
  CHECK(decoded<InputMsg>(R"({"type":"ping","type":"input","seq":3})").seq == 3);
  CHECK(error_code(R"({"type":"input","seq":5,"seq":-1})") == "bad_field");
  CHECK(decoded<InputMsg>(R"({"type":"input","seq":-1,"seq":5})").seq == 5);
}

// Inputs are read from the text without a DOM; every other answer comes from the parsed JSON.
// Both must agree on every text (the game message fuzzer checks the same on random ones).
TEST_CASE("an input read from text is what the parsed JSON decodes to", "[protocol][messages]") {
  std::vector<std::string> texts = {
      R"({"type":"input","seq":17,"move":[0.5,-0.25],"attack":true})",
      R"( { "attack" : false , "move" : [ -0 , 0.0 ] , "type" : "input" , "seq" : 0 } )",
      R"({"type":"input","move":[-0.0,-1e-320]})",
      R"({"type":"input","move":[18446744073709551615,-9223372036854775808]})",
      R"({"type":"input","extra":null,"more":"x","n":-3,"f":2.5,"b":true})",
      R"({"type":"input","extra":{"a":1}})",
      R"({"type":"input","extra":[1,2]})",
      R"({"type":"input","move":[[1],2]})",
      R"({"type":"input","move":[1,{"a":2}]})",
      R"({"type":"input","move":[1e400,0]})",
      R"({"type":"input","seq":4294967296})",
      R"({"type":"input","seq":-0})",
      R"({"type":"input","seq":1.0})",
      R"({"type":"input","attack":1})",
      R"({"type":"input","type":1})",
      R"({"type":"\u0069nput","seq":9})",
      R"({"type":"input"} )",
      R"({"type":"input"}x)",
      R"({"type":"input",})",
      R"({"type":"input"})",
      R"({"seq":1})",
      R"([{"type":"input"}])",
      R"("input")",
      R"(17)",
      R"({})",
      R"({"\u0074ype":"input","s\u0065q":3})",
      R"({"type":"input","seq\u0000":3})",
      R"({"type":"input","seq":18446744073709551616})",
      R"({"type":"input","seq":1e400})",
      R"({"type":"input","move":[]})",
      R"({"type":"input","move":[1,2,3]})",
      R"({"type":"input","move":["1",2]})",
      R"({"type":"input","move":[null,0]})",
      R"({"type":"input","move":[1,1],"move":[1]})",
      R"({"type":"input","attack":true,"attack":null})",
      R"({"type":"input","move":[-0.0,-0e0]})",
      R"({"type":"input"}/**/)",
      "{\"type\":\"input\",\"name\":\"\xff\"}",
      "",
      "  ",
      R"({"type":"ping","t":5})",
      R"({"type":"leave"})",
      R"({"type":"watch","x":1,"y":2})",
      R"({"type":"join","name":"ann"})",
  };
  std::string padded = R"({"type":"input","seq":7,"pad":")";
  padded += std::string(4096 - padded.size() - 2, 'x') + "\"}";
  REQUIRE(padded.size() == 4096);
  texts.push_back(padded);
  for (const std::string& text : texts) {
    INFO(text);
    const auto from_text = decode_client_message(std::string_view(text));
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      REQUIRE(std::holds_alternative<DecodeError>(from_text));
      CHECK(std::get<DecodeError>(from_text).code == "bad_json");
      continue;
    }
    CHECK(skirmish::testing::decoded_alike(from_text, decode_client_message(j)));
  }
}

// ---- ping, leave, watch ------------------------------------------------------------------------

TEST_CASE("ping keeps the client's clock", "[protocol][messages]") {
  CHECK(decoded<PingMsg>(R"({"type":"ping","t":1731412345678.5})").t == 1731412345678.5);
}

TEST_CASE("ping without t has t = 0", "[protocol][messages]") {
  CHECK(decoded<PingMsg>(R"({"type":"ping"})").t == 0.0);
}

TEST_CASE("ping with a t that is not a number is a bad_field", "[protocol][messages]") {
  CHECK(error_code(R"({"type":"ping","t":"now"})") == "bad_field");
  CHECK(error_code(R"({"type":"ping","t":null})") == "bad_field");
}

TEST_CASE("leave decodes to a LeaveMsg, extra fields ignored", "[protocol][messages]") {
  decoded<LeaveMsg>(R"({"type":"leave"})");
  decoded<LeaveMsg>(R"({"type":"leave","why":"bored"})");
  SUCCEED();
}

TEST_CASE("watch decodes its point", "[protocol][messages]") {
  const WatchMsg m = decoded<WatchMsg>(R"({"type":"watch","x":1600,"y":-20.5})");
  CHECK(m.x == 1600.0f);
  CHECK(m.y == -20.5f);
}

TEST_CASE("watch without numbers x and y is a bad_field", "[protocol][messages]") {
  for (const char* text : {R"({"type":"watch"})", R"({"type":"watch","x":1})", R"({"type":"watch","y":1})",
                           R"({"type":"watch","x":"1","y":2})", R"({"type":"watch","x":1,"y":null})"}) {
    INFO(text);
    CHECK(error_code(text) == "bad_field");
  }
}

TEST_CASE("watch with a coordinate beyond float range gives the largest finite float", "[protocol][messages]") {
  // 1e300 is a finite double but no float: a plain conversion is undefined behaviour (in
  // practice inf). The server clamps the point to the world anyway.
  const WatchMsg m = decoded<WatchMsg>(R"({"type":"watch","x":1e300,"y":-1e39})");
  CHECK(std::isfinite(m.x));
  CHECK(std::isfinite(m.y));
  CHECK(m.x == std::numeric_limits<float>::max());
  CHECK(m.y == -std::numeric_limits<float>::max());
}

// ---- malformed messages -----------------------------------------------------------------------

TEST_CASE("text that is not JSON is bad_json", "[protocol][messages]") {
  for (const char* text : {"", "not json", "{", "{\"type\":\"leave\"} trailing", "{'type':'leave'}"}) {
    INFO("'" << text << "'");
    CHECK(error_code(text) == "bad_json");
  }
}

TEST_CASE("JSON with invalid UTF-8 in a string is bad_json", "[protocol][messages]") {
  CHECK(error_code("{\"type\":\"join\",\"name\":\"\xff\"}") == "bad_json");
}

TEST_CASE("JSON that is not an object is bad_message", "[protocol][messages]") {
  for (const char* text : {"[1,2]", "42", "\"join\"", "null", "true", "[]"}) {
    INFO(text);
    CHECK(error_code(text) == "bad_message");
  }
}

TEST_CASE("an object without a string type is bad_message", "[protocol][messages]") {
  for (const char* text : {"{}", R"({"name":"a"})", R"({"type":5})", R"({"type":null})", R"({"type":["join"]})"}) {
    INFO(text);
    CHECK(error_code(text) == "bad_message");
  }
}

TEST_CASE("an unknown type is unknown_type and the message names it", "[protocol][messages]") {
  const DecodeError err = decode_error(R"({"type":"dance"})");
  CHECK(err.code == "unknown_type");
  CHECK(err.message.find("dance") != std::string::npos);
  CHECK(error_code(R"({"type":"JOIN","name":"a"})") == "unknown_type");  // types are case-sensitive
  CHECK(error_code(R"({"type":""})") == "unknown_type");
}

TEST_CASE("the unknown_type message quotes at most 32 bytes of the type", "[protocol][messages]") {
  const std::string type(200, 'q');
  const DecodeError err = decode_error(json{{"type", type}}.dump());
  CHECK(err.code == "unknown_type");
  CHECK(err.message.find(std::string(32, 'q')) != std::string::npos);
  CHECK(err.message.find(std::string(33, 'q')) == std::string::npos);
}

TEST_CASE("a message over 4096 bytes is bad_message even when it is valid JSON", "[protocol][messages]") {
  std::string text = R"({"type":"ping","pad":")";
  text += std::string(4096, 'p');
  text += "\"}";
  CHECK(error_code(text) == "bad_message");
}

TEST_CASE("a message of exactly 4096 bytes is decoded", "[protocol][messages]") {
  const std::string head = R"({"type":"ping","pad":")";
  const std::string tail = "\"}";
  const std::string text = head + std::string(4096 - head.size() - tail.size(), 'p') + tail;
  REQUIRE(text.size() == 4096);
  decoded<PingMsg>(text);
  const std::string over = head + std::string(4097 - head.size() - tail.size(), 'p') + tail;
  CHECK(error_code(over) == "bad_message");
}

// ---- server messages ------------------------------------------------------------------------

TEST_CASE("encode_hello produces the documented hello", "[protocol][messages]") {
  HelloMsg m;
  m.tick_rate = 20;
  m.world_width = 3200;
  m.world_height = 2400;
  m.view_radius = 800;
  m.obstacles = {{1684.5f, 1194.25f, 240.5f, 204.0f}, {0, 0, 10, 20}};
  m.monster_kinds = {{"slime", 40, 60, 50, 120}, {"wolf", 60, 170, 60, 220}};
  const json j = parsed(encode_hello(m));
  CHECK(j["type"] == "hello");
  CHECK(j["protocol"] == kGameProtocolVersion);
  CHECK(j["tick_rate"] == 20);
  CHECK(j["view_radius"] == 800.0);
  CHECK(j["world"]["width"] == 3200.0);
  CHECK(j["world"]["height"] == 2400.0);
  REQUIRE(j["world"]["obstacles"].size() == 2);
  CHECK(j["world"]["obstacles"][0] == json{{"x", 1684.5}, {"y", 1194.25}, {"w", 240.5}, {"h", 204.0}});
  CHECK(j["world"]["obstacles"][1]["h"] == 20.0);
  REQUIRE(j["monster_kinds"].size() == 2);
  CHECK(j["monster_kinds"][0] ==
        json{{"name", "slime"}, {"max_hp", 40}, {"speed", 60.0}, {"attack_range", 50.0}, {"aggro_radius", 120.0}});
  CHECK(j["monster_kinds"][1]["name"] == "wolf");
  CHECK(j["player"] == json{{"speed", 0.0}, {"max_hp", 0}, {"damage", 0}, {"attack_range", 0.0},
                            {"attack_cooldown_ms", 0}, {"respawn_ms", 0}, {"spawn_protection_ms", 0}});
  m.player = {200, 100, 20, 80, 500, 3000, 2500};
  CHECK(parsed(encode_hello(m))["player"] == json{{"speed", 200.0}, {"max_hp", 100}, {"damage", 20},
                                                  {"attack_range", 80.0}, {"attack_cooldown_ms", 500},
                                                  {"respawn_ms", 3000}, {"spawn_protection_ms", 2500}});
}

TEST_CASE("encode_hello with no obstacles and no kinds has empty arrays", "[protocol][messages]") {
  HelloMsg m{};
  const json j = parsed(encode_hello(m));
  CHECK(j["world"]["obstacles"] == json::array());
  CHECK(j["monster_kinds"] == json::array());
}

TEST_CASE("encode_welcome produces the documented welcome", "[protocol][messages]") {
  WelcomeMsg m{201, 20, 3200, 3200, 800, "4f1c9a0e5b7d2c3e8a6f1b2d3c4e5f60", true, ""};
  const json j = parsed(encode_welcome(m));
  CHECK(j["type"] == "welcome");
  CHECK(j["id"] == 201);
  CHECK(j["protocol"] == kGameProtocolVersion);
  CHECK(j["tick_rate"] == 20);
  CHECK(j["world"] == json{{"width", 3200.0}, {"height", 3200.0}});
  CHECK(j["view_radius"] == 800.0);
  CHECK(j["token"] == "4f1c9a0e5b7d2c3e8a6f1b2d3c4e5f60");
  CHECK(j["resumed"] == true);
  CHECK(parsed(encode_welcome(WelcomeMsg{1, 20, 1, 1, 1, "", false, ""}))["resumed"] == false);
  // With several worlds, the welcome names the player's.
  m.world_name = "world-2";
  CHECK(parsed(encode_welcome(m))["world"]["name"] == "world-2");
}

TEST_CASE("encode_welcome carries the largest player id", "[protocol][messages]") {
  const json j = parsed(encode_welcome(WelcomeMsg{4294967295u, 20, 1, 1, 1, "t", false, ""}));
  CHECK(j["id"].get<std::uint64_t>() == 4294967295u);
}

TEST_CASE("encode_pong echoes the client's clock and adds the server's", "[protocol][messages]") {
  const json j = parsed(encode_pong(1731412345678.5, 1731412345690));
  CHECK(j == json{{"type", "pong"}, {"t", 1731412345678.5}, {"server_ts", 1731412345690}});
}

TEST_CASE("encode_error produces type, code and message", "[protocol][messages]") {
  const json j = parsed(encode_error("bad_json", "message is not valid JSON"));
  CHECK(j == json{{"type", "error"}, {"code", "bad_json"}, {"message", "message is not valid JSON"}});
}

TEST_CASE("encode_closing produces type, code and reason", "[protocol][messages]") {
  const json j = parsed(encode_closing(1001, "server shutting down"));
  CHECK(j == json{{"type", "closing"}, {"code", 1001}, {"reason", "server shutting down"}});
}

TEST_CASE("encode_error escapes quotes and survives invalid UTF-8 in the message", "[protocol][messages]") {
  const json quoted = parsed(encode_error("unknown_type", "unknown message type \"x\\y\""));
  CHECK(quoted["message"] == "unknown message type \"x\\y\"");
  // The unknown_type message cuts the client's type at 32 bytes, which can split a character.
  const json cut = parsed(encode_error("unknown_type", "type \"ab\xE2\x82\""));
  CHECK(cut["code"] == "unknown_type");
  CHECK(cut["message"].get<std::string>().rfind("type \"ab", 0) == 0);
}

// ---- entities and events ----------------------------------------------------------------------

TEST_CASE("append_entity_full writes every field, rounded", "[protocol][messages]") {
  CHECK(full(sample_player()) ==
        R"({"id":201,"kind":"player","name":"alice","max_hp":100,"x":1610.5,"y":1588,"hp":100,)"
        R"("state":"idle","facing":0,"score":3,"away":false})");
}

TEST_CASE("an away player's record says so; a dead player's says when and where it comes back", "[protocol][messages]") {
  EntityView e = sample_player();
  e.away = true;
  CHECK(parsed(full(e))["away"] == true);
  CHECK(parsed(delta(e, kFieldAway)) == json{{"id", 201}, {"away", true}});
  e.state = "dead";
  e.respawn_tick = 1234;
  e.respawn_x = 10.25f;
  e.respawn_y = 20;
  const json j = parsed(delta(e, kFieldState));
  CHECK(j["state"] == "dead");
  CHECK(j["respawn_tick"] == 1234);
  CHECK(j["respawn_x"] == 10.3);
  CHECK(j["respawn_y"] == 20);
  CHECK_FALSE(parsed(delta(e, kFieldHp)).contains("respawn_tick"));
}

TEST_CASE("changed_fields notices a player going away or coming back", "[protocol][messages]") {
  EntityView e = sample_player();
  const WireEntity before = to_wire(e);
  e.away = true;
  CHECK(changed_fields(before, to_wire(e)) == kFieldAway);
}

TEST_CASE("append_entity_full leaves out the name of a nameless entity", "[protocol][messages]") {
  const std::string out = full(sample_monster());
  CHECK(out ==
        R"({"id":17,"kind":"wolf","max_hp":60,"x":1702.3,"y":1577.9,"hp":12,"state":"chase","facing":3.1,"score":0})");
  const json j = parsed(out);
  CHECK_FALSE(j.contains("name"));
}

TEST_CASE("append_entity_full escapes the name and kind", "[protocol][messages]") {
  EntityView e = sample_player();
  e.name = "a\"b\\c";
  const json j = parsed(full(e));
  CHECK(j["name"] == "a\"b\\c");
}

TEST_CASE("append_entity_full appends to what the buffer already holds", "[protocol][messages]") {
  std::string out = "prefix:";
  append_entity_full(out, sample_monster());
  CHECK(out.rfind("prefix:{\"id\":17,", 0) == 0);
}

TEST_CASE("append_entity_delta writes only the id and the requested fields", "[protocol][messages]") {
  const EntityView e = sample_monster();
  CHECK(delta(e, 0) == R"({"id":17})");
  CHECK(delta(e, kFieldPosition) == R"({"id":17,"x":1702.3,"y":1577.9})");
  CHECK(delta(e, kFieldHp) == R"({"id":17,"hp":12})");
  CHECK(delta(e, kFieldState) == R"({"id":17,"state":"chase"})");
  CHECK(delta(e, kFieldFacing) == R"({"id":17,"facing":3.1})");
  CHECK(delta(e, kFieldScore) == R"({"id":17,"score":0})");
  CHECK(delta(e, kFieldPosition | kFieldFacing) == R"({"id":17,"x":1702.3,"y":1577.9,"facing":3.1})");
  CHECK(delta(e, kFieldAll) == R"({"id":17,"x":1702.3,"y":1577.9,"hp":12,"state":"chase","facing":3.1,"score":0})");
}

TEST_CASE("every combination of delta fields is valid JSON with exactly those keys", "[protocol][messages]") {
  const EntityView e = sample_player();
  for (int fields = 0; fields <= kFieldAll; ++fields) {
    INFO("fields " << fields);
    const json j = parsed(delta(e, static_cast<std::uint8_t>(fields)));
    std::size_t expected = 1;
    CHECK(j["id"] == 201);
    if (fields & kFieldPosition) expected += 2;
    if (fields & kFieldHp) ++expected;
    if (fields & kFieldState) ++expected;
    if (fields & kFieldFacing) ++expected;
    if (fields & kFieldScore) ++expected;
    if (fields & kFieldAway) ++expected;
    CHECK(j.size() == expected);
    CHECK(j.contains("x") == ((fields & kFieldPosition) != 0));
    CHECK(j.contains("y") == ((fields & kFieldPosition) != 0));
    CHECK(j.contains("hp") == ((fields & kFieldHp) != 0));
    CHECK(j.contains("state") == ((fields & kFieldState) != 0));
    CHECK(j.contains("facing") == ((fields & kFieldFacing) != 0));
    CHECK(j.contains("score") == ((fields & kFieldScore) != 0));
    CHECK_FALSE(j.contains("kind"));
    CHECK_FALSE(j.contains("name"));
  }
}

TEST_CASE("positions keep one decimal and facing two, without trailing zeros", "[protocol][messages]") {
  EntityView e = sample_monster();
  e.x = 10.0f;
  e.y = 0.26f;
  e.facing = -1.5f;
  CHECK(delta(e, kFieldPosition | kFieldFacing) == R"({"id":17,"x":10,"y":0.3,"facing":-1.5})");
  e.x = 100.04f;
  e.y = -3199.96f;
  e.facing = 1.999f;
  CHECK(delta(e, kFieldPosition | kFieldFacing) == R"({"id":17,"x":100,"y":-3200,"facing":2})");
  e.x = 0.0f;
  e.y = 1000000.0f;
  e.facing = 0.1f;
  CHECK(delta(e, kFieldPosition | kFieldFacing) == R"({"id":17,"x":0,"y":1000000,"facing":0.1})");
}

TEST_CASE("numbers that round to zero are written 0, never -0", "[protocol][messages]") {
  EntityView e = sample_monster();
  e.x = -0.0f;
  e.y = -0.04f;
  e.facing = -0.004f;
  const std::string out = delta(e, kFieldPosition | kFieldFacing);
  CHECK(out == R"({"id":17,"x":0,"y":0,"facing":0})");
  CHECK(out.find("-0") == std::string::npos);
  EventView ev{"attack", 1, 2, 3, -0.01f, -0.0f};
  std::string event;
  append_event(event, ev);
  CHECK(event.find("-0") == std::string::npos);
}

TEST_CASE("negative hp and score are written as integers", "[protocol][messages]") {
  EntityView e = sample_monster();
  e.hp = -5;
  e.score = -2147483647 - 1;
  CHECK(delta(e, kFieldHp | kFieldScore) == R"({"id":17,"hp":-5,"score":-2147483648})");
}

TEST_CASE("append_event writes type, attacker, target, damage and the rounded place", "[protocol][messages]") {
  std::string out;
  append_event(out, EventView{"attack", 17, 201, 8, 1610.54f, 1588.0f});
  CHECK(out == R"({"type":"attack","attacker":17,"target":201,"damage":8,"x":1610.5,"y":1588})");
  const json j = parsed(out);
  CHECK(j["type"] == "attack");
  CHECK(j["damage"] == 8);
}

TEST_CASE("append_event carries the largest ids", "[protocol][messages]") {
  std::string out;
  append_event(out, EventView{"death", 4294967295u, 4294967294u, 0, 0, 0});
  const json j = parsed(out);
  CHECK(j["attacker"].get<std::uint64_t>() == 4294967295u);
  CHECK(j["target"].get<std::uint64_t>() == 4294967294u);
}

// ---- tick frames ------------------------------------------------------------------------------

TEST_CASE("TickFrameWriter gives valid JSON for every mix of empty and filled sections", "[protocol][messages]") {
  std::string entity_a, entity_b, event_a;
  append_entity_full(entity_a, sample_player());
  append_entity_delta(entity_b, sample_monster(), kFieldHp);
  append_event(event_a, EventView{"death", 201, 17, 12, 1702.3f, 1577.9f});

  for (int mask = 0; mask < 8; ++mask) {
    for (int count = 1; count <= 2; ++count) {
      const bool with_entities = mask & 1, with_removed = mask & 2, with_events = mask & 4;
      INFO("entities " << with_entities << " removed " << with_removed << " events " << with_events << " x" << count);
      std::string out = "stale bytes from the last frame";
      TickFrameWriter w;
      w.begin(out, 1234, 1731412345678, 3);
      if (with_entities) {
        w.add_entity(entity_a);
        if (count == 2) w.add_entity(entity_b);
      }
      if (with_removed) {
        w.add_removed(88);
        if (count == 2) w.add_removed(4294967295u);
      }
      if (with_events) {
        w.add_event(event_a);
        if (count == 2) w.add_event(event_a);
      }
      w.finish();

      const json j = parsed(out);
      CHECK(j["type"] == "tick");
      CHECK(j["tick"] == 1234);
      CHECK(j["ts"] == 1731412345678);
      CHECK(j["players"] == 3);
      CHECK(j.size() == 7);
      REQUIRE(j["entities"].is_array());
      REQUIRE(j["removed"].is_array());
      REQUIRE(j["events"].is_array());
      CHECK(j["entities"].size() == (with_entities ? static_cast<std::size_t>(count) : 0u));
      CHECK(j["removed"].size() == (with_removed ? static_cast<std::size_t>(count) : 0u));
      CHECK(j["events"].size() == (with_events ? static_cast<std::size_t>(count) : 0u));
      if (with_entities) CHECK(j["entities"][0] == parsed(entity_a));
      if (with_entities && count == 2) CHECK(j["entities"][1] == parsed(entity_b));
      if (with_removed) CHECK(j["removed"][0] == 88);
      if (with_removed && count == 2) CHECK(j["removed"][1] == 4294967295u);
      if (with_events) CHECK(j["events"][0] == parsed(event_a));
    }
  }
}

TEST_CASE("an empty tick frame is exactly the header and three empty arrays", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  w.begin(out, 0, 0, 0);
  w.finish();
  CHECK(out == R"({"type":"tick","tick":0,"ts":0,"players":0,"entities":[],"removed":[],"events":[]})");
}

TEST_CASE("a resync frame says \"full\":true after players; other frames leave it out", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  w.begin(out, 5, 6, 7, true);
  w.add_entity(R"({"id":1})");
  w.finish();
  CHECK(out == R"({"type":"tick","tick":5,"ts":6,"players":7,"full":true,"entities":[{"id":1}],"removed":[],"events":[]})");
  CHECK(parsed(out)["full"] == true);
  w.begin(out, 5, 6, 7, false);
  w.finish();
  CHECK_FALSE(parsed(out).contains("full"));
  w.begin(out, 5, 6, 7);
  w.finish();
  CHECK_FALSE(parsed(out).contains("full"));
}

TEST_CASE("a frame that acknowledges an input says its seq and tick after players", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  const InputAck ack{4294967295u, 998};
  w.begin(out, 1000, 6, 7, true, &ack);
  w.finish();
  CHECK(out == R"({"type":"tick","tick":1000,"ts":6,"players":7,"full":true,"ack":{"seq":4294967295,"tick":998},"entities":[],"removed":[],"events":[]})");
  w.begin(out, 1000, 6, 7, false, nullptr);
  w.finish();
  CHECK_FALSE(parsed(out).contains("ack"));
}

TEST_CASE("TickFrameWriter copies the pre-encoded pieces byte for byte", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  w.begin(out, 7, 8, 9);
  w.add_entity(R"({"id":1})");
  w.add_entity(R"({"id":2,"hp":3})");
  w.add_removed(5);
  w.add_event(R"({"type":"respawn","attacker":0,"target":1,"damage":0,"x":1,"y":2})");
  w.finish();
  CHECK(out ==
        R"({"type":"tick","tick":7,"ts":8,"players":9,"entities":[{"id":1},{"id":2,"hp":3}],"removed":[5],)"
        R"("events":[{"type":"respawn","attacker":0,"target":1,"damage":0,"x":1,"y":2}]})");
}

TEST_CASE("TickFrameWriter can be reused for the next frame", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  w.begin(out, 1, 1, 1);
  w.add_removed(3);
  w.finish();
  w.begin(out, 2, 2, 1);
  w.add_entity(R"({"id":4})");
  w.finish();
  const json j = parsed(out);
  CHECK(j["tick"] == 2);
  CHECK(j["entities"] == json::array({json{{"id", 4}}}));
  CHECK(j["removed"] == json::array());
}

TEST_CASE("TickFrameWriter writes the largest tick number", "[protocol][messages]") {
  std::string out;
  TickFrameWriter w;
  w.begin(out, 9007199254740993ull, -1, 0);
  w.finish();
  CHECK(out.find(R"("tick":9007199254740993,"ts":-1,)") != std::string::npos);
  CHECK(parsed(out)["tick"].get<std::uint64_t>() == 9007199254740993ull);
}

// ---- append_json_string -----------------------------------------------------------------------

TEST_CASE("append_json_string quotes plain text as is", "[protocol][messages]") {
  CHECK(json_string("") == R"("")");
  CHECK(json_string("alice") == R"("alice")");
  CHECK(json_string("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
}

TEST_CASE("append_json_string escapes quotes and backslashes", "[protocol][messages]") {
  CHECK(json_string(R"(a"b)") == R"("a\"b")");
  CHECK(json_string(R"(a\b)") == R"("a\\b")");
  CHECK(json_string(R"(\")") == R"("\\\"")");
}

TEST_CASE("append_json_string escapes every control character as \\u00XX", "[protocol][messages]") {
  CHECK(json_string("\n") == R"("\u000a")");
  CHECK(json_string(std::string(1, '\0')) == R"("\u0000")");
  CHECK(json_string("\x1f") == R"("\u001f")");
  CHECK(json_string("\t\r") == R"("\u0009\u000d")");
  for (int c = 0; c < 0x20; ++c) {
    const std::string s(1, static_cast<char>(c));
    INFO("char " << c);
    const json j = parsed(json_string(s));
    CHECK(j.get<std::string>() == s);
  }
}

TEST_CASE("append_json_string output parses back to the input", "[protocol][messages]") {
  const std::string tricky = "q\"b\\s/\x01\x7f\xE2\x82\xAC end";
  const json j = parsed(json_string(tricky));
  CHECK(j.get<std::string>() == tricky);
}

TEST_CASE("append_json_string appends to the buffer", "[protocol][messages]") {
  std::string out = "x=";
  append_json_string(out, "y");
  CHECK(out == "x=\"y\"");
}

TEST_CASE("a NUL byte anywhere makes a message bad_json, whatever follows it", "[protocol][messages]") {
  // nlohmann's parser stops at a NUL as at the end of its input: both paths are guarded.
  using namespace std::string_literals;
  CHECK(error_code("{\"type\":\"input\",\"move\":[1,0]}\0"s) == "bad_json");
  CHECK(error_code("{\"type\":\"ping\"}\0{\"type\":\"leave\"}"s) == "bad_json");
  CHECK(error_code("{\"type\":\"join\",\"name\":\"a\0b\"}"s) == "bad_json");
  CHECK(parse_client_json("{\"name\":\"a\"}\0"s).is_discarded());
  CHECK(parse_client_json(R"({"name":"a"})").is_object());
  CHECK(parse_client_json(R"({"name":"a\u0000"})").is_object());  // escaped, it is JSON
}
