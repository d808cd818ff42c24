// Tests for SlidingWindows: view validation, step alignment, window
// boundaries, rate and share arithmetic, non-GC stops, Current() and empty
// input (timing cases are in sliding_windows_time_test.cc).
// Thread-safety: single-threaded tests.
#include "analysis/sliding_windows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "analysis/window_test_util.h"

namespace gcpilot {
namespace {

using testing_util::CycleEndingAt;
using testing_util::kMs;
using testing_util::kSec;
using testing_util::OfView;

TEST(SlidingWindowsTest, DefaultShape) {
  SlidingWindows sw;
  ASSERT_EQ(sw.views().size(), 3u);
  EXPECT_EQ(sw.views()[0].name, "1s");
  EXPECT_EQ(sw.slot_ns(), 500 * kMs);
  EXPECT_EQ(sw.ring_slots(), 120 + 10 + 1);  // 1 min + max(2 s, 5 s) slack + 1.
}

TEST(SlidingWindowsTest, ValidateViews) {
  EXPECT_TRUE(SlidingWindows::ValidateViews(DefaultViews()).ok());
  EXPECT_FALSE(SlidingWindows::ValidateViews({}).ok());
  EXPECT_FALSE(SlidingWindows::ValidateViews({{"a", kSec, kSec}, {"a", 2 * kSec, kSec}}).ok());
  EXPECT_FALSE(SlidingWindows::ValidateViews({{"", kSec, kSec}}).ok());
  EXPECT_FALSE(SlidingWindows::ValidateViews({{"a", 0, kSec}}).ok());
  EXPECT_FALSE(SlidingWindows::ValidateViews({{"a", kSec, -1}}).ok());
  // 60 s windows in 1 ms slots need 62001 slots.
  const Status too_big = SlidingWindows::ValidateViews({{"a", 60 * kSec, kMs}});
  EXPECT_EQ(too_big.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SlidingWindows::Create({{"a", 60 * kSec, kMs}}).ok());
  // The constructor falls back to the defaults.
  SlidingWindows fallback({{"a", 0, 0}});
  EXPECT_EQ(fallback.views().size(), 3u);
}

TEST(SlidingWindowsTest, CustomViewsUseCommonDivisorSlots) {
  auto sw = SlidingWindows::Create({{"2s", 2 * kSec, 2 * kSec}, {"3s", 3 * kSec, kSec}});
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->slot_ns(), kSec);
  sw->SetOrigin(0);
  sw->AddCycle(CycleEndingAt(2500 * kMs, 1000));
  const auto ws = sw->AdvanceTo(6 * kSec);
  const auto two = OfView(ws, "2s");
  ASSERT_EQ(two.size(), 3u);  // [0,2) [2,4) [4,6): tumbling.
  EXPECT_EQ(two[1].start_ns, 2 * kSec);
  EXPECT_EQ(two[1].gc_cycles, 1u);
  EXPECT_EQ(two[0].gc_cycles + two[2].gc_cycles, 0u);
  const auto three = OfView(ws, "3s");
  ASSERT_EQ(three.size(), 6u);  // Ends 1..6.
  for (const WindowStats& w : three) {
    EXPECT_EQ(w.end_ns - w.start_ns, 3 * kSec);
    const bool holds = w.start_ns <= 2500 * kMs && 2500 * kMs < w.end_ns;
    EXPECT_EQ(w.gc_cycles, holds ? 1u : 0u) << w.end_ns;
  }
}

TEST(SlidingWindowsTest, StepAlignmentAndCompleteness) {
  SlidingWindows sw;
  GcCycle c = CycleEndingAt(300 * kMs);
  c.start_ns = 200 * kMs;  // Origin: 0.2 s.
  c.mark_ns = 100 * kMs - c.sweep_term_ns - c.mark_term_ns;
  ASSERT_EQ(c.end_ns(), 300 * kMs);
  sw.AddCycle(c);
  const auto ws = sw.AdvanceTo(2 * kSec);
  ASSERT_EQ(ws.size(), 6u);
  // Ordered by end, views in their order on ties.
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"1s", 500 * kMs},  {"1s", 1000 * kMs}, {"10s", 1000 * kMs},
      {"1s", 1500 * kMs}, {"1s", 2000 * kMs}, {"10s", 2000 * kMs}};
  for (size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ws[i].view, expected[i].first) << i;
    EXPECT_EQ(ws[i].end_ns, expected[i].second) << i;
  }
  EXPECT_EQ(ws[0].start_ns, -500 * kMs);
  EXPECT_FALSE(ws[0].complete);
  EXPECT_EQ(ws[0].covered_ns, 300 * kMs);  // From the origin (0.2 s) to 0.5 s.
  EXPECT_EQ(ws[0].gc_cycles, 1u);
  EXPECT_NEAR(ws[0].gcs_per_sec, 1 / 0.3, 1e-9);
  EXPECT_FALSE(ws[1].complete);  // [0, 1) starts before the origin.
  EXPECT_EQ(ws[1].gc_cycles, 1u);
  EXPECT_TRUE(ws[3].complete);  // [0.5, 1.5).
  EXPECT_EQ(ws[3].gc_cycles, 0u);
  EXPECT_EQ(ws[3].covered_ns, kSec);
  EXPECT_FALSE(ws[2].complete);  // 10 s window [-9, 1).
  EXPECT_EQ(ws[2].gc_cycles, 1u);
  // Nothing more until the next boundary.
  EXPECT_TRUE(sw.AdvanceTo(2 * kSec + 400 * kMs).empty());
  const auto next = sw.AdvanceTo(2 * kSec + 500 * kMs);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].end_ns, 2 * kSec + 500 * kMs);
}

TEST(SlidingWindowsTest, GcsPerSecondAndAllocRate) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  for (int i = 0; i < 4; ++i) {
    GcCycle c = CycleEndingAt(10 * kSec + (100 + 200 * i) * kMs, 10'000'000);
    if (i == 0) c.trigger = GcTrigger::kForced;
    sw.AddCycle(c);
  }
  const auto ones = OfView(sw.AdvanceTo(11 * kSec), "1s");
  ASSERT_FALSE(ones.empty());
  const WindowStats& w = ones.back();  // [10, 11).
  EXPECT_EQ(w.start_ns, 10 * kSec);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.gc_cycles, 4u);
  EXPECT_EQ(w.forced_cycles, 1u);
  EXPECT_DOUBLE_EQ(w.gcs_per_sec, 4);
  EXPECT_EQ(w.alloc_bytes, 40'000'000u);
  EXPECT_DOUBLE_EQ(w.alloc_bytes_per_sec, 40e6);
  const WindowStats& half = ones[ones.size() - 2];  // [9.5, 10.5): cycles at 10.1, 10.3.
  EXPECT_EQ(half.gc_cycles, 2u);
  EXPECT_DOUBLE_EQ(half.alloc_bytes_per_sec, 20e6);
}

TEST(SlidingWindowsTest, GcCpuShareAndAssistShare) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  GcCycle c = CycleEndingAt(5 * kSec + 600 * kMs);
  c.gomaxprocs = 4;
  c.cpu.sweep_term_ns = 100'000;
  c.cpu.assist_ns = 20 * kMs;
  c.cpu.background_ns = 50 * kMs;
  c.cpu.idle_ns = 100 * kMs;
  c.cpu.mark_term_ns = 30'000;
  sw.AddCycle(c);
  const auto ones = OfView(sw.AdvanceTo(6 * kSec), "1s");
  const WindowStats& w = ones.back();             // [5, 6).
  const double excl_idle = 0.1 + 20 + 50 + 0.03;  // ms
  EXPECT_NEAR(w.gc_cpu_share, excl_idle / 1000 / 4, 1e-12);
  EXPECT_NEAR(w.assist_share_of_gc_cpu, 20 / excl_idle, 1e-12);
  EXPECT_EQ(w.gc_cpu.idle_ns, 100 * kMs);
  EXPECT_EQ(w.gomaxprocs, 4);
}

TEST(SlidingWindowsTest, UnknownGomaxprocsGivesZeroShareThenCarries) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  GcCycle unknown = CycleEndingAt(1200 * kMs, 0, /*procs=*/0);
  unknown.cpu.background_ns = 10 * kMs;
  sw.AddCycle(unknown);
  auto ones = OfView(sw.AdvanceTo(2 * kSec), "1s");
  EXPECT_EQ(ones.back().gc_cycles, 1u);
  EXPECT_EQ(ones.back().gc_cpu_share, 0);
  EXPECT_EQ(ones.back().gomaxprocs, 0);
  sw.AddCycle(CycleEndingAt(2200 * kMs, 0, 8));
  GcCycle later = CycleEndingAt(3200 * kMs, 0, 0);
  later.cpu.background_ns = 80 * kMs;
  sw.AddCycle(later);
  ones = OfView(sw.AdvanceTo(4 * kSec), "1s");
  const WindowStats& w = ones.back();  // [3, 4): gomaxprocs carried from 2.2 s.
  EXPECT_EQ(w.gomaxprocs, 8);
  EXPECT_NEAR(w.gc_cpu_share, 0.08 / 8, 1e-12);
}

TEST(SlidingWindowsTest, MarkWallIsSpreadOverWindows) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  GcCycle c;
  c.start_ns = 10 * kSec + 800 * kMs - 1 * kMs;
  c.sweep_term_ns = kMs;
  c.mark_ns = 500 * kMs;  // Mark: [10.8 s, 11.3 s).
  c.mark_term_ns = kMs;
  sw.AddCycle(c);
  const auto ones = OfView(sw.AdvanceTo(12 * kSec), "1s");
  auto find = [&](int64_t end) {
    for (const WindowStats& w : ones) {
      if (w.end_ns == end) return w;
    }
    ADD_FAILURE() << "no window ending at " << end;
    return WindowStats{};
  };
  const WindowStats a = find(11 * kSec);  // [10, 11): 0.2 s of mark, no cycle end.
  EXPECT_EQ(a.mark_wall_ns, 200 * kMs);
  EXPECT_NEAR(a.mark_wall_share, 0.2, 1e-12);
  EXPECT_EQ(a.gc_cycles, 0u);
  const WindowStats b = find(11 * kSec + 500 * kMs);  // [10.5, 11.5): all of it.
  EXPECT_EQ(b.mark_wall_ns, 500 * kMs);
  EXPECT_NEAR(b.mark_wall_share, 0.5, 1e-12);
  EXPECT_EQ(b.gc_cycles, 1u);
  const WindowStats d = find(12 * kSec);  // [11, 12).
  EXPECT_EQ(d.mark_wall_ns, 300 * kMs);
}

TEST(SlidingWindowsTest, PauseDistributions) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  for (int i = 0; i < 10; ++i) {
    GcCycle c = CycleEndingAt(20 * kSec + (i + 1) * 90 * kMs);
    c.sweep_term_ns = (i + 1) * 10'000;  // 10..100 us
    c.mark_term_ns = (i + 1) * 100'000;  // 100 us..1 ms
    sw.AddCycle(c);
  }
  const auto ones = OfView(sw.AdvanceTo(21 * kSec), "1s");
  const WindowStats& w = ones.back();
  EXPECT_EQ(w.gc_pauses.count, 20u);
  EXPECT_EQ(w.gc_pauses.max, 1'000'000);
  EXPECT_EQ(w.sweep_term_pauses.count, 10u);
  EXPECT_EQ(w.sweep_term_pauses.max, 100'000);
  EXPECT_EQ(w.mark_term_pauses.min, 100'000);
  // Sorted pauses: 10,20,..,100 us, then 100..1000 us; rank floor(0.5*19)=9 -> 100 us.
  EXPECT_NEAR(w.gc_pauses.p50, 100'000, 1'000);
  EXPECT_NEAR(w.mark_term_pauses.p99, 900'000, 9'000);  // Rank floor(0.99*9)=8.
  EXPECT_DOUBLE_EQ(w.gc_pauses.sum, 10 * 55'000.0 + 10 * 550'000.0);
}

TEST(SlidingWindowsTest, NonGcStopsByReason) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  auto stop = [](int64_t start, int64_t dur, StwReason reason, StwKind kind = StwKind::kOther) {
    StwPause p;
    p.start_ns = start;
    p.duration_ns = dur;
    p.reason = reason;
    p.kind = kind;
    return p;
  };
  sw.AddPause(stop(3 * kSec + 100 * kMs, 20'000, StwReason::kReadMemStats));
  sw.AddPause(stop(3 * kSec + 200 * kMs, 40'000, StwReason::kReadMemStats));
  sw.AddPause(stop(3 * kSec + 300 * kMs, 30'000, StwReason::kReadMemStats));
  sw.AddPause(stop(3 * kSec + 400 * kMs, 500'000, StwReason::kGomaxprocs));
  sw.AddPause(stop(3 * kSec + 450 * kMs, 1'000, static_cast<StwReason>(200)));
  // GC stops are counted from their cycles, not here.
  sw.AddPause(stop(3 * kSec + 400 * kMs, 9'000'000, StwReason::kGcSweepTermination,
                   StwKind::kSweepTermination));
  const auto ones = OfView(sw.AdvanceTo(4 * kSec), "1s");
  const WindowStats& w = ones.back();  // [3, 4).
  EXPECT_EQ(w.other_stops.count, 5u);
  EXPECT_EQ(w.other_stops.max, 500'000);
  EXPECT_EQ(w.other_stops_by_reason[static_cast<size_t>(StwReason::kReadMemStats)], 3u);
  EXPECT_EQ(w.other_stops_by_reason[static_cast<size_t>(StwReason::kGomaxprocs)], 1u);
  EXPECT_EQ(w.other_stops_by_reason[static_cast<size_t>(StwReason::kUnknown)], 1u);
  EXPECT_EQ(w.gc_pauses.count, 0u);
}

TEST(SlidingWindowsTest, CurrentIsPartialWindowEndingNow) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  sw.AddCycle(CycleEndingAt(9 * kSec + 700 * kMs, 100));
  sw.AddCycle(CycleEndingAt(10 * kSec + 100 * kMs, 200));
  sw.AddCycle(CycleEndingAt(9 * kSec + 100 * kMs, 400));  // Before the window.
  const auto cur = sw.Current("1s", 10 * kSec + 250 * kMs);
  ASSERT_TRUE(cur.has_value());
  EXPECT_EQ(cur->start_ns, 9 * kSec + 500 * kMs);
  EXPECT_EQ(cur->end_ns, 10 * kSec + 250 * kMs);
  EXPECT_EQ(cur->covered_ns, 750 * kMs);
  EXPECT_TRUE(cur->complete);
  EXPECT_EQ(cur->alloc_bytes, 300u);
  EXPECT_DOUBLE_EQ(cur->alloc_bytes_per_sec, 400);
  // On a boundary it equals the emitted window.
  const auto aligned = sw.Current("1s", 10 * kSec);
  EXPECT_EQ(aligned->start_ns, 9 * kSec);
  EXPECT_EQ(aligned->alloc_bytes, 500u);
  EXPECT_FALSE(sw.Current("nope", 0).has_value());
}

TEST(SlidingWindowsTest, EmptyInput) {
  SlidingWindows fresh;
  const auto cur = fresh.Current("1m", 5 * kSec);
  ASSERT_TRUE(cur.has_value());
  EXPECT_EQ(cur->gc_cycles, 0u);
  EXPECT_FALSE(cur->complete);
  EXPECT_EQ(cur->gcs_per_sec, 0);

  SlidingWindows sw;
  EXPECT_TRUE(sw.AdvanceTo(5 * kSec).empty());  // Observation starts at 5 s.
  const auto ones = OfView(sw.AdvanceTo(6 * kSec), "1s");
  ASSERT_EQ(ones.size(), 2u);
  EXPECT_FALSE(ones[0].complete);
  EXPECT_TRUE(ones[1].complete);
  for (const WindowStats& w : ones) {
    EXPECT_EQ(w.gc_cycles, 0u);
    EXPECT_EQ(w.gc_cpu_share, 0);
    EXPECT_EQ(w.assist_share_of_gc_cpu, 0);
    EXPECT_EQ(w.gc_pauses.p99, 0);
    EXPECT_FALSE(std::isnan(w.mark_wall_share));
  }
  EXPECT_TRUE(sw.AdvanceTo(3 * kSec).empty());  // Time going back: nothing.
}

TEST(SlidingWindowsTest, HeapStateIsLastInWindow) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  GcCycle a = CycleEndingAt(1200 * kMs);
  a.heap_live_bytes = 100;
  a.heap_goal_bytes = 200;
  GcCycle b = CycleEndingAt(1400 * kMs);
  b.heap_live_bytes = 300;
  b.heap_goal_bytes = 600;
  sw.AddCycle(b);  // Out of order: the later one first.
  sw.AddCycle(a);
  const auto ones = OfView(sw.AdvanceTo(2 * kSec), "1s");
  EXPECT_EQ(ones.back().heap_live_bytes, 300u);
  EXPECT_EQ(ones.back().heap_goal_bytes, 600u);
}

}  // namespace
}  // namespace gcpilot
