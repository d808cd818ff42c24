// Unit tests of the breaker's state machine (breaker.h).
#include "control/breaker.h"

#include <gtest/gtest.h>

namespace gcpilot::control {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000 * kMs;

// Feeds 1 s windows every 500 ms ending at end_ns with the given P99.
std::optional<BreakerTransition> Window(Breaker& b, int64_t end_ns, int64_t p99_ns) {
  return b.OnWindow(end_ns - kS, end_ns, p99_ns);
}

TEST(BreakerTest, FullCycleClosedOpenHalfOpenClosed) {
  Breaker b(BreakerParams{});
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_FALSE(Window(b, 1 * kS, 1 * kMs));
  EXPECT_FALSE(Window(b, 1500 * kMs, 5 * kMs)) << "at the threshold is still healthy";
  auto open = Window(b, 2 * kS, 7300 * 1000);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->from, BreakerState::kClosed);
  EXPECT_EQ(open->to, BreakerState::kOpen);
  EXPECT_EQ(open->at_ns, 2 * kS);
  EXPECT_EQ(open->p99_ns, 7300 * 1000);
  EXPECT_EQ(open->threshold_ns, 5 * kMs);
  EXPECT_EQ(open->window_start_ns, 1 * kS);
  EXPECT_EQ(open->reason, "STW P99 7.3ms > threshold 5ms over the 1s window");
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  // Still bad: the cool-down restarts from the last bad window.
  EXPECT_FALSE(Window(b, 2500 * kMs, 9 * kMs));
  for (int64_t t = 3 * kS; t < 12500 * kMs; t += 500 * kMs) {
    EXPECT_FALSE(Window(b, t, 0)) << t;
  }
  auto half = Window(b, 12500 * kMs, 0);
  ASSERT_TRUE(half);
  EXPECT_EQ(half->to, BreakerState::kHalfOpen);
  EXPECT_EQ(half->at_ns, 12500 * kMs);
  EXPECT_NE(half->reason.find("cool-down of 10s"), std::string::npos) << half->reason;
  // That window counts as the first healthy one.
  EXPECT_EQ(b.healthy_in_a_row(), 1);
  EXPECT_FALSE(Window(b, 13 * kS, 1 * kMs));
  auto closed = Window(b, 13500 * kMs, 2 * kMs);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->from, BreakerState::kHalfOpen);
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_EQ(closed->reason, "3 healthy windows in a row (STW P99 at most 5ms over the 1s window)");
  EXPECT_EQ(b.since_ns(), 13500 * kMs);
  EXPECT_EQ(b.transitions(), 3u);
}

TEST(BreakerTest, UnhealthyWindowWhileHalfOpenReopens) {
  BreakerParams p;
  p.cool_down_ns = 2 * kS;
  Breaker b(p);
  ASSERT_TRUE(Window(b, 1 * kS, 6 * kMs));
  EXPECT_FALSE(Window(b, 2 * kS, 0));
  ASSERT_TRUE(Window(b, 3 * kS, 0));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(Window(b, 3500 * kMs, 0));
  auto again = Window(b, 4 * kS, 20 * kMs);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->from, BreakerState::kHalfOpen);
  EXPECT_EQ(again->to, BreakerState::kOpen);
  EXPECT_NE(again->reason.find("while half-open"), std::string::npos);
  // The healthy count starts over after the next cool-down.
  ASSERT_TRUE(Window(b, 6 * kS, 0));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(Window(b, 6500 * kMs, 0));
  ASSERT_TRUE(Window(b, 7 * kS, 0));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(BreakerTest, AdvanceMovesToHalfOpenWithoutWindows) {
  BreakerParams p;
  p.cool_down_ns = 3 * kS;
  Breaker b(p);
  ASSERT_TRUE(Window(b, 10 * kS, 50 * kMs));
  EXPECT_FALSE(b.Advance(12 * kS));
  auto t = b.Advance(20 * kS);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, BreakerState::kHalfOpen);
  EXPECT_EQ(t->at_ns, 13 * kS) << "at the cool-down's end, not when noticed";
  EXPECT_FALSE(b.Advance(30 * kS));
}

TEST(BreakerTest, FastPathTripsBeforeTheWindowCompletes) {
  Breaker b(BreakerParams{});
  auto t = b.OnUnhealthyNow(100 * kMs, 1100 * kMs, 40 * kMs);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, BreakerState::kOpen);
  // The completed window holding the same pause changes nothing.
  EXPECT_FALSE(Window(b, 1500 * kMs, 40 * kMs));
  EXPECT_EQ(b.transitions(), 1u);
}

TEST(BreakerTest, RecoveryWindowsOfOne) {
  BreakerParams p;
  p.recovery_windows = 1;
  p.cool_down_ns = 1 * kS;
  Breaker b(p);
  ASSERT_TRUE(Window(b, 1 * kS, 6 * kMs));
  // HALF_OPEN at 2 s, and that healthy window closes it.
  auto c = Window(b, 2 * kS, 0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, BreakerState::kClosed);
  EXPECT_EQ(b.transitions(), 3u);
}

TEST(BreakerTest, AbsurdParamsAreErrors) {
  BreakerParams p;
  EXPECT_TRUE(ValidateBreakerParams(p).ok());
  p.threshold_ns = 0;
  EXPECT_FALSE(ValidateBreakerParams(p).ok());
  p.threshold_ns = -5;
  EXPECT_FALSE(ValidateBreakerParams(p).ok());
  p.threshold_ns = 61 * kS;
  Status s = ValidateBreakerParams(p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("threshold"), std::string::npos);
  p.threshold_ns = 60 * kS;
  EXPECT_TRUE(ValidateBreakerParams(p).ok());
  p.recovery_windows = 0;
  EXPECT_FALSE(ValidateBreakerParams(p).ok());
  p.recovery_windows = 3;
  p.cool_down_ns = 0;
  EXPECT_FALSE(ValidateBreakerParams(p).ok());
}

TEST(BreakerTest, StateNamesAndMs) {
  EXPECT_EQ(BreakerStateName(BreakerState::kClosed), "closed");
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
  EXPECT_EQ(BreakerStateName(BreakerState::kOpen), "open");
  EXPECT_EQ(FormatMs(5 * kMs), "5ms");
  EXPECT_EQ(FormatMs(1500 * 1000), "1.5ms");
  EXPECT_EQ(FormatShort(10 * kS), "10s");
  EXPECT_EQ(FormatShort(1500 * kMs), "1.5s");
}

}  // namespace
}  // namespace gcpilot::control
