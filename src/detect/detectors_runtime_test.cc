// Unit tests of the detectors that read process memory (fragmentation,
// finalizer backlog) and of goroutine creation-site tracking: ranking,
// bounds, the tracker's sessions, and the findings that cite the sites.
#include <gtest/gtest.h>

#include "detect/creation_sites.h"
#include "detect/detect_test_util.h"
#include "detect/site_tracker.h"

namespace gcpilot::detect {
namespace {

constexpr int64_t kSec = SimProcess::kSec;
using Shape = SimProcess::CycleShape;

// A GC every 2 s marking `live`, goal 2 x live; heap in use swings from
// live to the goal between cycles (a healthy heap).
void Healthy(SimProcess& sim, int64_t a, int64_t b, uint64_t live) {
  for (int64_t t = (a + 2 * kSec - 1) / (2 * kSec) * (2 * kSec); t < b; t += 2 * kSec) {
    if (t == 0) continue;
    Shape s;
    s.heap_live_bytes = live;
    s.heap_goal_bytes = 2 * live;
    sim.Cycle(t, s);
  }
  const double phase = static_cast<double>(a % (2 * kSec)) / (2.0 * kSec);
  sim.gauges.heap_inuse_pages_bytes =
      live + static_cast<uint64_t>(phase * static_cast<double>(live));
  sim.gauges.finalizer_backlog = (a / kSec) % 7;  // A few, run at once.
}

TEST(FragmentationTest, HealthyHeapStaysQuiet) {
  SimProcess sim;
  sim.RunUntil(300 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 64u << 20); });
  EXPECT_EQ(sim.Raises("fragmentation"), 0u);
  EXPECT_EQ(sim.Raises("finalizer_backlog"), 0u);
}

TEST(FragmentationTest, HighGogcHeapAboveLiveButBelowGoalStaysQuiet) {
  // GOGC=400: in use reaches 5 x live between rare cycles, never the goal.
  SimProcess sim;
  sim.RunUntil(200 * kSec, [&](int64_t a, int64_t b) {
    for (int64_t t = (a + 60 * kSec - 1) / (60 * kSec) * (60 * kSec); t < b; t += 60 * kSec) {
      if (t == 0) continue;
      Shape s;
      s.heap_live_bytes = 20u << 20;
      s.heap_goal_bytes = 100u << 20;
      sim.Cycle(t, s);
    }
    sim.gauges.heap_inuse_pages_bytes =
        (60u << 20) + static_cast<uint64_t>((a / kSec) % 60) * (600u << 10);
  });
  EXPECT_EQ(sim.Raises("fragmentation"), 0u);
}

// The lowest heap in use over the 30 s window must be high: the whole window
// (30 s) after the pattern starts, plus 3 evaluations.
TEST(FragmentationTest, SparseSpansFireWithinThirtyFiveSeconds) {
  SimProcess sim;
  sim.RunUntil(60 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 4u << 20); });
  const int64_t start = sim.now;
  sim.RunUntil(120 * kSec, [&](int64_t a, int64_t b) {
    Healthy(sim, a, b, 4u << 20);
    sim.gauges.heap_inuse_pages_bytes = 100u << 20;  // 96 MiB of pinned spans.
  });
  int64_t at = sim.RaisedAt("fragmentation");
  ASSERT_GT(at, 0);
  EXPECT_LE(at - start, 35 * kSec);
  const Finding* f = sim.First("fragmentation");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->evidence["heap_inuse_bytes_min"].get<uint64_t>(), 100u << 20);
  EXPECT_EQ(f->evidence["heap_live_bytes"].get<uint64_t>(), 4u << 20);
  EXPECT_GT(f->evidence["excess_bytes"].get<double>(), 90.0 * (1 << 20));
  EXPECT_NE(f->fix.find("sync.Pool"), std::string::npos);
  // Compacted: cleared.
  sim.RunUntil(200 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 4u << 20); });
  EXPECT_EQ(sim.Clears("fragmentation"), 1u);
}

TEST(FragmentationTest, SmallExcessIsNotFragmentation) {
  // 3x the live heap but only 6 MiB above it: under the 32 MiB minimum.
  SimProcess sim;
  sim.RunUntil(120 * kSec, [&](int64_t a, int64_t b) {
    Healthy(sim, a, b, 3u << 20);
    sim.gauges.heap_inuse_pages_bytes = 9u << 20;
  });
  EXPECT_EQ(sim.Raises("fragmentation"), 0u);
}

TEST(FinalizerBacklogTest, GrowingQueueFiresAndFlatSmallQueueDoesNot) {
  SimProcess sim;
  sim.RunUntil(60 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 8u << 20); });
  const int64_t start = sim.now;
  sim.RunUntil(120 * kSec, [&](int64_t a, int64_t b) {
    Healthy(sim, a, b, 8u << 20);
    sim.gauges.finalizer_backlog = (a - start) / kSec * 100;  // 100 more a second.
  });
  // The fit spans the flat minute before: ~34 s.
  int64_t at = sim.RaisedAt("finalizer_backlog");
  ASSERT_GT(at, 0);
  EXPECT_LE(at - start, 40 * kSec);
  const Finding* f = sim.First("finalizer_backlog");
  ASSERT_NE(f, nullptr);
  EXPECT_GE(f->evidence["backlog_now"].get<int64_t>(), 1000);
  EXPECT_GT(f->evidence["slope_per_sec"].get<double>(), 30);
  EXPECT_GT(f->evidence["r2"].get<double>(), 0.8);
  // Drained: cleared.
  sim.RunUntil(200 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 8u << 20); });
  EXPECT_EQ(sim.Clears("finalizer_backlog"), 1u);
}

SiteCount Site(const std::string& fn, int line, int64_t live) {
  SiteCount c;
  c.function = fn;
  c.file = "/src/app/svc/" + fn + ".go";
  c.line = line;
  c.goroutine_function = fn + ".func1";
  c.live = live;
  return c;
}

SiteSample Sample(int64_t t, std::vector<SiteCount> sites) {
  SiteSample s;
  s.t_ns = t;
  for (const SiteCount& c : sites) s.live += c.live;
  s.sites = std::move(sites);
  s.cpu_ns = 1'000'000;
  s.wall_ns = 2'000'000;
  s.bytes_read = 1000;
  return s;
}

TEST(CreationSitesTest, RanksByGrowthThenLiveCount) {
  CreationSiteTracking t;
  t.Add(Sample(0, {Site("main.serve", 10, 500), Site("main.leak", 20, 100)}));
  t.Add(Sample(10 * kSec, {Site("main.serve", 10, 480), Site("main.leak", 20, 300),
                           Site("main.newer", 5, 40)}));
  std::vector<SiteGrowth> r = RankCreationSites(t, 10);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].site.function, "main.leak");
  EXPECT_EQ(r[0].growth, 200);
  EXPECT_DOUBLE_EQ(r[0].per_sec, 20);
  EXPECT_EQ(r[1].site.function, "main.newer");  // Absent at first: +40.
  EXPECT_EQ(r[1].first_live, 0);
  EXPECT_EQ(r[2].site.function, "main.serve");
  EXPECT_EQ(r[2].growth, -20);
  std::vector<SiteGrowth> growing = GrowingCreationSites(t, 5, 1);
  ASSERT_EQ(growing.size(), 2u);
  EXPECT_EQ(GrowingSitesText(growing),
            "main.leak (svc/main.leak.go:20) +200 (300 live), main.newer (svc/main.newer.go:5) "
            "+40 (40 live)");
  nlohmann::json e = CreationSitesEvidence(t, 2);
  EXPECT_EQ(e["sites"].size(), 2u);
  EXPECT_EQ(e["cost"]["walks"], 2);
  EXPECT_DOUBLE_EQ(e["cost"]["agent_cpu_ms"].get<double>(), 2.0);
  EXPECT_EQ(e["cost"]["bytes_read"], 2000);
}

TEST(CreationSitesTest, OneSampleRanksByLiveCountAndNothingGrows) {
  CreationSiteTracking t;
  t.Add(Sample(0, {Site("main.a", 1, 5), Site("main.b", 2, 50)}));
  std::vector<SiteGrowth> r = RankCreationSites(t, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].site.function, "main.b");
  EXPECT_TRUE(GrowingCreationSites(t, 5, 1).empty());
}

TEST(CreationSitesTest, BoundsKeepTheBaselineAndCutSites) {
  CreationSiteTracking t;
  std::vector<SiteCount> many;
  for (int i = 0; i < 1000; ++i) many.push_back(Site("main.f" + std::to_string(i), i, i));
  for (int i = 0; i < 200; ++i) t.Add(Sample(i * kSec, many));
  EXPECT_EQ(t.samples.size(), CreationSiteTracking::kMaxSamples);
  EXPECT_EQ(t.samples.front().t_ns, 0);  // The baseline stays.
  EXPECT_EQ(t.samples.back().t_ns, 199 * kSec);
  EXPECT_EQ(t.samples.back().sites.size(), CreationSiteTracking::kMaxSitesPerSample);
  EXPECT_EQ(t.samples.back().sites.front().live, 999);  // Most live kept.
  EXPECT_EQ(t.walks, 200u);
}

// The tracker starts a session when goroutine_leak suspects the process,
// walks every interval for the configured duration only, and the finding
// names the growing site.
TEST(CreationSitesTest, TrackerRunsABoundedSessionAndTheLeakFindingNamesTheSite) {
  DetectorConfig config;
  config.sites_duration_ns = 30 * kSec;
  config.sites_interval_ns = 5 * kSec;
  config.sites_cooldown_ns = 600 * kSec;
  SimProcess sim(config);
  int walks = 0;
  int64_t leaked = 0;
  SiteTracker tracker(
      &sim.engine, config, [&](const ProcessKey& p, int64_t max) -> StatusOr<SiteSample> {
        EXPECT_EQ(p, sim.key);
        EXPECT_EQ(max, config.sites_max_goroutines);
        ++walks;
        return Sample(0, {Site("main.serve", 10, 40), Site("main.leakLoop", 43, leaked)});
      });
  sim.RunUntil(30 * kSec, [&](int64_t a, int64_t b) { Healthy(sim, a, b, 20u << 20); });
  tracker.Tick(sim.now);
  EXPECT_EQ(walks, 0);  // Nothing suspected yet.
  const int64_t start = sim.now;
  sim.RunUntil(300 * kSec, [&](int64_t a, int64_t b) {
    Healthy(sim, a, b, 20u << 20);
    leaked = (a - start) / kSec * 20;
    sim.gauges.goroutines = 50 + leaked;
    if (a % kSec == 0) tracker.Tick(a);
  });
  // 30 s at one walk per 5 s: 6 walks (7 with the edge), then none.
  EXPECT_GE(walks, 6);
  EXPECT_LE(walks, 7);
  EXPECT_EQ(tracker.active(), 0u);
  std::vector<Finding> active = sim.engine.Active();
  const Finding* leak = nullptr;
  for (const Finding& f : active) {
    if (f.detector == "goroutine_leak") leak = &f;
  }
  ASSERT_NE(leak, nullptr);
  EXPECT_NE(leak->summary.find("main.leakLoop (svc/main.leakLoop.go:43)"), std::string::npos)
      << leak->summary;
  const nlohmann::json& e = leak->evidence["creation_sites"];
  EXPECT_EQ(e["sites"][0]["function"], "main.leakLoop");
  EXPECT_GT(e["sites"][0]["growth"].get<int64_t>(), 0);
  EXPECT_FALSE(e["tracking"]["ended_ns"].is_null());
  EXPECT_EQ(e["cost"]["walks"].get<size_t>(), static_cast<size_t>(walks));
}

TEST(CreationSitesTest, FailedWalksAreReportedNotFatal) {
  SimProcess sim;
  SiteTracker tracker(&sim.engine, DetectorConfig(),
                      [&](const ProcessKey&, int64_t) -> StatusOr<SiteSample> {
                        return Status::NotFound("runtime.allgs not located in go1.99.1");
                      });
  const int64_t start = sim.now;
  sim.RunUntil(200 * kSec, [&](int64_t a, int64_t b) {
    Healthy(sim, a, b, 20u << 20);
    sim.gauges.goroutines = 50 + (a - start) / kSec * 20;
    if (a % kSec == 0) tracker.Tick(a);
  });
  bool seen = false;
  for (const Finding& f : sim.engine.Active()) {
    if (f.detector != "goroutine_leak") continue;
    seen = true;
    EXPECT_EQ(f.evidence["creation_sites"]["tracking"]["last_error"],
              "runtime.allgs not located in go1.99.1");
    EXPECT_NE(f.summary.find("unavailable"), std::string::npos);
  }
  EXPECT_TRUE(seen);
}

TEST(DetectorConfigTest, RejectsAbsurdMemoryDetectorThresholds) {
  DetectorConfig c;
  EXPECT_TRUE(ValidateDetectorConfig(c).ok());
  c.frag_ratio = 0.5;
  EXPECT_FALSE(ValidateDetectorConfig(c).ok());
  c = DetectorConfig();
  c.sites_interval_ns = c.sites_duration_ns + 1;
  EXPECT_FALSE(ValidateDetectorConfig(c).ok());
  c = DetectorConfig();
  c.fin_min_span_ns = 1;
  EXPECT_FALSE(ValidateDetectorConfig(c).ok());
  c = DetectorConfig();
  c.sites_max_goroutines = 0;
  EXPECT_FALSE(ValidateDetectorConfig(c).ok());
}

}  // namespace
}  // namespace gcpilot::detect
