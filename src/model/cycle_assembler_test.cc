// Tests for CycleAssembler: pacer lines attach to the following cycle of the
// same process, triggers are resolved, gaps are reported, allocation is
// estimated from heap sizes.
#include "model/cycle_assembler.h"

#include <gtest/gtest.h>

#include <vector>

namespace gcpilot {
namespace {

class RecordingSink : public ModelSink {
 public:
  void OnCycle(const ProcessKey& p, const GcCycle& c) override { cycles.push_back({p, c}); }
  void OnProblem(const ProcessKey&, const InputProblem& problem) override {
    problems.push_back(problem);
  }
  void OnProcessSeen(const ProcessKey& p, const ProcessInfo&, int64_t) override {
    seen.push_back(p);
  }
  std::vector<std::pair<ProcessKey, GcCycle>> cycles;
  std::vector<InputProblem> problems;
  std::vector<ProcessKey> seen;
};

Event Ev(ProcessKey key, EventPayload payload) {
  Event e;
  e.process = key;
  e.source = EventSource::kGctrace;
  e.payload = std::move(payload);
  return e;
}

GcCycle Cycle(uint64_t n, uint64_t end_mb, uint64_t live_mb,
              GcTrigger trigger = GcTrigger::kUnknown) {
  GcCycle c;
  c.number = n;
  c.heap_end_bytes = end_mb << 20;
  c.heap_live_bytes = live_mb << 20;
  c.trigger = trigger;
  return c;
}

TEST(CycleAssembler, PacerLinesAttachToTheNextCycleOfTheSameProcess) {
  RecordingSink sink;
  CycleAssembler a(&sink);
  ProcessKey p1{1, 0}, p2{2, 0};
  PacerStart ps;
  ps.assist_ratio = 0.5;
  PacerEnd pe;
  pe.cons_mark = 0.25;
  a.Consume(Ev(p1, PacerStartObserved{ps}));
  a.Consume(Ev(p2, GcCycleObserved{Cycle(1, 4, 2)}));  // Other process: no pacer.
  a.Consume(Ev(p1, PacerEndObserved{pe}));
  a.Consume(Ev(p1, GcCycleObserved{Cycle(1, 4, 2)}));
  a.Consume(Ev(p1, GcCycleObserved{Cycle(2, 6, 2)}));  // Pacer data is used once.
  ASSERT_EQ(sink.cycles.size(), 3u);
  EXPECT_FALSE(sink.cycles[0].second.pacer_start.has_value());
  ASSERT_TRUE(sink.cycles[1].second.pacer_start.has_value());
  EXPECT_DOUBLE_EQ(sink.cycles[1].second.pacer_start->assist_ratio, 0.5);
  ASSERT_TRUE(sink.cycles[1].second.pacer_end.has_value());
  EXPECT_DOUBLE_EQ(sink.cycles[1].second.pacer_end->cons_mark, 0.25);
  EXPECT_FALSE(sink.cycles[2].second.pacer_start.has_value());
  EXPECT_FALSE(sink.cycles[2].second.pacer_end.has_value());
}

TEST(CycleAssembler, ResolvesTriggers) {
  RecordingSink sink;
  CycleAssembler a(&sink);
  ProcessKey p{1, 0};
  a.Consume(Ev(p, GcCycleObserved{Cycle(1, 4, 2)}));
  a.Consume(Ev(p, TimeTriggerObserved{}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(2, 4, 2)}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(3, 4, 2, GcTrigger::kForced)}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(4, 4, 2)}));
  ASSERT_EQ(sink.cycles.size(), 4u);
  EXPECT_EQ(sink.cycles[0].second.trigger, GcTrigger::kHeap);
  EXPECT_EQ(sink.cycles[1].second.trigger, GcTrigger::kTime);
  EXPECT_EQ(sink.cycles[2].second.trigger, GcTrigger::kForced);
  EXPECT_EQ(sink.cycles[3].second.trigger, GcTrigger::kHeap);
}

TEST(CycleAssembler, EstimatesAllocationFromHeapSizes) {
  RecordingSink sink;
  CycleAssembler a(&sink);
  ProcessKey p{1, 0};
  a.Consume(Ev(p, GcCycleObserved{Cycle(1, 4, 1)}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(2, 9, 3)}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(3, 2, 1)}));  // Rounding: never negative.
  EXPECT_EQ(sink.cycles[0].second.allocated_bytes, 4u << 20);
  EXPECT_EQ(sink.cycles[1].second.allocated_bytes, 8u << 20);
  EXPECT_EQ(sink.cycles[2].second.allocated_bytes, 0u);
}

TEST(CycleAssembler, ReportsMissingCycles) {
  RecordingSink sink;
  CycleAssembler a(&sink);
  ProcessKey p{1, 0};
  a.Consume(Ev(p, GcCycleObserved{Cycle(1, 4, 1)}));
  a.Consume(Ev(p, GcCycleObserved{Cycle(5, 4, 1)}));
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].problem.find("3 GC cycle(s) missing before gc 5"), std::string::npos);
}

TEST(CycleAssembler, CycleInProgressAtExitIsNotAProblem) {
  RecordingSink sink;
  CycleAssembler a(&sink);
  ProcessKey p{1, 0};
  a.Consume(Ev(p, PacerStartObserved{PacerStart{}}));
  a.Consume(Ev(p, ProcessExited{0, 0}));
  EXPECT_EQ(sink.problems.size(), 0u);
  EXPECT_EQ(sink.cycles.size(), 0u);
  EXPECT_EQ(a.live_processes(), 0u);
}

}  // namespace
}  // namespace gcpilot
