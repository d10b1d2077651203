// libFuzzer target: the game message decoder takes any text a client sends and answers a
// message or a DecodeError; the encoders' output for what it decoded must be valid JSON; and
// the text path (inputs read without a DOM) answers exactly what the parsed-JSON path does.
#include <cstdlib>
#include <cstring>
#include <variant>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/game_messages.h"

using namespace skirmish::protocol;

namespace {

bool same_answer(const std::variant<ClientMsg, DecodeError>& a, const std::variant<ClientMsg, DecodeError>& b) {
  if (a.index() != b.index()) return false;
  if (const auto* ea = std::get_if<DecodeError>(&a)) {
    const auto& eb = std::get<DecodeError>(b);
    return ea->code == eb.code && ea->message == eb.message;
  }
  const auto& ma = std::get<ClientMsg>(a);
  const auto& mb = std::get<ClientMsg>(b);
  if (ma.index() != mb.index()) return false;
  if (const auto* ia = std::get_if<InputMsg>(&ma)) {
    const auto& ib = std::get<InputMsg>(mb);
    // Bitwise: -0.0 and 0.0 must not differ either.
    return ia->seq == ib.seq && ia->attack == ib.attack && std::memcmp(&ia->dx, &ib.dx, sizeof ia->dx) == 0 &&
           std::memcmp(&ia->dy, &ib.dy, sizeof ia->dy) == 0;
  }
  return true;  // the other types come from the same DOM code on both paths
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = decode_client_message(text);
  if (size <= 4096) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      const auto* err = std::get_if<DecodeError>(&result);
      if (err == nullptr || err->code != "bad_json") std::abort();
    } else if (!same_answer(result, decode_client_message(j))) {
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
