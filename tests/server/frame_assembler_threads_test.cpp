// One encoded tick, frames built on several threads at once: between prepare_views() and
// the next encode_tick() a GameBridge is only read (but for the pieces Shared assemblers
// offer each other), so two FrameAssemblers on two threads (each with its own viewers) must
// build exactly the bytes one assembler builds alone, tick after tick, in both formats and at
// every send rate, and when they share pieces encode each about once between them. Run under
// ThreadSanitizer by the test command (label "threads"), this also shows that nothing shared
// is written unordered while they build.
#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

#include "game/world.h"
#include "server/game_bridge.h"

using namespace skirmish;

namespace {

struct ViewerState {
  float x = 0, y = 0;
  game::EntityId player = 0;
  server::FrameFormat format = server::FrameFormat::Json;
  int every = 1;  // served every this many ticks
  std::vector<game::EntityId> known;
  server::FrameHistory history;
  server::Stamp last = 0;
};

// Builds the frames of the viewers with (index / 2) % stride == offset, due at tick i (pairs,
// so that each group holds both formats).
void build(server::FrameAssembler& assembler, const server::GameBridge& bridge, const game::World& world,
           std::vector<ViewerState>& viewers, std::vector<std::string>& out, int i, std::size_t offset,
           std::size_t stride) {
  for (std::size_t v = 0; v < viewers.size(); ++v) {
    if ((v / 2) % stride != offset) continue;
    ViewerState& s = viewers[v];
    out[v].clear();
    if (i % s.every != static_cast<int>(v % static_cast<std::size_t>(s.every))) continue;
    float cx = s.x, cy = s.y;
    if (s.player != 0) {
      if (const game::Entity* me = world.find(s.player)) {
        cx = me->x;
        cy = me->y;
      }
    }
    const bool binary = s.format == server::FrameFormat::Binary;
    assembler.build_frame(bridge, cx, cy, s.known, s.last, out[v], false, s.format, binary ? &s.history : nullptr);
    s.last = bridge.stamp();
  }
}

// A world with 120 viewers (three in four play) in both formats, served every 1st to 3rd tick.
struct Scene {
  game::GameConfig cfg;
  game::World world;
  server::GameBridge bridge;
  std::vector<game::EntityId> players;
  std::vector<ViewerState> viewers;

  static game::GameConfig config() {
    game::GameConfig cfg;
    cfg.world_width = cfg.world_height = 3000;
    cfg.monster_count = 400;
    cfg.obstacle_count = 4;
    return cfg;
  }
  Scene() : cfg(config()), world(cfg, 11), bridge(world, 500) {
    for (int p = 0; p < 120; ++p) {
      const float x = 200 + static_cast<float>((p * 397) % 2600), y = 200 + static_cast<float>((p * 211) % 2600);
      ViewerState s;
      s.x = x;
      s.y = y;
      if (p % 4 != 3) {
        s.player = world.add_player_at("p" + std::to_string(p), x, y);
        REQUIRE(s.player != 0);
        players.push_back(s.player);
      }
      s.format = p % 2 == 0 ? server::FrameFormat::Binary : server::FrameFormat::Json;
      s.every = 1 + p % 3;
      viewers.push_back(s);
    }
  }
  void step(int i) {
    std::vector<game::PlayerInput> inputs;
    for (std::size_t p = 0; p < players.size(); ++p) {
      const float a = static_cast<float>(i) * 0.05f + static_cast<float>(p);
      inputs.push_back({players[p], std::cos(a), std::sin(a), (i + static_cast<int>(p)) % 5 == 0});
    }
    if (i == 120) world.remove_player(players[7]);  // an entity slot changes hands mid-run
    world.step(inputs);
    bridge.encode_tick(1'700'000'000'000 + i * 50, players.size());
    bridge.prepare_views();
  }
};

}  // namespace

TEST_CASE("two assemblers on two threads build the bytes one builds alone", "[server][threads]") {
  const auto sharing = GENERATE(server::FrameAssembler::Sharing::Alone, server::FrameAssembler::Sharing::Shared);
  INFO("shared " << (sharing == server::FrameAssembler::Sharing::Shared));
  Scene scene;
  std::vector<ViewerState>& alone = scene.viewers;
  std::vector<ViewerState> shared = alone;

  server::FrameAssembler one, first(sharing), second(sharing);
  std::vector<std::string> out_alone(alone.size()), out_shared(shared.size());
  std::size_t frames = 0, bytes = 0;
  for (int i = 0; i < 240; ++i) {
    INFO("tick " << i);
    scene.step(i);
    build(one, scene.bridge, scene.world, alone, out_alone, i, 0, 1);
    std::thread a([&] { build(first, scene.bridge, scene.world, shared, out_shared, i, 0, 2); });
    std::thread b([&] { build(second, scene.bridge, scene.world, shared, out_shared, i, 1, 2); });
    a.join();
    b.join();
    for (std::size_t v = 0; v < alone.size(); ++v) {
      INFO("viewer " << v);
      REQUIRE(out_shared[v] == out_alone[v]);
      REQUIRE(shared[v].known == alone[v].known);
      frames += out_alone[v].empty() ? 0 : 1;
      bytes += out_alone[v].size();
    }
  }
  // The run built real frames in both formats (not 240 empty ticks).
  CHECK(frames > 240 * 60);
  CHECK(bytes > frames * 20);
}

TEST_CASE("shared assemblers encode a tick's pieces once between them", "[server][threads]") {
  // One after the other (no race to encode the same piece): the second finds what the first
  // encoded. Alone, each encodes the pieces of every entity its viewers see.
  Scene scene;
  using Sharing = server::FrameAssembler::Sharing;
  std::vector<ViewerState> copies[3] = {scene.viewers, scene.viewers, scene.viewers};
  std::vector<std::string> out[3];
  for (auto& o : out) o.resize(scene.viewers.size());
  server::FrameAssembler one, first(Sharing::Shared), second(Sharing::Shared), first_alone, second_alone;
  std::size_t one_bytes = 0, shared_bytes = 0, alone_bytes = 0;
  for (int i = 0; i < 60; ++i) {
    INFO("tick " << i);
    scene.step(i);
    build(one, scene.bridge, scene.world, copies[0], out[0], i, 0, 1);
    build(first, scene.bridge, scene.world, copies[1], out[1], i, 0, 2);
    build(second, scene.bridge, scene.world, copies[1], out[1], i, 1, 2);
    build(first_alone, scene.bridge, scene.world, copies[2], out[2], i, 0, 2);
    build(second_alone, scene.bridge, scene.world, copies[2], out[2], i, 1, 2);
    REQUIRE(out[1] == out[0]);
    REQUIRE(out[2] == out[0]);
    one_bytes += one.encoded_bytes();
    shared_bytes += first.encoded_bytes() + second.encoded_bytes();
    alone_bytes += first_alone.encoded_bytes() + second_alone.encoded_bytes();
  }
  INFO("one " << one_bytes << ", two sharing " << shared_bytes << ", two alone " << alone_bytes);
  REQUIRE(one_bytes > 60 * 1000);
  // Sharing, two encode about what one does (a little more: the table keeps two field sets of
  // a delta or tail, and these viewers, served every 1st to 3rd tick, ask for up to three; a
  // third is cached per assembler).
  // Alone, the pieces of every entity both groups see, twice (a quarter more here).
  CHECK(shared_bytes < one_bytes + one_bytes / 20);
  CHECK(alone_bytes > one_bytes + one_bytes / 5);
}
