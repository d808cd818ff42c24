// Tests for the gctrace / gcpacertrace line parser.
#include "sources/gctrace/gctrace_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace gcpilot::gctrace {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(GctraceParser, FullGo123Line) {
  ParsedLine p = ParseLine(
      "gc 2 @0.002s 13%: 0.034+0.67+0.048 ms clock, 0.068+0.013/0.41/0.17+0.096 ms cpu, "
      "3->4->3 MB, 4 MB goal, 1 MB stacks, 2 MB globals, 2 P");
  ASSERT_EQ(p.kind, LineKind::kGcCycle) << p.error << " @" << p.error_column;
  const GcCycle& c = p.cycle;
  EXPECT_EQ(c.number, 2u);
  EXPECT_EQ(c.start_ns, 2'000'000);
  EXPECT_EQ(c.cpu_percent_since_start, 13);
  EXPECT_EQ(c.sweep_term_ns, 34'000);
  EXPECT_EQ(c.mark_ns, 670'000);
  EXPECT_EQ(c.mark_term_ns, 48'000);
  EXPECT_EQ(c.cpu.sweep_term_ns, 68'000);
  EXPECT_EQ(c.cpu.assist_ns, 13'000);
  EXPECT_EQ(c.cpu.background_ns, 410'000);
  EXPECT_EQ(c.cpu.idle_ns, 170'000);
  EXPECT_EQ(c.cpu.mark_term_ns, 96'000);
  EXPECT_EQ(c.heap_start_bytes, 3 * kMiB);
  EXPECT_EQ(c.heap_end_bytes, 4 * kMiB);
  EXPECT_EQ(c.heap_live_bytes, 3 * kMiB);
  EXPECT_EQ(c.heap_goal_bytes, 4 * kMiB);
  EXPECT_EQ(c.stacks_bytes, 1 * kMiB);
  EXPECT_EQ(c.globals_bytes, 2 * kMiB);
  EXPECT_EQ(c.gomaxprocs, 2);
  EXPECT_EQ(c.trigger, GcTrigger::kUnknown);
  EXPECT_EQ(c.pause_ns(), 82'000);
  EXPECT_EQ(c.byte_resolution, kMiB);
}

TEST(GctraceParser, ForcedSuffixAndWholeMilliseconds) {
  ParsedLine p = ParseLine(
      "gc 14 @12.027s 10%: 12+250+3 ms clock, 24+0/69/21+6 ms cpu, 700->712->400 MB, 800 MB "
      "goal, 0 MB stacks, 0 MB globals, 16 P (forced)");
  ASSERT_EQ(p.kind, LineKind::kGcCycle);
  EXPECT_EQ(p.cycle.trigger, GcTrigger::kForced);
  EXPECT_EQ(p.cycle.start_ns, 12'027'000'000);
  EXPECT_EQ(p.cycle.sweep_term_ns, 12'000'000);
  EXPECT_EQ(p.cycle.mark_ns, 250'000'000);
  EXPECT_EQ(p.cycle.gomaxprocs, 16);
  EXPECT_EQ(p.cycle.heap_end_bytes, 712 * kMiB);
}

TEST(GctraceParser, OlderLineWithoutStacksAndGlobals) {
  ParsedLine p = ParseLine(
      "gc 1 @0.012s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.26/0.49+0.007 ms cpu, "
      "4->4->0 MB, 5 MB goal, 4 P");
  ASSERT_EQ(p.kind, LineKind::kGcCycle);
  EXPECT_FALSE(p.cycle.stacks_bytes.has_value());
  EXPECT_FALSE(p.cycle.globals_bytes.has_value());
  EXPECT_EQ(p.cycle.gomaxprocs, 4);
}

TEST(GctraceParser, UnknownFutureMbFieldIsSkipped) {
  ParsedLine p = ParseLine(
      "gc 3 @1.000s 1%: 0.01+0.2+0.01 ms clock, 0.02+0/0.1/0.1+0.02 ms cpu, 4->4->2 MB, 5 MB "
      "goal, 0 MB stacks, 0 MB globals, 7 MB arenas, 8 P");
  ASSERT_EQ(p.kind, LineKind::kGcCycle) << p.error;
  EXPECT_EQ(p.cycle.gomaxprocs, 8);
}

TEST(GctraceParser, PrefixedByLogTimestamps) {
  ParsedLine p = ParseLine(
      "2024-05-01T10:00:00.123456789Z stderr F gc 7 @3.5s 4%: 0.05+1.2+0.04 ms clock, "
      "0.1+0.2/0.3/0.4+0.08 ms cpu, 10->11->5 MB, 12 MB goal, 0 MB stacks, 0 MB globals, 2 P\r");
  ASSERT_EQ(p.kind, LineKind::kGcCycle) << p.error;
  EXPECT_EQ(p.cycle.number, 7u);
  EXPECT_EQ(p.cycle.start_ns, 3'500'000'000);
}

TEST(GctraceParser, PacerLines) {
  ParsedLine s =
      ParseLine("pacer: assist ratio=+5.459172e-001 (scan 1 MB in 7->8 MB) workers=2++2.5e-001");
  ASSERT_EQ(s.kind, LineKind::kPacerStart) << s.error << " @" << s.error_column;
  EXPECT_DOUBLE_EQ(s.pacer_start.assist_ratio, 0.5459172);
  EXPECT_EQ(s.pacer_start.heap_scan_bytes, kMiB);
  EXPECT_EQ(s.pacer_start.heap_live_start_bytes, 7 * kMiB);
  EXPECT_EQ(s.pacer_start.heap_goal_bytes, 8 * kMiB);
  EXPECT_EQ(s.pacer_start.dedicated_workers, 2);
  EXPECT_DOUBLE_EQ(s.pacer_start.fractional_utilization_goal, 0.25);

  ParsedLine e = ParseLine(
      "pacer: 35% CPU (25 exp.) for 147912+2032+147792 B work (379312 B exp.) in 7811640 B -> "
      "7926328 B (\xE2\x88\x86goal -580128, cons/mark +6.166612e-001)");
  ASSERT_EQ(e.kind, LineKind::kPacerEnd) << e.error << " @" << e.error_column;
  EXPECT_EQ(e.pacer_end.utilization_percent, 35);
  EXPECT_EQ(e.pacer_end.goal_utilization_percent, 25);
  EXPECT_EQ(e.pacer_end.heap_scan_work_bytes, 147912u);
  EXPECT_EQ(e.pacer_end.stack_scan_work_bytes, 2032u);
  EXPECT_EQ(e.pacer_end.globals_scan_work_bytes, 147792u);
  EXPECT_EQ(e.pacer_end.expected_scan_work_bytes, 379312u);
  EXPECT_EQ(e.pacer_end.trigger_heap_bytes, 7811640u);
  EXPECT_EQ(e.pacer_end.heap_live_bytes, 7926328u);
  EXPECT_EQ(e.pacer_end.goal_delta_bytes, -580128);
  EXPECT_DOUBLE_EQ(e.pacer_end.cons_mark, 0.6166612);
  EXPECT_FALSE(e.pacer_end.controller_reset);

  ParsedLine r = ParseLine(
      "pacer: 1% CPU (25 exp.) for 1+2+3 B work (4 B exp.) in 5 B -> 6 B (\xE2\x88\x86goal 7, "
      "cons/mark +0.000000e+000)[controller reset]");
  ASSERT_EQ(r.kind, LineKind::kPacerEnd);
  EXPECT_TRUE(r.pacer_end.controller_reset);

  ParsedLine w = ParseLine(
      "pacer: sweep done at heap size 9MB; allocated 1MB during sweep; swept 1234 pages at "
      "+1.5e-004 pages/byte");
  ASSERT_EQ(w.kind, LineKind::kPacerSweepDone) << w.error << " @" << w.error_column;
  EXPECT_EQ(w.sweep_done.heap_bytes, 9 * kMiB);
  EXPECT_EQ(w.sweep_done.allocated_during_sweep_bytes, kMiB);
  EXPECT_EQ(w.sweep_done.pages_swept, 1234u);
  EXPECT_DOUBLE_EQ(w.sweep_done.pages_per_byte, 1.5e-4);

  EXPECT_EQ(ParseLine("pacer: something new in Go 1.99").kind, LineKind::kPacerOther);
}

TEST(GctraceParser, TimeTriggerNotice) {
  EXPECT_EQ(ParseLine("GC forced").kind, LineKind::kTimeTrigger);
  EXPECT_EQ(ParseLine("Nov 26 12:00:00 host svc[12]: GC forced ").kind, LineKind::kTimeTrigger);
  EXPECT_EQ(ParseLine("GC forced by operator at noon").kind, LineKind::kNotTrace);
}

TEST(GctraceParser, ProgramOutputIsNotTrace) {
  for (const char* line : {"", "hello", "gc", "gc is great", "the gc 5 times", "xgc 1 @0.1s",
                           "logging: pacer:x", "gc 12", "gc 12 @ noon"}) {
    EXPECT_EQ(ParseLine(line).kind, LineKind::kNotTrace) << line;
  }
}

TEST(GctraceParser, TruncatedLinesAreMalformedWithColumn) {
  std::string full =
      "gc 2 @0.002s 13%: 0.034+0.67+0.048 ms clock, 0.068+0.013/0.41/0.17+0.096 ms cpu, "
      "3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P";
  // Every prefix that still has the "gc N @d" anchor must be malformed, never
  // accepted and never a crash; the full line parses.
  for (size_t n = 7; n < full.size(); ++n) {
    ParsedLine p = ParseLine(std::string_view(full).substr(0, n));
    EXPECT_EQ(p.kind, LineKind::kMalformed) << n;
    EXPECT_FALSE(p.error.empty());
    EXPECT_LE(p.error_column, n);
  }
  EXPECT_EQ(ParseLine(full).kind, LineKind::kGcCycle);
}

TEST(GctraceParser, RejectsAbsurdValues) {
  EXPECT_EQ(ParseLine("gc 1 @0.1s 1%: 9999999999999+1+1 ms clock, 1+1/1/1+1 ms cpu, 1->1->1 MB, "
                      "1 MB goal, 1 P")
                .kind,
            LineKind::kMalformed);
  EXPECT_EQ(ParseLine("gc 99999999999999999999999 @0.1s 1%: 1+1+1 ms clock").kind,
            LineKind::kMalformed);
  EXPECT_EQ(ParseLine("gc 1 @0.1s 1%: 1+1+1 ms clock, 1+1/1/1+1 ms cpu, 1->1->1 MB, 1 MB goal, "
                      "99999999 P")
                .kind,
            LineKind::kMalformed);
}

// Inputs the fuzzer found: each once overflowed an integer.
TEST(GctraceParser, FuzzRegressionsAreMalformedNotOverflowed) {
  EXPECT_EQ(ParseLine("gc 46 @99999999999s 1%: 1+1+1 ms clock, 1+1/1/1+1 ms cpu, 1->1->1 MB, 1 "
                      "MB goal, 1 P")
                .kind,
            LineKind::kMalformed);
  EXPECT_EQ(ParseLine("gc 1 @0.1s 1%: 1+1+1 ms clock, 1+1/1/1+1 ms cpu, 17592186044416->1->1 "
                      "MB, 1 MB goal, 1 P")
                .kind,
            LineKind::kMalformed);
  EXPECT_EQ(ParseLine("gc 1 @0.1s 1%: 1+1+1 ms clock, 1+1/1/1+1 ms cpu, 1->1->1 MB, 1 MB goal, "
                      "17592186044416 MB stacks, 1 P")
                .kind,
            LineKind::kMalformed);
  ParsedLine ok = ParseLine(
      "gc 1 @0.1s 1%: 1+1+1 ms clock, 1+1/1/1+1 ms cpu, 17592186044415->1->1 MB, 1 MB goal, 1 P");
  ASSERT_EQ(ok.kind, LineKind::kGcCycle);
  EXPECT_EQ(ok.cycle.heap_start_bytes, ((uint64_t{1} << 44) - 1) << 20);
}

// Every line of real logs from Go 1.19 and 1.23 is understood.
TEST(GctraceParser, RealLogsParseCompletely) {
  for (const char* name : {"go1.19-forced-and-heap.log", "go1.23-forced-and-heap.log"}) {
    std::ifstream in(std::string(GCPILOT_TEST_DATA_DIR) + "/gctrace/" + name);
    ASSERT_TRUE(in) << name;
    std::string line;
    int cycles = 0, pacer = 0, other = 0, forced = 0;
    while (std::getline(in, line)) {
      ParsedLine p = ParseLine(line);
      ASSERT_NE(p.kind, LineKind::kMalformed) << line << " : " << p.error;
      ASSERT_NE(p.kind, LineKind::kPacerOther) << line;
      if (p.kind == LineKind::kGcCycle) {
        ++cycles;
        forced += p.cycle.trigger == GcTrigger::kForced;
      } else if (p.kind == LineKind::kNotTrace) {
        ++other;
      } else {
        ++pacer;
      }
    }
    EXPECT_GT(cycles, 30) << name;
    EXPECT_GT(pacer, 30) << name;
    EXPECT_EQ(other, 1) << name;   // "done"
    EXPECT_GE(forced, 4) << name;  // runtime.GC() x4 (+ Go 1.19's own at exit).
  }
}

}  // namespace
}  // namespace gcpilot::gctrace
