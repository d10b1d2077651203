// What a transport adapter (WebSocket viewers, polling sessions) may ask of the game:
// viewers come and go, and their messages, decoded once at the transport's edge, go in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "game/game_config.h"
#include "protocol/game_messages.h"
#include "server/viewer.h"

namespace skirmish::server {

struct GameStats {
  std::uint64_t bad_messages = 0;
  std::uint64_t binary_messages = 0;
  std::uint64_t joins = 0;
  std::uint64_t joins_refused = 0;  // the world was full (game.max_players)
  std::uint64_t resumes = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t sessions_refused = 0;  // over polling.max_sessions or max_sessions_per_ip
  std::uint64_t polls = 0;
  std::uint64_t long_polls = 0;
  std::uint64_t backlog_resyncs = 0;  // backlogs over the cap, coalesced into a full frame
};

class GamePort {
 public:
  virtual ~GamePort() = default;
  // A viewer looking at (x, y), clamped to the world; its frames and replies go to `sink`.
  // `world` names the world it wants (pinned: a plain join stays there, and is refused when it
  // is full); empty: the game places it, and may move it to another world when it joins. A
  // join with the token of a player in another world moves it there either way. 0: no world
  // has that name. `seat`: the seat reservation the fleet placed it with ("" for none).
  // `from`: its client's address, which holds at most server.max_connections_per_ip players
  // away (waiting for their tokens) in a world at once.
  virtual ViewerId open_viewer(ViewerSink& sink, float x, float y, std::string_view world, std::string_view seat,
                               std::string_view from) = 0;
  // Its transport is gone: its player (if any) waits for its token, for the reconnect window.
  virtual void close_viewer(ViewerId id) = 0;
  // A message from the viewer; answers go to its sink.
  virtual void handle(ViewerId id, protocol::ClientMsg& message) = 0;
  // A message that did not decode: answered with an error, and counted against the viewer.
  virtual void reject(ViewerId id, const protocol::DecodeError& error) = 0;
  // Whether the viewer controls a player now.
  virtual bool has_player(ViewerId id) = 0;
  // The hello message (JSON) of the viewer's world, encoded once. A viewer moved to another
  // world is sent that world's hello through its sink.
  virtual const std::string& hello(ViewerId id) const = 0;
  virtual const game::GameConfig& world_config() const = 0;
  // Random 128-bit hex: reconnect tokens and polling session ids.
  virtual std::string new_token() = 0;
  virtual GameStats& stats() = 0;
};

}  // namespace skirmish::server
