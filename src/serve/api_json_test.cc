// Tests of the serve API's JSON shapes: the hand-written stream form of a
// cycle equals the JSON-tree form, field for field.
#include "serve/api_json.h"

#include <gtest/gtest.h>

namespace gcpilot::serve {
namespace {

TEST(ApiJson, CycleEventTextEqualsTheTreeForm) {
  GcCycle g;
  g.number = 42;
  g.start_ns = 123'456'789'012;
  g.sweep_term_ns = 31'000;
  g.mark_ns = 1'200'000;
  g.mark_term_ns = 47'000;
  g.cpu = {62'000, 13'000, 410'000, 170'000, 96'000};
  g.heap_start_bytes = 3 << 20;
  g.heap_end_bytes = 4 << 20;
  g.heap_live_bytes = 3 << 20;
  g.heap_goal_bytes = 4 << 20;
  g.allocated_bytes = 1 << 20;
  g.gomaxprocs = 8;
  g.trigger = GcTrigger::kForced;
  g.source = EventSource::kEbpf;
  for (bool with_optionals : {false, true}) {
    if (with_optionals) {
      g.stacks_bytes = 8192;
      g.globals_bytes = 4096;
      g.cpu_percent_since_start = 13;
    }
    StoredCycle c{7, CompactCycle::From(g)};
    WallClockMap wall(1'700'000'000'000'000'000);
    nlohmann::json text = nlohmann::json::parse(CycleEventText(ProcessKey{4242, 3}, c, wall));
    nlohmann::json tree = {{"pid", 4242}, {"generation", 3}, {"cycle", CycleToApiJson(c, wall)}};
    EXPECT_EQ(text, tree) << text.dump() << "\n" << tree.dump();
  }
}

}  // namespace
}  // namespace gcpilot::serve
