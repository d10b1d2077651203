// Whether two answers of decode_client_message are the same answer: the same error (code and
// message) or the same message, field by field, floats bit for bit (so -0.0 is not 0.0). The
// text path reads inputs without a DOM; the unit test and the fuzzer hold it to the DOM path's
// answers with this one comparison.
#pragma once

#include <cstring>
#include <variant>

#include "protocol/game_messages.h"

namespace skirmish::testing {

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

inline bool decoded_alike(const std::variant<protocol::ClientMsg, protocol::DecodeError>& a,
                          const std::variant<protocol::ClientMsg, protocol::DecodeError>& b) {
  using namespace protocol;
  if (a.index() != b.index()) return false;
  if (const auto* ea = std::get_if<DecodeError>(&a)) {
    const auto& eb = std::get<DecodeError>(b);
    return ea->code == eb.code && ea->message == eb.message;
  }
  const ClientMsg& ma = std::get<ClientMsg>(a);
  const ClientMsg& mb = std::get<ClientMsg>(b);
  if (ma.index() != mb.index()) return false;
  if (const auto* ia = std::get_if<InputMsg>(&ma)) {
    const auto& ib = std::get<InputMsg>(mb);
    return ia->seq == ib.seq && ia->attack == ib.attack && same_bits(ia->dx, ib.dx) && same_bits(ia->dy, ib.dy);
  }
  if (const auto* ja = std::get_if<JoinMsg>(&ma)) {
    const auto& jb = std::get<JoinMsg>(mb);
    return ja->name == jb.name && ja->token == jb.token;
  }
  if (const auto* pa = std::get_if<PingMsg>(&ma)) return same_bits(pa->t, std::get<PingMsg>(mb).t);
  if (const auto* wa = std::get_if<WatchMsg>(&ma)) {
    const auto& wb = std::get<WatchMsg>(mb);
    return same_bits(wa->x, wb.x) && same_bits(wa->y, wb.y);
  }
  return true;  // LeaveMsg has no fields
}

}  // namespace skirmish::testing
