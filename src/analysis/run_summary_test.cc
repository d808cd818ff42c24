// Tests for RunSummary (and the RiskRangeTracker it uses): counts, rates,
// pause and mark distributions, GC CPU share and split, data problems,
// non-GC stops, risk ranges (alone and fed by SlidingWindows), empty input.
// Thread-safety: single-threaded tests.
#include "analysis/run_summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/sliding_windows.h"

namespace gcpilot {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr double kMiB = 1024.0 * 1024.0;

GcCycle Cycle(uint64_t number, int64_t start_ns, uint64_t alloc_bytes = 10'000'000) {
  GcCycle c;
  c.number = number;
  c.start_ns = start_ns;
  c.sweep_term_ns = 100'000;
  c.mark_ns = 5 * kMs;
  c.mark_term_ns = 200'000;
  c.allocated_bytes = alloc_bytes;
  c.gomaxprocs = 4;
  c.trigger = GcTrigger::kHeap;
  c.cpu.sweep_term_ns = 400'000;
  c.cpu.assist_ns = 2 * kMs;
  c.cpu.background_ns = 10 * kMs;
  c.cpu.idle_ns = 4 * kMs;
  c.cpu.mark_term_ns = 800'000;
  c.heap_live_bytes = 4 << 20;
  c.heap_goal_bytes = 8 << 20;
  return c;
}

WindowStats Window(int64_t end_ns, double rate_mib, bool complete = true, const char* view = "1s") {
  WindowStats w;
  w.view = view;
  w.end_ns = end_ns;
  w.start_ns = end_ns - kSec;
  w.complete = complete;
  w.alloc_bytes_per_sec = rate_mib * kMiB;
  return w;
}

TEST(RunSummaryTest, EmptyInput) {
  RunSummary s;
  const RunReport r = s.Finish();
  EXPECT_EQ(r.cycles, 0u);
  EXPECT_EQ(r.span_ns, 0);
  EXPECT_EQ(r.gcs_per_sec, 0);
  EXPECT_EQ(r.alloc_bytes_per_sec, 0);
  EXPECT_EQ(r.gc_cpu_share, 0);
  EXPECT_EQ(r.heap_live_avg_bytes, 0);
  EXPECT_EQ(r.all_pauses.count, 0u);
  EXPECT_TRUE(r.heap_series.empty());
  EXPECT_TRUE(r.risk_ranges.empty());
  EXPECT_TRUE(r.other_stops_by_reason.empty());
  EXPECT_EQ(r.risk_threshold_bytes_per_sec, 50 * kMiB);
}

TEST(RunSummaryTest, SingleCycleHasNoRates) {
  RunSummary s;
  s.AddCycle(Cycle(1, kSec));
  const RunReport r = s.Finish();
  EXPECT_EQ(r.cycles, 1u);
  EXPECT_EQ(r.gcs_per_sec, 0);
  EXPECT_EQ(r.alloc_bytes_per_sec, 0);
  EXPECT_EQ(r.allocated_bytes, 10'000'000u);
  EXPECT_EQ(r.span_ns, 5'300'000);
  EXPECT_EQ(r.all_pauses.count, 2u);
}

TEST(RunSummaryTest, RatesSharesAndDistributions) {
  RunSummary s;
  for (uint64_t i = 0; i < 11; ++i)
    s.AddCycle(Cycle(i + 1, kSec + static_cast<int64_t>(i) * 2 * kSec));
  const RunReport r = s.Finish();
  EXPECT_EQ(r.cycles, 11u);
  EXPECT_EQ(r.heap_cycles, 11u);
  EXPECT_EQ(r.first_cycle_start_ns, kSec);
  EXPECT_EQ(r.last_cycle_start_ns, 21 * kSec);
  EXPECT_EQ(r.last_cycle_end_ns, 21 * kSec + 5'300'000);
  EXPECT_EQ(r.span_ns, 20 * kSec + 5'300'000);
  EXPECT_DOUBLE_EQ(r.gcs_per_sec, 0.5);  // 10 intervals over 20 s.
  EXPECT_EQ(r.allocated_bytes, 110'000'000u);
  EXPECT_DOUBLE_EQ(r.alloc_bytes_per_sec, 100e6 / 20);  // First cycle's bytes precede the span.

  EXPECT_EQ(r.all_pauses.count, 22u);
  EXPECT_EQ(r.all_pauses.max, 200'000);
  EXPECT_EQ(r.all_pauses.min, 100'000);
  EXPECT_DOUBLE_EQ(r.all_pauses.sum, 11 * 300'000.0);
  EXPECT_EQ(r.sweep_term_pauses.p99, 100'000);
  EXPECT_EQ(r.mark_term_pauses.p50, 200'000);
  EXPECT_EQ(r.cycle_pauses.count, 11u);
  EXPECT_EQ(r.cycle_pauses.max, 300'000);
  EXPECT_EQ(r.concurrent_mark.sum, 11 * 5.0 * kMs);
  EXPECT_EQ(r.concurrent_mark.p50, 5 * kMs);

  const double excl_idle_ms = 0.4 + 2 + 10 + 0.8;  // 13.2 ms per cycle.
  EXPECT_EQ(r.gc_cpu_excluding_idle_ns, 11 * 13'200'000);
  EXPECT_NEAR(r.gc_cpu_share, 11 * excl_idle_ms * 1e6 / (static_cast<double>(r.span_ns) * 4),
              1e-12);
  const double all_ms = excl_idle_ms + 4;
  EXPECT_NEAR(r.gc_cpu_split.assist, 2 / all_ms, 1e-12);
  EXPECT_NEAR(r.gc_cpu_split.background, 10 / all_ms, 1e-12);
  EXPECT_NEAR(r.gc_cpu_split.idle, 4 / all_ms, 1e-12);
  EXPECT_NEAR(r.gc_cpu_split.stw, 1.2 / all_ms, 1e-12);
  EXPECT_NEAR(
      r.gc_cpu_split.assist + r.gc_cpu_split.background + r.gc_cpu_split.idle + r.gc_cpu_split.stw,
      1, 1e-12);
  EXPECT_NEAR(r.assist_share_of_gc_cpu, 2 / excl_idle_ms, 1e-12);
  EXPECT_EQ(r.gomaxprocs, 4);

  EXPECT_EQ(r.heap_live_min_bytes, 4u << 20);
  EXPECT_EQ(r.heap_live_max_bytes, 4u << 20);
  EXPECT_DOUBLE_EQ(r.heap_live_avg_bytes, 4 << 20);
  EXPECT_EQ(r.heap_goal_max_bytes, 8u << 20);
  EXPECT_EQ(r.missing_cycle_numbers, 0u);
  EXPECT_EQ(r.cycles_out_of_order, 0u);
}

TEST(RunSummaryTest, UnknownGomaxprocsGivesZeroShare) {
  RunSummary s;
  GcCycle a = Cycle(1, 0);
  GcCycle b = Cycle(2, kSec);
  a.gomaxprocs = b.gomaxprocs = 0;
  s.AddCycle(a);
  s.AddCycle(b);
  const RunReport r = s.Finish();
  EXPECT_EQ(r.gc_cpu_share, 0);
  EXPECT_EQ(r.gomaxprocs, 0);
  EXPECT_GT(r.gc_cpu_excluding_idle_ns, 0);
}

TEST(RunSummaryTest, GomaxprocsLatestAndRange) {
  RunSummary s;
  GcCycle a = Cycle(1, 0);
  a.gomaxprocs = 8;
  GcCycle b = Cycle(2, kSec);
  b.gomaxprocs = 2;
  s.AddCycle(b);
  s.AddCycle(a);  // Out of order: b is still the latest.
  const RunReport r = s.Finish();
  EXPECT_EQ(r.gomaxprocs, 2);
  EXPECT_EQ(r.gomaxprocs_min, 2);
  EXPECT_EQ(r.gomaxprocs_max, 8);
  EXPECT_EQ(r.cycles_out_of_order, 1u);
  EXPECT_EQ(r.first_cycle_start_ns, 0);
  EXPECT_EQ(r.last_cycle_start_ns, kSec);
}

TEST(RunSummaryTest, TriggersAndNumberProblems) {
  RunSummary s;
  const GcTrigger triggers[] = {GcTrigger::kHeap, GcTrigger::kForced, GcTrigger::kTime,
                                GcTrigger::kUnknown, GcTrigger::kForced};
  const uint64_t numbers[] = {1, 2, 5, 5, 6};
  for (int i = 0; i < 5; ++i) {
    GcCycle c = Cycle(numbers[i], i * kSec);
    c.trigger = triggers[i];
    s.AddCycle(c);
  }
  const RunReport r = s.Finish();
  EXPECT_EQ(r.forced_cycles, 2u);
  EXPECT_EQ(r.time_cycles, 1u);
  EXPECT_EQ(r.heap_cycles, 1u);
  EXPECT_EQ(r.unknown_trigger_cycles, 1u);
  EXPECT_EQ(r.missing_cycle_numbers, 2u);  // 3 and 4.
  EXPECT_EQ(r.repeated_cycle_numbers, 1u);
}

TEST(RunSummaryTest, NonGcStopsByReason) {
  RunSummary s;
  auto stop = [](int64_t dur, StwReason reason, StwKind kind = StwKind::kOther) {
    StwPause p;
    p.duration_ns = dur;
    p.reason = reason;
    p.kind = kind;
    return p;
  };
  for (int i = 1; i <= 100; ++i) s.AddPause(stop(i * 1000, StwReason::kReadMemStats));
  s.AddPause(stop(70'000, StwReason::kGoroutineProfile));
  s.AddPause(stop(5'000'000, StwReason::kGcMarkTermination, StwKind::kMarkTermination));
  const RunReport r = s.Finish();
  EXPECT_EQ(r.other_stops.count, 101u);
  EXPECT_EQ(r.other_stops.max, 100'000);
  ASSERT_EQ(r.other_stops_by_reason.size(), 2u);
  EXPECT_EQ(r.other_stops_by_reason[0].reason, StwReason::kGoroutineProfile);
  EXPECT_EQ(r.other_stops_by_reason[0].count, 1u);
  EXPECT_EQ(r.other_stops_by_reason[1].reason, StwReason::kReadMemStats);
  EXPECT_EQ(r.other_stops_by_reason[1].count, 100u);
  EXPECT_NEAR(r.other_stops_by_reason[1].p99_ns, 99'000, 990);
  EXPECT_EQ(r.other_stops_by_reason[1].max_ns, 100'000);
  EXPECT_EQ(r.all_pauses.count, 0u);  // The GC stop is not double counted.
}

TEST(RunSummaryTest, HeapSeriesIsBoundedAndKeepsExtremes) {
  RunSummary s;
  for (uint64_t i = 0; i < 1000; ++i) {
    GcCycle c = Cycle(i + 1, static_cast<int64_t>(i) * kSec);
    c.heap_live_bytes = 1000 + i;
    c.heap_goal_bytes = 2000 + 2 * i;
    if (i == 500) c.heap_live_bytes = 1'000'000;  // A spike.
    s.AddCycle(c);
  }
  const RunReport r = s.Finish();
  ASSERT_FALSE(r.heap_series.empty());
  EXPECT_LE(r.heap_series.size(), 60u);
  uint64_t samples = 0;
  uint64_t peak = 0;
  for (size_t i = 0; i < r.heap_series.size(); ++i) {
    samples += r.heap_series[i].samples;
    peak = std::max(peak, r.heap_series[i].live_max_bytes);
    if (i > 0) {
      EXPECT_GE(r.heap_series[i].start_ns, r.heap_series[i - 1].end_ns);
    }
  }
  EXPECT_EQ(samples, 1000u);
  EXPECT_EQ(peak, 1'000'000u);
  EXPECT_EQ(r.heap_series.front().live_min_bytes, 1000u);
  EXPECT_EQ(r.heap_series.back().live_last_bytes, 1999u);
  EXPECT_EQ(r.heap_series.back().goal_last_bytes, 2000u + 2 * 999);
  EXPECT_EQ(r.heap_live_min_bytes, 1000u);
  EXPECT_EQ(r.heap_live_max_bytes, 1'000'000u);
  EXPECT_EQ(r.heap_goal_max_bytes, 2000u + 2 * 999);
}

TEST(RunSummaryTest, RiskRangesMergeConsecutiveHotWindows) {
  RunSummary s;  // 50 MiB/s.
  const int64_t step = 500 * kMs;
  const double rates[] = {10, 60, 70, 80, 10, 90, 100, 55, 51};
  int64_t end = 10 * kSec;
  for (double rate : rates) {
    s.AddWindow(Window(end, rate));
    s.AddWindow(Window(end, 1000, true, "10s"));  // Other views are ignored.
    end += step;
  }
  // A hot but incomplete window breaks the run; a gap does too.
  s.AddWindow(Window(end, 200, /*complete=*/false));
  end += step;
  s.AddWindow(Window(end, 200));
  end += 5 * kSec;  // Gap: starts after the previous window ended.
  s.AddWindow(Window(end, 300));
  s.AddWindow(Window(end, 300));  // Same end again: out of order.
  const RunReport r = s.Finish();
  ASSERT_EQ(r.risk_ranges.size(), 4u);
  const RiskRange& a = r.risk_ranges[0];  // Windows ending 10.5, 11.0, 11.5.
  EXPECT_EQ(a.start_ns, 9 * kSec + 500 * kMs);
  EXPECT_EQ(a.end_ns, 11 * kSec + 500 * kMs);
  EXPECT_EQ(a.windows, 3u);
  EXPECT_DOUBLE_EQ(a.peak_alloc_bytes_per_sec, 80 * kMiB);
  EXPECT_DOUBLE_EQ(a.mean_alloc_bytes_per_sec, 70 * kMiB);
  const RiskRange& b = r.risk_ranges[1];  // 90, 100, 55, 51.
  EXPECT_EQ(b.windows, 4u);
  EXPECT_EQ(b.start_ns, 11 * kSec + 500 * kMs);
  EXPECT_EQ(b.end_ns, 14 * kSec);
  EXPECT_DOUBLE_EQ(b.peak_alloc_bytes_per_sec, 100 * kMiB);
  EXPECT_DOUBLE_EQ(b.mean_alloc_bytes_per_sec, 74 * kMiB);
  EXPECT_EQ(r.risk_ranges[2].windows, 1u);
  EXPECT_DOUBLE_EQ(r.risk_ranges[2].peak_alloc_bytes_per_sec, 200 * kMiB);
  EXPECT_EQ(r.risk_ranges[3].windows, 1u);  // After the gap, still open at Finish().
  EXPECT_EQ(r.windows_out_of_order, 1u);
}

TEST(RunSummaryTest, RiskThresholdIsAParameter) {
  RunSummary s(100 * kMiB);
  s.AddWindow(Window(kSec, 90));
  s.AddWindow(Window(kSec + 500 * kMs, 150));
  const RunReport r = s.Finish();
  EXPECT_EQ(r.risk_threshold_bytes_per_sec, 100 * kMiB);
  ASSERT_EQ(r.risk_ranges.size(), 1u);
  EXPECT_EQ(r.risk_ranges[0].windows, 1u);
}

TEST(RunSummaryTest, RiskRangesFromSlidingWindows) {
  SlidingWindows sw;
  RunSummary s;
  sw.SetOrigin(0);
  // A cycle every 100 ms; 10 MiB each (100 MiB/s) for cycles ending in [5 s, 10 s).
  for (int64_t k = 0; k < 200; ++k) {
    const int64_t end = 50 * kMs + k * 100 * kMs;
    GcCycle c = Cycle(static_cast<uint64_t>(k + 1), 0, 0);
    c.start_ns = end - c.sweep_term_ns - c.mark_ns - c.mark_term_ns;
    if (end >= 5 * kSec && end < 10 * kSec) c.allocated_bytes = 10 << 20;
    sw.AddCycle(c);
    s.AddCycle(c);
  }
  for (const WindowStats& w : sw.AdvanceTo(20 * kSec)) s.AddWindow(w);
  const RunReport r = s.Finish();
  // Windows half in the storm average exactly 50 MiB/s, which is not above.
  ASSERT_EQ(r.risk_ranges.size(), 1u);
  EXPECT_EQ(r.risk_ranges[0].start_ns, 5 * kSec);
  EXPECT_EQ(r.risk_ranges[0].end_ns, 10 * kSec);
  EXPECT_EQ(r.risk_ranges[0].windows, 9u);
  EXPECT_DOUBLE_EQ(r.risk_ranges[0].peak_alloc_bytes_per_sec, 100 * kMiB);
  EXPECT_DOUBLE_EQ(r.risk_ranges[0].mean_alloc_bytes_per_sec, 100 * kMiB);
}

TEST(RiskRangeTrackerTest, KeepsAtMostMaxRanges) {
  RiskRangeTracker t(1);
  int64_t end = kSec;
  for (size_t i = 0; i < RiskRangeTracker::kMaxRanges + 5; ++i) {
    t.Add(Window(end, 10));
    end += 500 * kMs;
    t.Add(Window(end, 0));
    end += 500 * kMs;
  }
  EXPECT_EQ(t.Ranges().size(), RiskRangeTracker::kMaxRanges);
  EXPECT_EQ(t.unlisted(), 5u);
}

}  // namespace
}  // namespace gcpilot
