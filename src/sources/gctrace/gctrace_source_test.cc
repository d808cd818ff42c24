// Tests for GctraceSource: event order, time base, restarts, duplicates and
// problems with line numbers.
#include "sources/gctrace/gctrace_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gcpilot::gctrace {
namespace {

std::string Line(int n, const char* at = "0.010") {
  return "gc " + std::to_string(n) + " @" + at +
         "s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.26/0.49+0.007 ms cpu, 4->4->1 MB, 5 MB "
         "goal, 0 MB stacks, 0 MB globals, 4 P";
}

struct Fixture {
  std::vector<Event> events;
  GctraceSource source;
  explicit Fixture(GctraceSource::Options o = {})
      : source(o, [this](const Event& e) { events.push_back(e); }) {}
  template <typename T>
  int Count() const {
    int n = 0;
    for (const Event& e : events) n += std::holds_alternative<T>(e.payload);
    return n;
  }
};

TEST(GctraceSource, EmitsProcessThenCyclesWithTimeBase) {
  GctraceSource::Options o;
  o.pid = 77;
  o.time_base_ns = 1'000'000'000;
  Fixture f(o);
  EXPECT_FALSE(f.source.OnLine("hello"));
  EXPECT_TRUE(f.source.OnLine(Line(1, "0.500")));
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ProcessSeen>(f.events[0].payload));
  const GcCycle& c = std::get<GcCycleObserved>(f.events[1].payload).cycle;
  EXPECT_EQ(c.start_ns, 1'500'000'000);
  EXPECT_EQ(f.events[1].process.pid, 77);
  EXPECT_EQ(f.events[1].ts_ns, c.end_ns());
}

TEST(GctraceSource, CounterGoingBackwardsStartsANewGeneration) {
  Fixture f;
  f.source.OnLine(Line(1));
  f.source.OnLine(Line(2));
  f.source.OnLine(Line(1));
  EXPECT_EQ(f.source.stats().restarts, 1u);
  EXPECT_EQ(f.Count<ProcessSeen>(), 2);
  EXPECT_EQ(f.events.back().process.generation, 1u);
}

TEST(GctraceSource, DuplicateLineIsIgnoredAndReported) {
  Fixture f;
  f.source.OnLine(Line(1));
  f.source.OnLine(Line(2));
  f.source.OnLine(Line(2));
  EXPECT_EQ(f.Count<GcCycleObserved>(), 2);
  EXPECT_EQ(f.source.stats().duplicates, 1u);
  EXPECT_EQ(f.Count<InputProblem>(), 1);
}

TEST(GctraceSource, MalformedLineIsReportedWithItsLineNumber) {
  Fixture f;
  f.source.OnLine("starting");
  f.source.OnLine("gc 1 @0.1s 5%: 0.1+");
  ASSERT_EQ(f.Count<InputProblem>(), 1);
  const InputProblem& p = std::get<InputProblem>(f.events.back().payload);
  EXPECT_EQ(p.line_number, 2u);
  EXPECT_NE(p.problem.find("malformed"), std::string::npos);
  EXPECT_EQ(p.excerpt, "gc 1 @0.1s 5%: 0.1+");
  EXPECT_EQ(f.source.stats().malformed, 1u);
}

TEST(GctraceSource, TraceLineCutAtTheEndIsCountedNotAProblem) {
  Fixture f;
  f.source.OnLine(Line(1));
  f.source.OnLine("gc 2 @0.5s 3%: 0.1", /*unterminated_at_end=*/true);
  EXPECT_EQ(f.source.stats().cut_at_end, 1u);
  EXPECT_EQ(f.source.stats().malformed, 0u);
  EXPECT_EQ(f.Count<InputProblem>(), 0);
}

TEST(GctraceSource, OverlongLineIsCounted) {
  Fixture f;
  f.source.OnOverlongLine(10 << 20);
  EXPECT_EQ(f.source.stats().overlong_lines, 1u);
  ASSERT_EQ(f.Count<InputProblem>(), 1);
}

TEST(Excerpt, HidesControlBytesAndCuts) {
  EXPECT_EQ(Excerpt("a\x01\xff", 10), "a??");
  EXPECT_EQ(Excerpt("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace gcpilot::gctrace
