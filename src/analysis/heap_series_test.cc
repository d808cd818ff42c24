// Tests for HeapSeries: bucketing, coarsening, the point bound and the
// min / max / last bookkeeping.
// Thread-safety: single-threaded tests.
#include "analysis/heap_series.h"

#include <gtest/gtest.h>

namespace gcpilot {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(HeapSeriesTest, Empty) {
  HeapSeries s;
  EXPECT_TRUE(s.Points().empty());
}

TEST(HeapSeriesTest, ShortRunKeepsOneSecondBuckets) {
  HeapSeries s(60);
  s.Add(100 * kSec, 10, 20);
  s.Add(100 * kSec + kSec / 2, 5, 30);
  s.Add(103 * kSec, 7, 14);
  const auto p = s.Points();
  ASSERT_EQ(p.size(), 2u);  // Empty buckets are left out.
  EXPECT_EQ(p[0].start_ns, 100 * kSec);
  EXPECT_EQ(p[0].end_ns, 101 * kSec);
  EXPECT_EQ(p[0].samples, 2u);
  EXPECT_EQ(p[0].live_min_bytes, 5u);
  EXPECT_EQ(p[0].live_max_bytes, 10u);
  EXPECT_EQ(p[0].live_last_bytes, 5u);
  EXPECT_EQ(p[0].goal_max_bytes, 30u);
  EXPECT_EQ(p[1].start_ns, 103 * kSec);
  EXPECT_EQ(p[1].live_last_bytes, 7u);
}

TEST(HeapSeriesTest, LongRunIsBounded) {
  HeapSeries s(10);
  for (int64_t i = 0; i < 100'000; ++i) s.Add(i * kSec, static_cast<uint64_t>(i), 1);
  const auto p = s.Points();
  EXPECT_LE(p.size(), 10u);
  EXPECT_GE(p.size(), 5u);
  uint64_t samples = 0;
  for (const HeapPoint& h : p) samples += h.samples;
  EXPECT_EQ(samples, 100'000u);
  EXPECT_EQ(p.front().live_min_bytes, 0u);
  EXPECT_EQ(p.back().live_max_bytes, 99'999u);
  EXPECT_EQ(p.back().live_last_bytes, 99'999u);
  EXPECT_LE(p.front().start_ns, 0);
  EXPECT_GT(p.back().end_ns, 99'999 * kSec);
}

TEST(HeapSeriesTest, EarlierSamplesGoToFirstBucket) {
  HeapSeries s;
  s.Add(10 * kSec, 50, 60);
  s.Add(5 * kSec, 70, 80);  // Before the first sample.
  const auto p = s.Points();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].samples, 2u);
  EXPECT_EQ(p[0].live_last_bytes, 50u);  // "Last" is by time, not arrival.
  EXPECT_EQ(p[0].live_max_bytes, 70u);
}

}  // namespace
}  // namespace gcpilot
