// libFuzzer target: the game message decoder takes any text a client sends and answers a
// message or a DecodeError; the encoders' output for what it decoded must be valid JSON; and
// the text path (inputs read without a DOM) answers exactly what the parsed-JSON path does.
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/game_messages.h"
#include "tests/support/decoded_alike.h"

using namespace skirmish::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = decode_client_message(text);
  if (size <= 4096) {
    // (Parsed as a client's JSON is: nlohmann alone stops at a NUL and takes what came before.)
    const auto j = parse_client_json(text);
    if (j.is_discarded()) {
      const auto* err = std::get_if<DecodeError>(&result);
      if (err == nullptr || err->code != "bad_json") std::abort();
    } else if (!skirmish::testing::decoded_alike(result, decode_client_message(j))) {
      std::abort();
    }
  }
  if (auto* err = std::get_if<DecodeError>(&result)) {
    if (err->code.empty() || err->message.empty()) std::abort();
    const auto reply = nlohmann::json::parse(encode_error(err->code, err->message), nullptr, false);
    if (reply.is_discarded()) std::abort();
    return 0;
  }
  auto& msg = std::get<ClientMsg>(result);
  if (auto* join = std::get_if<JoinMsg>(&msg)) {
    if (join->name.empty() || join->name.size() > kMaxNameBytes) std::abort();
    std::string out;
    append_entity_full(out, EntityView{1, "player", 0, 0, 0, 1, 1, 0, "idle", join->name});
    if (nlohmann::json::parse(out, nullptr, false).is_discarded()) std::abort();
  }
  if (auto* input = std::get_if<InputMsg>(&msg)) {
    if (!(input->dx >= -1 && input->dx <= 1 && input->dy >= -1 && input->dy <= 1)) std::abort();
  }
  return 0;
}
