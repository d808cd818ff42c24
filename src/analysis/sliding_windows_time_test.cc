// Tests for SlidingWindows and time: out-of-order and late records, windows
// forced out by records far ahead, time jumps, negative time axes.
// Thread-safety: single-threaded tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/sliding_windows.h"
#include "analysis/window_test_util.h"

namespace gcpilot {
namespace {

using testing_util::CycleEndingAt;
using testing_util::kMs;
using testing_util::kSec;
using testing_util::OfView;

TEST(SlidingWindowsTimeTest, OutOfOrderWithinRingIsCounted) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  sw.AddCycle(CycleEndingAt(12 * kSec + 300 * kMs, 1));
  sw.AddCycle(CycleEndingAt(11 * kSec + 700 * kMs, 2));
  sw.AddCycle(CycleEndingAt(5 * kSec, 4));  // Older but within the ring.
  const auto ws = sw.AdvanceTo(13 * kSec);
  const auto ones = OfView(ws, "1s");
  EXPECT_EQ(ones.back().alloc_bytes, 1u);            // [12, 13)
  EXPECT_EQ(ones[ones.size() - 3].alloc_bytes, 2u);  // [11, 12)
  const auto tens = OfView(ws, "10s");
  EXPECT_EQ(tens.back().alloc_bytes, 1u + 2u + 4u);  // [3, 13)
  EXPECT_EQ(sw.late_dropped(), 0u);
  EXPECT_EQ(sw.late_after_emit(), 0u);
}

TEST(SlidingWindowsTimeTest, LateRecordsAreCountedNotLost) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  sw.AddCycle(CycleEndingAt(100 * kSec));
  sw.AddCycle(CycleEndingAt(10 * kSec));  // Older than the ring (65.5 s).
  EXPECT_EQ(sw.late_dropped(), 1u);
  StwPause p;
  p.start_ns = kSec;
  sw.AddPause(p);
  EXPECT_EQ(sw.late_dropped(), 2u);

  sw.AdvanceTo(102 * kSec);
  sw.AddCycle(CycleEndingAt(101 * kSec + 500 * kMs, 7));  // Its 1 s windows are out.
  EXPECT_EQ(sw.late_after_emit(), 1u);
  const auto ws = sw.AdvanceTo(110 * kSec);
  const auto tens = OfView(ws, "10s");
  ASSERT_FALSE(tens.empty());
  EXPECT_EQ(tens.back().alloc_bytes, 7u);  // [100, 110) includes it.
}

TEST(SlidingWindowsTimeTest, WholeLogThenOneAdvanceYieldsEveryWindow) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  uint64_t total = 0;
  for (int64_t t = 50 * kMs; t < 300 * kSec; t += 100 * kMs) {
    sw.AddCycle(CycleEndingAt(t, 1000));
    total += 1000;
  }
  const auto ws = sw.AdvanceTo(300 * kSec);
  const auto ones = OfView(ws, "1s");
  ASSERT_EQ(ones.size(), 600u);  // Ends 0.5 .. 300.
  uint64_t tiled = 0;
  for (size_t i = 0; i < ones.size(); ++i) {
    EXPECT_EQ(ones[i].end_ns, static_cast<int64_t>(i + 1) * 500 * kMs);
    if (ones[i].end_ns % kSec == 0) tiled += ones[i].alloc_bytes;  // [k-1, k) tile the run.
    if (ones[i].complete) {
      EXPECT_EQ(ones[i].gc_cycles, 10u) << i;
      EXPECT_DOUBLE_EQ(ones[i].alloc_bytes_per_sec, 10'000);
    }
  }
  EXPECT_EQ(tiled, total);
  EXPECT_EQ(OfView(ws, "1m").size(), 60u);
  EXPECT_EQ(OfView(ws, "10s").size(), 300u);
  for (size_t i = 1; i < ws.size(); ++i) EXPECT_LE(ws[i - 1].end_ns, ws[i].end_ns);
  EXPECT_EQ(sw.late_dropped(), 0u);
  EXPECT_EQ(sw.late_after_emit(), 0u);
}

TEST(SlidingWindowsTimeTest, TimeJumpEmitsDataWindowsPlusOneEmpty) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  GcCycle c = CycleEndingAt(300 * kMs, 5);
  c.heap_live_bytes = 4 << 20;
  c.heap_goal_bytes = 8 << 20;
  sw.AddCycle(c);
  const auto ws = sw.AdvanceTo(3600 * kSec);
  const auto ones = OfView(ws, "1s");
  ASSERT_EQ(ones.size(), 3u);  // Ends 0.5 and 1.0 hold the cycle; 1.5 is the empty one.
  EXPECT_EQ(ones[2].end_ns, 1500 * kMs);
  EXPECT_EQ(ones[2].gc_cycles, 0u);
  EXPECT_EQ(ones[2].heap_live_bytes, 4u << 20);  // Carried.
  EXPECT_EQ(OfView(ws, "10s").size(), 11u);      // Ends 1..10 hold it, 11 is empty.
  EXPECT_EQ(OfView(ws, "1m").size(), 13u);       // Ends 5..60 hold it, 65 is empty.
  // Emission resumes at the jump target.
  const auto next = OfView(sw.AdvanceTo(3600 * kSec + 500 * kMs), "1s");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].end_ns, 3600 * kSec + 500 * kMs);
  EXPECT_EQ(next[0].heap_goal_bytes, 8u << 20);
  // A jump shorter than the ring is emitted window by window.
  EXPECT_EQ(OfView(sw.AdvanceTo(3630 * kSec), "1s").size(), 59u);
}

TEST(SlidingWindowsTimeTest, RecordFarAheadForcesOutPendingWindows) {
  SlidingWindows sw;
  sw.SetOrigin(0);
  sw.AddCycle(CycleEndingAt(2 * kSec + 100 * kMs, 3));
  sw.AddCycle(CycleEndingAt(7200 * kSec, 9));  // Two hours later.
  const auto ws = sw.AdvanceTo(7201 * kSec);
  const auto ones = OfView(ws, "1s");
  uint64_t alloc_tiled = 0;
  for (const WindowStats& w : ones) {
    if (w.end_ns % kSec == 0) alloc_tiled += w.alloc_bytes;
  }
  EXPECT_EQ(alloc_tiled, 12u);   // Neither cycle lost.
  EXPECT_LT(ones.size(), 200u);  // Not 14400 windows.
  for (size_t i = 1; i < ws.size(); ++i) EXPECT_LE(ws[i - 1].end_ns, ws[i].end_ns);
}

TEST(SlidingWindowsTimeTest, NegativeTimeAxisAligns) {
  SlidingWindows sw;
  sw.AddCycle(CycleEndingAt(-1200 * kMs, 1));
  const auto ws = sw.AdvanceTo(0);
  const auto ones = OfView(ws, "1s");
  ASSERT_FALSE(ones.empty());
  EXPECT_EQ(ones.front().end_ns, -1000 * kMs);
  EXPECT_EQ(ones.front().start_ns, -2000 * kMs);
  EXPECT_EQ(ones.front().gc_cycles, 1u);
  EXPECT_EQ(ones.back().end_ns, 0);
}

}  // namespace
}  // namespace gcpilot
