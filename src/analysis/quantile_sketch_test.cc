// Tests for QuantileSketch: the relative-error bound against exact quantiles
// (computed by sorting) on several distributions, exact extremes, the zero
// bucket, bucket-exact merging, and the bucket cap.
// Thread-safety: single-threaded tests.
#include "analysis/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "analysis/distribution_summary.h"

namespace gcpilot {
namespace {

constexpr double kQuantiles[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};

// The exact value the sketch estimates for quantile q.
double ExactQuantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<size_t>(std::floor(q * static_cast<double>(sorted.size() - 1)));
  return sorted[rank];
}

void ExpectWithinBound(const std::vector<double>& values, const QuantileSketch& sketch,
                       const char* what) {
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double alpha = sketch.relative_accuracy();
  for (double q : kQuantiles) {
    const double exact = ExactQuantile(sorted, q);
    const double got = sketch.Quantile(q);
    if (exact < sketch.zero_threshold()) {
      EXPECT_LT(std::abs(got - exact), sketch.zero_threshold()) << what << " q=" << q;
    } else {
      EXPECT_LE(std::abs(got - exact), alpha * exact * (1 + 1e-9))
          << what << " q=" << q << " exact=" << exact << " got=" << got;
    }
  }
  EXPECT_EQ(sketch.Quantile(0), sorted.front()) << what;
  EXPECT_EQ(sketch.Quantile(1), sorted.back()) << what;
  EXPECT_EQ(sketch.min(), sorted.front()) << what;
  EXPECT_EQ(sketch.max(), sorted.back()) << what;
  EXPECT_EQ(sketch.count(), values.size()) << what;
}

QuantileSketch SketchOf(const std::vector<double>& values) {
  QuantileSketch s;
  for (double v : values) s.Add(v);
  return s;
}

TEST(QuantileSketchTest, EmptySketchAnswersZero) {
  QuantileSketch s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.Quantile(0.5), 0);
  EXPECT_EQ(s.Quantile(1), 0);
  EXPECT_EQ(s.min(), 0);
  EXPECT_EQ(s.max(), 0);
  EXPECT_TRUE(s.Buckets().empty());
  EXPECT_EQ(s.allocated_buckets(), 0u);
  const DistributionSummary d = SummarizeSketch(s);
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.p99, 0);
}

TEST(QuantileSketchTest, UniformWithinBound) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> dist(1, 1e6);
  std::vector<double> v(100000);
  for (double& x : v) x = dist(rng);
  ExpectWithinBound(v, SketchOf(v), "uniform");
}

TEST(QuantileSketchTest, LognormalWithinBound) {
  std::mt19937_64 rng(2);
  // Pause-like: median ~200 us in ns, wide spread.
  std::lognormal_distribution<double> dist(std::log(200000.0), 1.5);
  std::vector<double> v(200000);
  for (double& x : v) x = dist(rng);
  ExpectWithinBound(v, SketchOf(v), "lognormal");
}

TEST(QuantileSketchTest, HeavyTailedWithinBound) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> v(100000);
  for (double& x : v) x = 1000.0 / std::pow(1 - u(rng), 1 / 1.1);  // Pareto, shape 1.1.
  ExpectWithinBound(v, SketchOf(v), "pareto");
}

TEST(QuantileSketchTest, SmallSampleWithinBound) {
  std::mt19937_64 rng(4);
  std::exponential_distribution<double> dist(1e-5);
  for (int n : {2, 3, 7, 10, 101}) {
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = 1 + dist(rng);
    ExpectWithinBound(v, SketchOf(v), "small");
  }
}

TEST(QuantileSketchTest, ConstantIsExact) {
  std::vector<double> v(1000, 12345);
  const QuantileSketch s = SketchOf(v);
  for (double q : kQuantiles) EXPECT_EQ(s.Quantile(q), 12345) << q;
  EXPECT_EQ(s.sum(), 12345.0 * 1000);
  EXPECT_EQ(s.Buckets().size(), 1u);
}

TEST(QuantileSketchTest, SingleValueIsExact) {
  QuantileSketch s;
  s.Add(777);
  for (double q : kQuantiles) EXPECT_EQ(s.Quantile(q), 777);
  const DistributionSummary d = SummarizeSketch(s);
  EXPECT_EQ(d.count, 1u);
  EXPECT_EQ(d.p50, 777);
  EXPECT_EQ(d.mean, 777);
  EXPECT_EQ(d.max, 777);
}

TEST(QuantileSketchTest, ZerosGoToZeroBucket) {
  QuantileSketch s;
  for (int i = 0; i < 100; ++i) s.Add(0);
  EXPECT_EQ(s.zero_count(), 100u);
  EXPECT_EQ(s.Quantile(0.5), 0);
  EXPECT_EQ(s.Quantile(1), 0);
  EXPECT_TRUE(s.Buckets().empty());
  // Mixed: 90 zeros and 10 large values.
  for (int i = 0; i < 10; ++i) s.Add(1e6);
  EXPECT_EQ(s.Quantile(0.5), 0);
  EXPECT_NEAR(s.Quantile(0.95), 1e6, 1e4);
  EXPECT_EQ(s.max(), 1e6);
}

TEST(QuantileSketchTest, BelowThresholdClampsToMin) {
  QuantileSketch s;
  s.Add(0.25);
  s.Add(0.5);
  s.Add(0.75);
  EXPECT_EQ(s.zero_count(), 3u);
  EXPECT_EQ(s.Quantile(0.5), 0.25);  // Zero bucket answers 0, clamped to min.
  EXPECT_EQ(s.Quantile(1), 0.75);
}

TEST(QuantileSketchTest, NegativeAndNonFinite) {
  QuantileSketch s;
  s.Add(-5);
  s.Add(std::numeric_limits<double>::quiet_NaN());
  s.Add(std::numeric_limits<double>::infinity());
  s.Add(10);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.rejected_count(), 2u);
  EXPECT_EQ(s.min(), 0);
  EXPECT_EQ(s.zero_count(), 1u);
  EXPECT_EQ(s.Quantile(1), 10);
}

TEST(QuantileSketchTest, QuantileArgumentIsClamped) {
  QuantileSketch s;
  for (int i = 1; i <= 100; ++i) s.Add(i);
  EXPECT_EQ(s.Quantile(-1), 1);
  EXPECT_EQ(s.Quantile(2), 100);
  EXPECT_EQ(s.Quantile(std::numeric_limits<double>::quiet_NaN()), 1);
}

TEST(QuantileSketchTest, BucketBoundsContainValues) {
  QuantileSketch s;
  for (double v : {1.0, 1.5, 2.0, 1000.0, 123456.789, 1e12}) {
    QuantileSketch one;
    one.Add(v);
    const auto buckets = one.Buckets();
    ASSERT_EQ(buckets.size(), 1u);
    const int32_t k = buckets[0].first;
    EXPECT_GT(v, one.BucketUpperBound(k - 1) * (1 - 1e-12)) << v;
    EXPECT_LE(v, one.BucketUpperBound(k) * (1 + 1e-12)) << v;
    EXPECT_LE(std::abs(one.BucketValue(k) - v), 0.01 * v * (1 + 1e-9)) << v;
  }
}

TEST(QuantileSketchTest, MergeEqualsSketchOfUnion) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(std::log(50000.0), 2.0);
  std::vector<double> all;
  std::vector<QuantileSketch> parts(5);
  for (int i = 0; i < 50000; ++i) {
    // Integers keep the sums exact whatever the order of addition.
    const double x = std::floor(dist(rng));
    const double v = i % 97 == 0 ? 0 : x;
    all.push_back(v);
    parts[static_cast<size_t>(i) % parts.size()].Add(v);
  }
  QuantileSketch merged;
  for (const QuantileSketch& p : parts) ASSERT_TRUE(merged.Merge(p).ok());
  const QuantileSketch whole = SketchOf(all);
  EXPECT_EQ(merged.Buckets(), whole.Buckets());
  EXPECT_EQ(merged.zero_count(), whole.zero_count());
  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_EQ(merged.sum(), whole.sum());
  EXPECT_EQ(merged.min(), whole.min());
  EXPECT_EQ(merged.max(), whole.max());
  for (double q : kQuantiles) EXPECT_EQ(merged.Quantile(q), whole.Quantile(q)) << q;
  ExpectWithinBound(all, merged, "merged");
}

TEST(QuantileSketchTest, MergeEmptyAndIntoEmpty) {
  QuantileSketch a;
  QuantileSketch empty;
  a.Add(5);
  ASSERT_TRUE(a.Merge(empty).ok());
  EXPECT_EQ(a.count(), 1u);
  ASSERT_TRUE(empty.Merge(a).ok());
  EXPECT_EQ(empty.count(), 1u);
  EXPECT_EQ(empty.min(), 5);
  EXPECT_EQ(empty.Buckets(), a.Buckets());
}

TEST(QuantileSketchTest, SelfMergeDoubles) {
  QuantileSketch a;
  for (int i = 1; i <= 10; ++i) a.Add(i * 100);
  ASSERT_TRUE(a.Merge(a).ok());
  EXPECT_EQ(a.count(), 20u);
  EXPECT_EQ(a.sum(), 2 * 5500.0);
  for (const auto& [key, count] : a.Buckets()) EXPECT_EQ(count % 2, 0u) << key;
}

TEST(QuantileSketchTest, MergeRejectsDifferentParameters) {
  QuantileSketch a(0.01);
  QuantileSketch b(0.02);
  QuantileSketch c(0.01, 1000.0);
  a.Add(1);
  b.Add(2);
  c.Add(3);
  Status st = a.Merge(b);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Merge(c).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.count(), 1u);  // Unchanged.
  EXPECT_EQ(a.max(), 1);
  // Different caps are fine.
  QuantileSketch d(0.01, 1.0, 100);
  d.Add(4);
  EXPECT_TRUE(a.Merge(d).ok());
  EXPECT_EQ(a.count(), 2u);
}

TEST(QuantileSketchTest, CapCollapsesLowestBuckets) {
  QuantileSketch s(0.01, 1.0, 16);  // 16 buckets span a factor of ~1.38.
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(1000 * std::pow(1.01, i % 200));
  for (double x : v) s.Add(x);
  EXPECT_TRUE(s.collapsed());
  EXPECT_LE(s.Buckets().size(), 16u);
  EXPECT_LE(s.allocated_buckets(), 16u + 64u);
  EXPECT_EQ(s.count(), v.size());
  EXPECT_EQ(s.min(), 1000);
  EXPECT_EQ(s.max(), *std::max_element(v.begin(), v.end()));
  // High quantiles are in kept buckets and keep the bound.
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.95, 0.99, 0.999}) {
    const double exact = ExactQuantile(sorted, q);
    EXPECT_LE(std::abs(s.Quantile(q) - exact), 0.01 * exact * (1 + 1e-9)) << q;
  }
  // Low quantiles over-estimate (collapsed upwards) but stay within [min, max].
  const double low = s.Quantile(0.1);
  EXPECT_GE(low, ExactQuantile(sorted, 0.1));
  EXPECT_LE(low, s.max());
  const double lowest_kept = s.BucketUpperBound(s.Buckets().front().first - 1);
  EXPECT_GT(lowest_kept, s.max() / 1.4);
}

TEST(QuantileSketchTest, CollapsedMergeIsBucketExact) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> dist(0, 12);
  std::vector<double> all;
  std::vector<QuantileSketch> parts;
  for (int p = 0; p < 4; ++p) parts.emplace_back(0.01, 1.0, 32);
  for (int i = 0; i < 4000; ++i) {
    const double v = std::pow(10, dist(rng));
    all.push_back(v);
    parts[static_cast<size_t>(i) % parts.size()].Add(v);
  }
  QuantileSketch merged(0.01, 1.0, 32);
  for (const QuantileSketch& p : parts) ASSERT_TRUE(merged.Merge(p).ok());
  QuantileSketch whole(0.01, 1.0, 32);
  for (double v : all) whole.Add(v);
  EXPECT_TRUE(whole.collapsed());
  EXPECT_EQ(merged.Buckets(), whole.Buckets());
  EXPECT_EQ(merged.count(), whole.count());
}

TEST(QuantileSketchTest, DefaultCapNeverCollapsesDurations) {
  QuantileSketch s;
  for (double v = 1; v < 1e17; v *= 1.5) s.Add(v);  // 1 ns .. ~3 years.
  EXPECT_FALSE(s.collapsed());
  EXPECT_LE(s.allocated_buckets(), 2048u + 64u);
}

TEST(QuantileSketchTest, AddDescendingAndAscendingAgree) {
  QuantileSketch up;
  QuantileSketch down;
  for (int i = 1; i <= 5000; ++i) up.Add(i * 37.0);
  for (int i = 5000; i >= 1; --i) down.Add(i * 37.0);
  EXPECT_EQ(up.Buckets(), down.Buckets());
  EXPECT_LE(up.allocated_buckets(), 2048u + 64u);
}

TEST(QuantileSketchTest, ClearForgetsValuesKeepsParameters) {
  QuantileSketch s(0.02, 10.0, 64);
  for (int i = 0; i < 100; ++i) s.Add(i * 1000);
  s.Clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.zero_count(), 0u);
  EXPECT_TRUE(s.Buckets().empty());
  EXPECT_EQ(s.relative_accuracy(), 0.02);
  EXPECT_EQ(s.zero_threshold(), 10.0);
  s.Add(5000);
  EXPECT_EQ(s.Quantile(0.5), 5000);
  EXPECT_EQ(s.Buckets().size(), 1u);
}

}  // namespace
}  // namespace gcpilot
