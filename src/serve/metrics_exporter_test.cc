// Tests of the Prometheus exposition: a golden file for a known input
// (GCPILOT_UPDATE_GOLDEN=1 rewrites it), series removal on eviction, label
// collisions, and the agent's own process_* series.
#include "serve/metrics_exporter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace gcpilot::serve {
namespace {

const std::string kGolden = std::string(GCPILOT_TEST_DATA_DIR) + "/serve/metrics.golden";

GcCycle Cycle(uint64_t n, int64_t start_ns, int64_t sweep, int64_t mark_term, bool forced) {
  GcCycle c;
  c.number = n;
  c.start_ns = start_ns;
  c.sweep_term_ns = sweep;
  c.mark_ns = 2'000'000;
  c.mark_term_ns = mark_term;
  c.cpu = {100'000, 200'000, 3'000'000, 400'000, 50'000};
  c.heap_live_bytes = 4 << 20;
  c.heap_goal_bytes = 8 << 20;
  c.allocated_bytes = 1 << 20;
  c.gomaxprocs = 2;
  c.trigger = forced ? GcTrigger::kForced : GcTrigger::kHeap;
  c.source = EventSource::kEbpf;
  return c;
}

// Everything before the agent's own process_* series (they vary per run).
std::string Stable(const std::string& text) {
  size_t p = text.find("# HELP process_");
  return p == std::string::npos ? text : text.substr(0, p);
}

struct Fixture {
  ServeModel model{ServeLimits{}};
  MetricsExporter metrics{"0.1.0", "ebpf"};
  Fixture() { model.AddListener(&metrics); }
  void Feed() {
    ProcessInfo info{"api", "/srv/api/bin/api", "go1.23.5", "0123456789abcdef0123", 2};
    model.OnProcessSeen({4242, 0}, info, 1'000'000'000);
    model.OnCycle({4242, 0}, Cycle(1, 1'100'000'000, 30'000, 70'000, false));
    model.OnCycle({4242, 0}, Cycle(2, 1'500'000'000, 8'000'000, 120'000, true));
    model.OnPause({4242, 0},
                  StwPause{1'600'000'000, 40'000, StwKind::kOther, StwReason::kReadMemStats, 0});
    proc::RuntimeGauges g;
    g.gogc = 100;
    g.memory_limit = INT64_MAX;
    g.goroutines = 42;
    model.Tick(
        2'000'000'000, [&](int32_t) { return g; }, [](int32_t) { return uint64_t{3}; });
    AgentHealth h;
    h.processes_traced = 1;
    h.processes_live = 1;
    metrics.SetAgentHealth(h);
  }
};

TEST(MetricsExporter, MatchesGoldenExposition) {
  Fixture f;
  f.Feed();
  std::string got = Stable(f.metrics.Render());
  if (std::getenv("GCPILOT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << got;
  }
  std::ifstream in(kGolden);
  ASSERT_TRUE(in) << "missing " << kGolden << " (run with GCPILOT_UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str());
}

TEST(MetricsExporter, CountsEveryPauseAndCycle) {
  Fixture f;
  f.Feed();
  std::string t = f.metrics.Render();
  const std::string labels =
      "binary=\"api\",comm=\"api\",container=\"0123456789ab\",go_version=\"go1.23.5\","
      "pid=\"4242\"";
  EXPECT_NE(t.find("gcpilot_gc_cycles_total{" + labels + "} 2"), std::string::npos) << t;
  EXPECT_NE(t.find("gcpilot_gc_forced_cycles_total{" + labels + "} 1"), std::string::npos);
  // prometheus-cpp sorts labels by name; `le` comes last.
  auto with = [&](const std::string& extra_before_pid, const std::string& after_pid) {
    return "{binary=\"api\",comm=\"api\",container=\"0123456789ab\",go_version=\"go1.23.5\"," +
           extra_before_pid + "pid=\"4242\"" + after_pid + "}";
  };
  EXPECT_NE(t.find("gcpilot_stw_pause_seconds_count" +
                   with("kind=\"sweep_termination\",", ",reason=\"gc\"") + " 2"),
            std::string::npos)
      << t;
  // The 8 ms sweep termination is above the 5 ms bucket.
  EXPECT_NE(t.find("gcpilot_stw_pause_seconds_bucket" +
                   with("kind=\"sweep_termination\",", ",reason=\"gc\",le=\"0.005\"") + " 1"),
            std::string::npos);
  EXPECT_NE(t.find("gcpilot_stw_pause_seconds_count" +
                   with("kind=\"other\",", ",reason=\"read_mem_stats\"") + " 1"),
            std::string::npos);
  EXPECT_NE(t.find("gcpilot_probe_dropped_events_total{" + labels + "} 3"), std::string::npos);
  EXPECT_NE(t.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(t.find("process_cpu_seconds_total "), std::string::npos);
}

TEST(MetricsExporter, EvictionRemovesTheProcessSeries) {
  ServeLimits limits;
  limits.exited_retention_ns = 1'000'000'000;
  ServeModel model(limits);
  MetricsExporter metrics("0.1.0", "ebpf");
  model.AddListener(&metrics);
  model.OnProcessSeen({7, 0}, ProcessInfo{"svc", "/bin/svc", "go1.22.12", "", 2}, 0);
  model.OnCycle({7, 0}, Cycle(1, 100, 10'000, 10'000, false));
  EXPECT_NE(metrics.Render().find("pid=\"7\""), std::string::npos);
  model.OnProcessExited({7, 0}, ProcessExited{}, 1'000'000);
  model.Tick(500'000'000, nullptr, nullptr);
  EXPECT_NE(metrics.Render().find("pid=\"7\""), std::string::npos) << "kept while recent";
  model.Tick(3'000'000'000, nullptr, nullptr);
  EXPECT_EQ(metrics.Render().find("pid=\"7\""), std::string::npos);
}

TEST(MetricsExporter, SameLabelsNewGenerationReplacesTheOldSeries) {
  ServeModel model{ServeLimits{}};
  MetricsExporter metrics("0.1.0", "ebpf");
  model.AddListener(&metrics);
  ProcessInfo info{"svc", "/bin/svc", "go1.22.12", "", 2};
  model.OnProcessSeen({7, 0}, info, 0);
  model.OnCycle({7, 0}, Cycle(1, 100, 10'000, 10'000, false));
  model.OnProcessExited({7, 0}, ProcessExited{0, 0, true}, 1000);
  model.OnProcessSeen({7, 1}, info, 2000);  // exec'd itself: same pid and labels.
  model.OnCycle({7, 1}, Cycle(1, 3000, 10'000, 10'000, false));
  std::string t = metrics.Render();
  EXPECT_NE(t.find("gcpilot_gc_cycles_total{binary=\"svc\",comm=\"svc\",container=\"\","
                   "go_version=\"go1.22.12\",pid=\"7\"} 1"),
            std::string::npos)
      << t;
  model.Tick(1'000'000'000'000, nullptr, nullptr);  // Evicts generation 0 only.
  EXPECT_NE(metrics.Render().find("pid=\"7\""), std::string::npos);
}

}  // namespace
}  // namespace gcpilot::serve
