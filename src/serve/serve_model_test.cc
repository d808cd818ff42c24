// Tests of the serve agent's per-process state: history bounds, process
// limits, health, windows and listener calls.
#include "serve/serve_model.h"

#include <gtest/gtest.h>

namespace gcpilot::serve {
namespace {

GcCycle Cycle(uint64_t n, int64_t start_ns, int64_t pause_each_ns) {
  GcCycle c;
  c.number = n;
  c.start_ns = start_ns;
  c.sweep_term_ns = pause_each_ns;
  c.mark_ns = 1'000'000;
  c.mark_term_ns = pause_each_ns;
  c.gomaxprocs = 2;
  c.heap_live_bytes = 1 << 20;
  c.heap_goal_bytes = 2 << 20;
  return c;
}

struct Recorder : ModelListener {
  int processes = 0, cycles = 0, stops = 0, windows = 0, evicted = 0;
  Health last_health = Health::kOk;
  void OnProcess(const ProcessState&) override { ++processes; }
  void OnCycle(const ProcessState&, const StoredCycle&) override { ++cycles; }
  void OnStop(const ProcessState&, const StoredStop&) override { ++stops; }
  void OnWindow(const ProcessState&, const WindowStats&, Health h) override {
    ++windows;
    last_health = h;
  }
  void OnEvicted(const ProcessState&) override { ++evicted; }
};

TEST(ServeModel, KeepsBoundedHistoryWithIncreasingSeq) {
  ServeLimits limits;
  limits.max_cycles = 5;
  ServeModel m(limits);
  m.OnProcessSeen({1, 0}, ProcessInfo{"a", "/a", "go1.23.5", "", 2}, 0);
  for (int i = 1; i <= 12; ++i) m.OnCycle({1, 0}, Cycle(i, i * 10'000'000, 10'000));
  m.Read([](const auto& all, const ModelCounters&) {
    const ProcessState& p = all.at(ProcessKey{1, 0});
    EXPECT_EQ(p.cycles.size(), 5u);
    EXPECT_EQ(p.cycles.front().seq, 8u);
    EXPECT_EQ(p.cycles.back().seq, 12u);
    EXPECT_EQ(p.totals.cycles, 12u);
    return 0;
  });
}

TEST(ServeModel, DropsHistoryOlderThanRetention) {
  ServeLimits limits;
  limits.retention_ns = 1'000'000'000;
  ServeModel m(limits);
  m.OnProcessSeen({1, 0}, ProcessInfo{}, 0);
  m.OnCycle({1, 0}, Cycle(1, 0, 10'000));
  m.OnCycle({1, 0}, Cycle(2, 1'500'000'000, 10'000));
  m.Tick(2'000'000'000, nullptr, nullptr);
  m.Read([](const auto& all, const ModelCounters&) {
    EXPECT_EQ(all.at(ProcessKey{1, 0}).cycles.size(), 1u);
    return 0;
  });
}

TEST(ServeModel, LimitsProcessesAndMakesRoomFromExitedOnes) {
  ServeLimits limits;
  limits.max_processes = 2;
  ServeModel m(limits);
  Recorder r;
  m.AddListener(&r);
  m.OnProcessSeen({1, 0}, ProcessInfo{}, 0);
  m.OnProcessSeen({2, 0}, ProcessInfo{}, 0);
  m.OnProcessSeen({3, 0}, ProcessInfo{}, 0);  // Over the limit: not tracked.
  m.OnCycle({3, 0}, Cycle(1, 0, 1));
  EXPECT_EQ(r.cycles, 0);
  m.OnProcessExited({1, 0}, ProcessExited{}, 5);
  m.OnProcessSeen({4, 0}, ProcessInfo{}, 6);  // Takes the exited one's place.
  EXPECT_EQ(r.evicted, 1);
  m.Read([](const auto& all, const ModelCounters& c) {
    EXPECT_EQ(all.size(), 2u);
    EXPECT_EQ(all.count(ProcessKey{4, 0}), 1u);
    EXPECT_EQ(c.over_limit, 1u);
    EXPECT_EQ(c.records_of_untracked, 1u);
    return 0;
  });
}

TEST(ServeModel, HealthFollowsTheSloPause) {
  ServeModel m{ServeLimits{}};
  Recorder r;
  m.AddListener(&r);
  m.OnProcessSeen({1, 0}, ProcessInfo{}, 0);
  for (int i = 0; i < 100; ++i) m.OnCycle({1, 0}, Cycle(i + 1, i * 10'000'000, 50'000));
  m.Tick(1'100'000'000, nullptr, nullptr);
  EXPECT_EQ(r.last_health, Health::kOk);
  GcCycle slow = Cycle(101, 1'200'000'000, 50'000);
  slow.sweep_term_ns = 6'000'000;  // One 6 ms pause in 202: the max breaks, not P99.
  m.OnCycle({1, 0}, slow);
  m.Tick(1'300'000'000, nullptr, nullptr);
  EXPECT_EQ(r.last_health, Health::kWarn);
  for (int i = 0; i < 10; ++i) m.OnCycle({1, 0}, Cycle(102 + i, 1'400'000'000 + i, 7'000'000));
  m.Tick(1'500'000'000, nullptr, nullptr);
  EXPECT_EQ(r.last_health, Health::kBad);
  m.Tick(30'000'000'000, nullptr, nullptr);
  EXPECT_EQ(r.last_health, Health::kIdle);
}

TEST(ServeModel, TickReadsGaugesOnlyForLiveProcessesAndKeepsWindows) {
  ServeModel m{ServeLimits{}};
  m.OnProcessSeen({1, 0}, ProcessInfo{}, 0);
  m.OnProcessSeen({2, 0}, ProcessInfo{}, 0);
  m.OnProcessExited({2, 0}, ProcessExited{}, 1);
  std::vector<int32_t> asked;
  proc::RuntimeGauges g;
  g.goroutines = 9;
  for (int s = 1; s <= 5; ++s) {
    m.Tick(
        s * 1'000'000'000LL,
        [&](int32_t pid) {
          asked.push_back(pid);
          return std::optional<proc::RuntimeGauges>(g);
        },
        [](int32_t) { return uint64_t{0}; });
  }
  EXPECT_EQ(asked, (std::vector<int32_t>{1, 1, 1, 1, 1}));
  m.Read([](const auto& all, const ModelCounters&) {
    const ProcessState& p = all.at(ProcessKey{1, 0});
    EXPECT_EQ(p.gauges.goroutines, 9);
    EXPECT_FALSE(p.recent.at("1s").empty());
    return 0;
  });
}

}  // namespace
}  // namespace gcpilot::serve
