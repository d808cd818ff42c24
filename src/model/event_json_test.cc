// Tests for the JSON-lines event codec: round trips of every event type,
// version checks and clear errors on bad input.
#include "model/event_json.h"

#include <gtest/gtest.h>

namespace gcpilot {
namespace {

Event Roundtrip(const Event& e) {
  std::string line = EventToJsonLine(e);
  StatusOr<std::optional<Event>> back = EventFromJsonLine(line);
  EXPECT_TRUE(back.ok()) << back.status().ToString() << " " << line;
  if (!back.ok() || !back->has_value()) return Event{};
  EXPECT_EQ(EventToJsonLine(**back), line);
  return **back;
}

TEST(EventJson, CycleRoundTripsWithEveryField) {
  GcCycle c;
  c.number = 42;
  c.start_ns = 123456789;
  c.sweep_term_ns = 34000;
  c.mark_ns = 670000;
  c.mark_term_ns = 48000;
  c.cpu = {1, 2, 3, 4, 5};
  c.heap_start_bytes = 3 << 20;
  c.heap_end_bytes = 4 << 20;
  c.heap_live_bytes = 2 << 20;
  c.heap_goal_bytes = 5 << 20;
  c.stacks_bytes = 1 << 20;
  c.allocated_bytes = 77;
  c.byte_resolution = 1 << 20;
  c.gomaxprocs = 8;
  c.trigger = GcTrigger::kForced;
  c.cpu_percent_since_start = 3;
  c.pacer_start = PacerStart{0.5, 1, 2, 3, 4, 0.25};
  c.pacer_end = PacerEnd{};
  c.pacer_end->goal_delta_bytes = -5;
  c.source = EventSource::kGctrace;
  Event e;
  e.ts_ns = 99;
  e.process = {1234, 2};
  e.source = EventSource::kGctrace;
  e.payload = GcCycleObserved{c};
  Event back = Roundtrip(e);
  ASSERT_TRUE(std::holds_alternative<GcCycleObserved>(back.payload));
  const GcCycle& b = std::get<GcCycleObserved>(back.payload).cycle;
  EXPECT_EQ(b.number, 42u);
  EXPECT_EQ(b.pause_ns(), 82000);
  EXPECT_EQ(b.stacks_bytes, uint64_t{1} << 20);
  EXPECT_FALSE(b.globals_bytes.has_value());
  EXPECT_EQ(b.trigger, GcTrigger::kForced);
  EXPECT_EQ(b.pacer_end->goal_delta_bytes, -5);
  EXPECT_EQ(back.process, (ProcessKey{1234, 2}));
}

TEST(EventJson, EveryPayloadTypeRoundTrips) {
  std::vector<EventPayload> payloads = {
      ProcessSeen{{"svc", "/bin/svc", "go1.23.5", "abc", 4}},
      ProcessExited{3, 0},
      PacerStartObserved{PacerStart{}},
      PacerEndObserved{PacerEnd{}},
      PacerSweepDoneObserved{PacerSweepDone{1, 2, 3, 0.5}},
      TimeTriggerObserved{},
      StwObserved{StwPause{10, 20, StwKind::kOther, StwReason::kReadMemStats, 0}},
      InputProblem{7, "bad", "gc 1 @"},
  };
  for (const EventPayload& p : payloads) {
    Event e;
    e.payload = p;
    Event back = Roundtrip(e);
    EXPECT_EQ(back.payload.index(), p.index());
  }
}

TEST(EventJson, RejectsBadInputClearly) {
  EXPECT_FALSE(EventFromJsonLine("not json").ok());
  EXPECT_FALSE(EventFromJsonLine("[1,2]").ok());
  EXPECT_FALSE(EventFromJsonLine(R"({"v":1})").ok());
  StatusOr<std::optional<Event>> future = EventFromJsonLine(R"({"type":"gc_cycle","v":99})");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.status().message().find("version 99"), std::string::npos);
  StatusOr<std::optional<Event>> missing =
      EventFromJsonLine(R"({"type":"gc_cycle","v":1,"ts_ns":0})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing field"), std::string::npos);
  StatusOr<std::optional<Event>> wrong =
      EventFromJsonLine(R"({"type":"stw_pause","v":1,"ts_ns":0,"start_ns":1,"duration_ns":2,)"
                        R"("kind":"bogus","reason":"unknown"})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("bogus"), std::string::npos);
}

// Inputs the fuzzer found: out-of-range numbers must be errors, not casts.
TEST(EventJson, OutOfRangeNumbersAreErrors) {
  const std::string base =
      R"({"type":"gc_cycle","v":1,"ts_ns":0,"gc":1,"start_ns":0,"sweep_term_ns":1,"mark_ns":1,)"
      R"("cpu_sweep_term_ns":0,"cpu_assist_ns":0,"cpu_background_ns":0,"cpu_idle_ns":0,)"
      R"("cpu_mark_term_ns":0,"heap_start_bytes":0,"heap_end_bytes":0,"heap_goal_bytes":0,)";
  EXPECT_TRUE(EventFromJsonLine(base + R"("heap_live_bytes":5,"mark_term_ns":1})").ok());
  EXPECT_FALSE(
      EventFromJsonLine(base + R"("heap_live_bytes":31457292233720368547758078,"mark_term_ns":1})")
          .ok());
  EXPECT_FALSE(EventFromJsonLine(base + R"("heap_live_bytes":1.5,"mark_term_ns":1})").ok());
  EXPECT_FALSE(EventFromJsonLine(base + R"("heap_live_bytes":-1,"mark_term_ns":1})").ok());
  EXPECT_FALSE(
      EventFromJsonLine(base + R"("heap_live_bytes":1,"mark_term_ns":9223372036854775807})").ok());
}

TEST(EventJson, OtherObjectTypesAreNotEvents) {
  StatusOr<std::optional<Event>> s = EventFromJsonLine(R"({"type":"summary","v":1,"ts_ns":0})");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
}

}  // namespace
}  // namespace gcpilot
