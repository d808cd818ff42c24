// Unit tests of the pacer model's effect estimates.
#include "tune/pacer_model.h"

#include <gtest/gtest.h>

#include "tune/test_util.h"

namespace gcpilot::tune {
namespace {

TEST(PacerModel, HeapGoal) {
  EXPECT_EQ(HeapGoal(100, 100, kNoMemoryLimit), 200u);
  EXPECT_EQ(HeapGoal(100, 50, kNoMemoryLimit), 150u);
  EXPECT_EQ(HeapGoal(100, 100, 150), 150u);  // The limit binds.
  EXPECT_EQ(HeapGoal(100, 100, 50), 100u);   // Never below live.
  EXPECT_EQ(HeapGoal(100, -1, kNoMemoryLimit), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(HeapGoal(100, -1, 300), 300u);
}

// Doubling GOGC doubles the room between GCs: half the GCs and GC CPU.
TEST(PacerModel, DoublingGogcHalvesGcRate) {
  WindowStats w = testing::Window();
  ExpectedEffect e = EstimateEffect(w, 100, kNoMemoryLimit, 200, kNoMemoryLimit);
  ASSERT_TRUE(e.known);
  EXPECT_DOUBLE_EQ(e.gcs_per_sec_before, 2.0);
  EXPECT_DOUBLE_EQ(e.gcs_per_sec_after, 1.0);
  EXPECT_DOUBLE_EQ(e.gc_cpu_share_after, 0.02);
  EXPECT_EQ(e.heap_peak_bytes_before, 128ull << 20);
  EXPECT_EQ(e.heap_peak_bytes_after, 192ull << 20);
  EXPECT_FALSE(e.limit_bound_after);
  EXPECT_NE(e.text.find("GC CPU ~4.0% -> ~2.0%"), std::string::npos) << e.text;
}

TEST(PacerModel, BindingLimitCapsGcCpu) {
  WindowStats w = testing::Window();
  // 65 MB limit on 64 MB live: ~1 MB of room -> GC CPU capped at 50%.
  ExpectedEffect e = EstimateEffect(w, 100, kNoMemoryLimit, 100, 65ll << 20);
  EXPECT_TRUE(e.limit_bound_after);
  EXPECT_LE(e.gc_cpu_share_after, 0.5);
  EXPECT_GT(e.gcs_per_sec_after, e.gcs_per_sec_before * 10);
}

TEST(PacerModel, NoCycleNoEstimate) {
  WindowStats w = testing::Window();
  w.gc_cycles = 0;
  EXPECT_FALSE(EstimateEffect(w, 100, kNoMemoryLimit, 200, kNoMemoryLimit).known);
}

}  // namespace
}  // namespace gcpilot::tune
