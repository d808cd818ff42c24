// Unit tests of each detector on synthetic processes: it fires on its
// pattern within the stated time and stays quiet on a steady service.
#include <gtest/gtest.h>

#include "detect/detect_test_util.h"

namespace gcpilot::detect {
namespace {

constexpr int64_t kMs = SimProcess::kMs;
constexpr int64_t kSec = SimProcess::kSec;
using Shape = SimProcess::CycleShape;

const char* const kAll[] = {"allocation_storm",   "pause_spike",    "mark_assist_stall",
                            "long_write_barrier", "observer_stops", "memory_limit_thrash",
                            "goroutine_leak",     "heap_surge",     "fragmentation",
                            "finalizer_backlog"};

// A steady service: a GC every 2 s (10 MB allocated each: 5 MB/s), pauses
// of 60-140 us, a little assist, a ReadMemStats every 30 s.
void SteadyStep(SimProcess& sim, int64_t t0, int64_t t1) {
  for (int64_t t = (t0 + 2 * kSec - 1) / (2 * kSec) * (2 * kSec); t < t1; t += 2 * kSec) {
    if (t == 0) continue;
    Shape s;
    s.pause_ns = 60'000 + (t / kSec * 7919) % 80'000;
    sim.Cycle(t, s);
  }
  for (int64_t t = (t0 + 30 * kSec - 1) / (30 * kSec) * (30 * kSec); t < t1; t += 30 * kSec) {
    sim.Stop(t + kMs, StwReason::kReadMemStats, 400'000);
  }
}

TEST(DetectorsTest, SteadyServiceStaysQuietForTenMinutes) {
  SimProcess sim;
  sim.RunUntil(600 * kSec, [&](int64_t a, int64_t b) { SteadyStep(sim, a, b); });
  for (const char* d : kAll) EXPECT_EQ(sim.Raises(d), 0u) << d;
  EXPECT_TRUE(sim.engine.Active().empty());
}

TEST(DetectorsTest, AllocationStormByRateFiresWithinThreeSeconds) {
  SimProcess sim;
  sim.RunUntil(30 * kSec, [&](int64_t a, int64_t b) { SteadyStep(sim, a, b); });
  Shape storm;
  storm.alloc_bytes = 4'000'000;  // Every 40 ms: 100 MB/s, 25 GC/s.
  storm.pause_ns = 70'000;
  sim.RunUntil(60 * kSec, sim.Every(40 * kMs, storm));
  int64_t at = sim.RaisedAt("allocation_storm");
  ASSERT_GT(at, 0);
  EXPECT_LE(at - 30 * kSec, 3 * kSec);
  const Finding* first = sim.First("allocation_storm");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_EQ(f.title, "Allocation storm");
  EXPECT_GT(f.evidence["alloc_bytes_per_sec"].get<double>(), 50e6);
  EXPECT_GT(f.evidence["cycles"]["count"].get<uint64_t>(), 0u);
  EXPECT_FALSE(f.fix.empty());
  // Back to steady: cleared within 25 s (the 10 s window must drop below
  // the hold level, then 10 s quiet), raised once.
  sim.RunUntil(90 * kSec, [&](int64_t a, int64_t b) { SteadyStep(sim, a, b); });
  EXPECT_EQ(sim.Raises("allocation_storm"), 1u);
  ASSERT_EQ(sim.Clears("allocation_storm"), 1u);
  EXPECT_LE(sim.cleared.front().first - 60 * kSec, 25 * kSec);
}

TEST(DetectorsTest, AllocationStormByGcFrequencyWithShortPauses) {
  SimProcess sim;
  Shape s;
  s.alloc_bytes = 2'000'000;  // 2 GC/s x 2 MB = 4 MB/s: not by rate.
  sim.RunUntil(20 * kSec, sim.Every(500 * kMs, s));
  int64_t at = sim.RaisedAt("allocation_storm");
  ASSERT_GT(at, 0);
  EXPECT_LE(at, 8 * kSec);
  ASSERT_NE(sim.First("allocation_storm"), nullptr);
  EXPECT_EQ(sim.First("allocation_storm")->evidence["rule"], "gc_frequency");
}

TEST(DetectorsTest, BorderlineRateDoesNotFlap) {
  SimProcess sim;
  // 60 MB/s for 5 s raises; then alternating 45 / 55 MB/s seconds hold it.
  Shape hi, mid, lo;
  hi.alloc_bytes = 6'000'000;
  mid.alloc_bytes = 4'500'000;
  lo.alloc_bytes = 5'500'000;
  sim.RunUntil(5 * kSec, sim.Every(100 * kMs, hi));
  ASSERT_EQ(sim.Raises("allocation_storm"), 1u);
  for (int i = 0; i < 20; ++i) {
    sim.RunUntil(sim.now + kSec, sim.Every(100 * kMs, i % 2 ? mid : lo));
  }
  EXPECT_EQ(sim.Raises("allocation_storm"), 1u);
  EXPECT_EQ(sim.Clears("allocation_storm"), 0u);
  EXPECT_EQ(sim.engine.Active().size(), 1u);
}

TEST(DetectorsTest, PauseSpikeFiresOnTheWindowWithTheSpike) {
  SimProcess sim;
  Shape s;
  s.alloc_bytes = 1'000'000;
  sim.RunUntil(10 * kSec, sim.Every(200 * kMs, s));  // 100 pauses of 80 us.
  EXPECT_EQ(sim.Raises("pause_spike"), 0u);
  Shape spike = s;
  spike.pause_ns = 3 * kMs;
  sim.Cycle(10 * kSec + 50 * kMs, spike);
  sim.RunUntil(12 * kSec, sim.Every(200 * kMs, s));
  // One 3 ms spike (below the 5 ms SLO) alone is not raised ...
  EXPECT_EQ(sim.Raises("pause_spike"), 0u);
  // ... a second one within 30 s confirms it.
  sim.Cycle(12 * kSec + 50 * kMs, spike);
  sim.RunUntil(14 * kSec, sim.Every(200 * kMs, s));
  int64_t at = sim.RaisedAt("pause_spike");
  ASSERT_GT(at, 0);
  EXPECT_LE(at - 12 * kSec, 1 * kSec);
  const Finding* first = sim.First("pause_spike");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_EQ(f.title, "Pause spike");
  EXPECT_EQ(f.evidence["max_pause_ns"].get<double>(), 3e6);
  EXPECT_EQ(f.evidence["spiking_cycles"][0]["gc"].get<uint64_t>(), 61u);  // The second spike.
  EXPECT_EQ(f.evidence["long_pauses_last_30s"].get<int>(), 2);
  EXPECT_EQ(f.severity, Severity::kWarning);
  // 30 s later without spikes: cleared.
  sim.RunUntil(47 * kSec, sim.Every(200 * kMs, s));
  EXPECT_EQ(sim.Clears("pause_spike"), 1u);
}

TEST(DetectorsTest, OnePauseAtTheSloIsRaisedAtOnce) {
  SimProcess sim;
  Shape s;
  sim.RunUntil(10 * kSec, sim.Every(200 * kMs, s));
  Shape spike = s;
  spike.pause_ns = 7 * kMs;
  sim.Cycle(10 * kSec + 50 * kMs, spike);
  sim.RunUntil(12 * kSec, sim.Every(200 * kMs, s));
  ASSERT_GT(sim.RaisedAt("pause_spike"), 0);
  EXPECT_EQ(sim.First("pause_spike")->severity, Severity::kCritical);
}

TEST(DetectorsTest, SubMillisecondJitterIsNotASpike) {
  SimProcess sim;
  Shape s;
  s.pause_ns = 20'000;
  sim.RunUntil(10 * kSec, sim.Every(200 * kMs, s));
  Shape bump = s;
  bump.pause_ns = 300'000;  // 15 x P95 but below the 1 ms floor.
  sim.Cycle(10 * kSec + 50 * kMs, bump);
  sim.RunUntil(12 * kSec, sim.Every(200 * kMs, s));
  EXPECT_EQ(sim.Raises("pause_spike"), 0u);
}

TEST(DetectorsTest, StwAvalancheIsCritical) {
  SimProcess sim;
  Shape s;
  sim.RunUntil(10 * kSec, sim.Every(100 * kMs, s));
  Shape spike = s;
  spike.pause_ns = 6 * kMs;
  sim.RunUntil(11 * kSec, sim.Every(100 * kMs, spike));
  ASSERT_GT(sim.RaisedAt("pause_spike"), 0);
  const Finding* first = sim.First("pause_spike");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_EQ(f.title, "STW avalanche");
  EXPECT_EQ(f.severity, Severity::kCritical);
}

TEST(DetectorsTest, MarkAssistStallFiresWithinFifteenSeconds) {
  SimProcess sim;
  Shape s;
  s.alloc_bytes = 3'000'000;
  s.assist_cpu_ns = 30 * kMs;  // 5 GC/s: 150 ms assist + 50 ms background per s of 2 CPUs.
  s.background_cpu_ns = 10 * kMs;
  sim.RunUntil(30 * kSec, sim.Every(200 * kMs, s));
  int64_t at = sim.RaisedAt("mark_assist_stall");
  ASSERT_GT(at, 0);
  EXPECT_LE(at, 15 * kSec);
  const Finding* first = sim.First("mark_assist_stall");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_GT(f.evidence["assist_share_of_gc_cpu"].get<double>(), 0.25);
}

TEST(DetectorsTest, MarkAssistNeedsEnoughGcCpu) {
  SimProcess sim;
  Shape s;
  s.assist_cpu_ns = 3 * kMs;  // 75% of GC CPU, but GC CPU is ~1%.
  s.background_cpu_ns = 1 * kMs;
  sim.RunUntil(30 * kSec, sim.Every(2 * kSec, s));
  EXPECT_EQ(sim.Raises("mark_assist_stall"), 0u);
}

TEST(DetectorsTest, LongWriteBarrierWindowFiresWithinFifteenSeconds) {
  SimProcess sim;
  Shape s;
  s.mark_ns = 250 * kMs;  // 2 GC/s: marking half the time.
  sim.RunUntil(30 * kSec, sim.Every(500 * kMs, s));
  int64_t at = sim.RaisedAt("long_write_barrier");
  ASSERT_GT(at, 0);
  EXPECT_LE(at, 15 * kSec);
  const Finding* first = sim.First("long_write_barrier");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_GT(f.evidence["mark_wall_share"].get<double>(), 0.3);
  EXPECT_EQ(f.evidence["max_mark_ns"].get<int64_t>(), 250 * kMs);
}

TEST(DetectorsTest, ObserverStopsNameTheReasonWithinThirtySeconds) {
  SimProcess sim;
  sim.RunUntil(120 * kSec, [&](int64_t a, int64_t b) {
    SteadyStep(sim, a, b);
    sim.Stop(a + 10 * kMs, StwReason::kReadMemStats, 300'000);  // 10/s.
  });
  int64_t at = sim.RaisedAt("observer_stops");
  ASSERT_GT(at, 0);
  EXPECT_LE(at, 30 * kSec);
  const Finding* first = sim.First("observer_stops");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_EQ(f.evidence["reason"], "read_mem_stats");
  EXPECT_NEAR(f.evidence["per_sec"].get<double>(), 10, 0.5);
  EXPECT_NE(f.summary.find("runtime.ReadMemStats"), std::string::npos) << f.summary;
  // No capture ran (the simulation has no eBPF source to switch).
  EXPECT_TRUE(f.evidence["caller"].is_null());
  EXPECT_NE(f.evidence["stack_capture"].get<std::string>().find("not run"), std::string::npos);
  EXPECT_EQ(f.evidence["needs"], "ebpf");
}

TEST(DetectorsTest, ObserverStopsNotRunWithoutEbpf) {
  SimProcess sim(DetectorConfig(), {DataNeed::kAnySource});
  sim.RunUntil(60 * kSec, [&](int64_t a, int64_t b) {
    SteadyStep(sim, a, b);
    sim.Stop(a + 10 * kMs, StwReason::kReadMemStats, 300'000);
  });
  EXPECT_EQ(sim.Raises("observer_stops"), 0u);
  bool skipped = false;
  for (const Detector* d : sim.engine.skipped()) skipped |= d->name() == "observer_stops";
  EXPECT_TRUE(skipped);
}

TEST(DetectorsTest, MemoryLimitThrashFiresWithinFifteenSeconds) {
  SimProcess sim;
  sim.gauges.memory_limit_bytes = 64 << 20;
  Shape s;
  s.heap_live_bytes = 62u << 20;
  s.heap_goal_bytes = 63u << 20;
  s.alloc_bytes = 1'000'000;
  s.mark_ns = 60 * kMs;
  s.background_cpu_ns = 40 * kMs;  // 10 GC/s x 40 ms / 2 CPUs: 20%+.
  s.assist_cpu_ns = 20 * kMs;
  sim.RunUntil(30 * kSec, sim.Every(100 * kMs, s));
  int64_t at = sim.RaisedAt("memory_limit_thrash");
  ASSERT_GT(at, 0);
  EXPECT_LE(at, 15 * kSec);
  const Finding* first = sim.First("memory_limit_thrash");
  ASSERT_NE(first, nullptr);
  const Finding& f = *first;
  EXPECT_GT(f.evidence["live_share_of_limit"].get<double>(), 0.9);
}

TEST(DetectorsTest, MemoryLimitFarAboveTheHeapIsQuiet) {
  SimProcess sim;
  sim.gauges.memory_limit_bytes = 1LL << 30;
  Shape s;
  s.background_cpu_ns = 40 * kMs;
  sim.RunUntil(30 * kSec, sim.Every(100 * kMs, s));
  EXPECT_EQ(sim.Raises("memory_limit_thrash"), 0u);
}

TEST(DetectorsTest, GoroutineLeakAndHeapSurgeFireWithinTwoMinutes) {
  SimProcess sim;
  sim.RunUntil(30 * kSec, [&](int64_t a, int64_t b) { SteadyStep(sim, a, b); });
  const int64_t start = sim.now;
  sim.RunUntil(240 * kSec, [&](int64_t a, int64_t b) {
    double secs = static_cast<double>(a - start) / 1e9;
    sim.gauges.goroutines = 50 + static_cast<int64_t>(20 * secs);  // 20 per second.
    for (int64_t t = (a + kSec - 1) / kSec * kSec; t < b; t += kSec) {
      Shape s;
      s.heap_live_bytes = (20u << 20) + static_cast<uint64_t>(secs * (1 << 20));  // 1 MiB/s.
      sim.Cycle(t, s);
    }
  });
  int64_t leak = sim.RaisedAt("goroutine_leak");
  int64_t surge = sim.RaisedAt("heap_surge");
  ASSERT_GT(leak, 0);
  ASSERT_GT(surge, 0);
  EXPECT_LE(leak - start, 120 * kSec);
  EXPECT_LE(surge - start, 120 * kSec);
  for (const auto& [t, f] : sim.raised) {
    if (f.detector != "goroutine_leak") continue;
    // The fit also spans the flat 30 s before the leak.
    EXPECT_GT(f.evidence["slope_per_sec"].get<double>(), 10);
    EXPECT_GT(f.evidence["r2"].get<double>(), 0.9);
  }
}

TEST(DetectorsTest, GoroutineCountThatSwingsIsNotALeak) {
  SimProcess sim;
  sim.RunUntil(400 * kSec, [&](int64_t a, int64_t b) {
    SteadyStep(sim, a, b);
    sim.gauges.goroutines = 200 + ((a / kSec) % 20 < 10 ? 150 : 0);  // Bursty, flat on average.
  });
  EXPECT_EQ(sim.Raises("goroutine_leak"), 0u);
}

TEST(DetectorsTest, ExitClearsActiveFindings) {
  SimProcess sim;
  Shape storm;
  storm.alloc_bytes = 4'000'000;
  sim.RunUntil(10 * kSec, sim.Every(40 * kMs, storm));
  ASSERT_EQ(sim.engine.Active().size(), 1u);
  sim.engine.OnProcessGone(sim.key, sim.now, "process exited");
  EXPECT_TRUE(sim.engine.Active().empty());
  std::vector<Finding> recent = sim.engine.Recent(10);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].clear_reason, "process exited");
  EXPECT_FALSE(recent[0].active);
  nlohmann::json j = FindingToJson(recent[0], 1'000'000'000'000);
  EXPECT_EQ(j["detector"], "allocation_storm");
  EXPECT_EQ(j["severity"], "warning");
  EXPECT_TRUE(j["evidence"]["window"].contains("start_ms"));
  EXPECT_FALSE(j["cleared_ms"].is_null());
}

TEST(DetectorsTest, DefaultConfigIsValidAndBadOnesAreNamed) {
  EXPECT_TRUE(ValidateDetectorConfig(DetectorConfig()).ok());
  DetectorConfig c;
  c.spike_factor = 0.5;
  Status s = ValidateDetectorConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("spike"), std::string::npos);
}

TEST(DetectorsTest, FitLine) {
  std::optional<LineFit> f = FitLine({0, 1, 2, 3}, {1, 3, 5, 7});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->slope, 2);
  EXPECT_DOUBLE_EQ(f->intercept, 1);
  EXPECT_DOUBLE_EQ(f->r2, 1);
  EXPECT_FALSE(FitLine({1, 1}, {1, 2}));
}

}  // namespace
}  // namespace gcpilot::detect
