// StopCallerProfile's counting and caller naming, and StopCallerCapture's
// time box driven by a real DetectorEngine (simulated process): suspicion
// starts one capture, stacks are counted only while it runs, it switches
// off after its duration, the cool-down holds back the next one, and the
// observer_stops finding then names the caller.
#include "detect/stop_callers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "detect/detect_test_util.h"

namespace gcpilot::detect {
namespace {

constexpr int64_t kSec = SimProcess::kSec;
constexpr int64_t kMs = SimProcess::kMs;

StopStack Stack(std::vector<std::string> frames, uint32_t cost_ns = 4000,
                StwReason reason = StwReason::kReadMemStats) {
  StopStack s;
  s.reason = reason;
  s.frames = std::move(frames);
  s.capture_ns = cost_ns;
  return s;
}

TEST(StopCallersTest, UserCallerSkipsTheRuntime) {
  EXPECT_EQ(
      UserCaller({"runtime.ReadMemStats", "github.com/acme/metrics.(*C).Collect", "main.main"}),
      "github.com/acme/metrics.(*C).Collect");
  EXPECT_EQ(UserCaller({"runtime.GOMAXPROCS", "internal/x.f", "main.tune"}), "main.tune");
  EXPECT_EQ(UserCaller({"runtime.gcBgMarkWorker", "runtime.goexit"}), "runtime.gcBgMarkWorker");
  EXPECT_EQ(UserCaller({}), "");
}

TEST(StopCallersTest, ProfileCountsRanksAndBounds) {
  StopCallerProfile p;
  for (int i = 0; i < 3; ++i) p.Add(Stack({"runtime.ReadMemStats", "main.poll"}, 2000));
  p.Add(Stack({"runtime.ReadMemStats", "main.other"}, 8000));
  for (size_t i = 0; i < StopCallerProfile::kMaxStacks + 5; ++i) {
    p.Add(
        Stack({"runtime.GOMAXPROCS", "main.f" + std::to_string(i)}, 1000, StwReason::kGomaxprocs));
  }
  nlohmann::json j = p.Summary(2);
  EXPECT_EQ(j["stacks"], 4 + StopCallerProfile::kMaxStacks + 5);
  EXPECT_EQ(j["distinct"], StopCallerProfile::kMaxStacks);
  EXPECT_EQ(j["not_kept"], 7u);  // 2 + 64 + 5 distinct, 64 kept.
  ASSERT_EQ(j["top"].size(), 2u);
  EXPECT_EQ(j["top"][0]["caller"], "main.poll");
  EXPECT_EQ(j["top"][0]["count"], 3u);
  EXPECT_EQ(j["top"][0]["reason"], "read_mem_stats");
  EXPECT_DOUBLE_EQ(j["cost"]["max_us"].get<double>(), 8.0);
}

TEST(StopCallersTest, TimeBoxedCaptureNamesTheCallerInTheFinding) {
  SimProcess sim;
  StopCallerCaptureOptions o;
  o.duration_ns = 20 * kSec;
  o.cooldown_ns = 300 * kSec;
  StopCallerCapture capture(o);
  std::map<int32_t, bool> on;  // What the "source" was told.
  int switches = 0;
  auto sw = [&](int32_t pid, bool v) {
    on[pid] = v;
    ++switches;
    return Status::Ok();
  };
  int64_t next_service = 0;
  sim.RunUntil(200 * kSec, [&](int64_t a, int64_t b) {
    sim.Every(2 * kSec, {})(a, b);
    sim.Stop(a + 10 * kMs, StwReason::kReadMemStats, 300'000);
    // The source reports a stack for the stop only while switched on.
    if (on[sim.key.pid]) {
      capture.Add(sim.key,
                  Stack({"runtime.ReadMemStats", "github.com/acme/metrics.scrape", "main.main"}));
    }
    if (b >= next_service) {
      capture.Service(b, sw, &sim.engine);
      next_service = b + kSec;
    }
  });
  // Switched on once when the detector fired, off after the time box; the
  // cool-down kept it from starting again while the finding stayed active.
  EXPECT_EQ(switches, 2);
  EXPECT_FALSE(on[sim.key.pid]);
  EXPECT_EQ(capture.running(), 0u);
  std::vector<Finding> active = sim.engine.Active();
  auto it = std::find_if(active.begin(), active.end(),
                         [](const Finding& f) { return f.detector == "observer_stops"; });
  ASSERT_NE(it, active.end());
  const Finding& f = *it;
  EXPECT_EQ(f.evidence["caller"], "github.com/acme/metrics.scrape");
  EXPECT_NE(f.summary.find("github.com/acme/metrics.scrape"), std::string::npos) << f.summary;
  EXPECT_NE(f.fix.find("Start at github.com/acme/metrics.scrape"), std::string::npos) << f.fix;
  const nlohmann::json& cap = f.evidence["stack_capture"];
  EXPECT_EQ(cap["state"], "done");
  EXPECT_NEAR(cap["captured_s"].get<double>(), 20.0, 1.5);
  // One stop per 100 ms step in the 20 s box.
  EXPECT_NEAR(cap["stacks"].get<double>(), 200, 15);
  EXPECT_DOUBLE_EQ(cap["cost"]["mean_us"].get<double>(), 4.0);
}

TEST(StopCallersTest, FailedSwitchIsReportedNotRetried) {
  StopCallerCapture capture;
  ProcessKey p{42, 1};
  capture.OnSuspicion(p, "observer_stops", 0);
  capture.OnSuspicion(p, "pause_spike", 0);  // Other detectors start nothing.
  int calls = 0;
  auto sw = [&](int32_t, bool) {
    ++calls;
    return Status::NotFound("pid 42 not traced");
  };
  capture.Service(kSec, sw, nullptr);
  capture.OnSuspicion(p, "observer_stops", 2 * kSec);  // Within the cool-down.
  capture.Service(3 * kSec, sw, nullptr);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(capture.running(), 0u);
}

}  // namespace
}  // namespace gcpilot::detect
