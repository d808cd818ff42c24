// Exactness of `gcpilot watch --json` on stripped binaries (-ldflags='-s -w':
// no symbol table, no DWARF), on every installed Go version, against the
// runtime's own ground truth:
//   - attached to a running allocation storm: every GC cycle after attach,
//     numbered without gap or repeat up to the program's final
//     /gc/cycles/total, each gc_cycle's pause_ns equal to MemStats.PauseNs of
//     that cycle (to the nanosecond), source "ebpf", no event dropped;
//   - attached before the workload starts (start gate) to periodicgc, whose
//     cycles are mostly runtime.GC() calls: cycle count == gc_cycles_total -
//     start_gc_cycles_total, cycles with trigger "forced" == gc_cycles_forced
//     - start_gc_cycles_forced, every pause exact.
// Needs root: fails under CI=true without it, skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

class EbpfStrippedExactnessTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

// Compares the watcher's cycles of `pid` with the truth's pause ring: the
// cycles are consecutive and end at the program's last cycle, and every cycle
// in both has the same pause. Returns the number compared.
int CheckCycles(const std::vector<json>& cycles, const json& truth) {
  if (cycles.empty()) {
    ADD_FAILURE() << "no gc_cycle lines";
    return 0;
  }
  const uint64_t first = cycles.front()["gc"].get<uint64_t>();
  for (size_t i = 0; i < cycles.size(); ++i) {
    if (cycles[i]["gc"].get<uint64_t>() != first + i) {
      ADD_FAILURE() << "gap or repeat at event " << i << ": " << cycles[i].dump();
      return 0;
    }
    EXPECT_EQ(cycles[i].value("source", ""), "ebpf") << cycles[i].dump();
  }
  EXPECT_EQ(cycles.back()["gc"].get<uint64_t>(), truth["gc_cycles_total"].get<uint64_t>());
  std::map<uint64_t, uint64_t> by_gc;
  for (const json& c : cycles) by_gc[c["gc"].get<uint64_t>()] = c["pause_ns"].get<uint64_t>();
  int compared = 0;
  for (const json& p : truth["pauses"]) {
    uint64_t n = p["gc"].get<uint64_t>();
    if (n < first) continue;
    if (!by_gc.count(n)) {
      ADD_FAILURE() << "gc " << n << " missing";
      continue;
    }
    EXPECT_EQ(by_gc[n], p["pause_ns"].get<uint64_t>()) << "gc " << n;
    ++compared;
  }
  return compared;
}

TEST_P(EbpfStrippedExactnessTest, EveryCycleAfterAttachWithExactPauses) {
  std::string prog = TestProg(GetParam(), "storm", /*stripped=*/true);
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  // storm has no start gate: it storms from the start and the watcher
  // attaches to it running.
  WatchedRun run =
      RunWatched("exact-storm-" + GetParam(),
                 prog + " -duration 3s -stdout-every 0 -truth $D/truth.json", "--pid $p");
  ASSERT_EQ(run.target_exit, 0) << ReadFile(run.dir + "/t.err");
  ASSERT_EQ(run.watch_exit, 0) << run.watch.err;
  EXPECT_EQ(run.watch.dropped, 0) << run.watch.err;
  json truth = ReadJson(run.dir + "/truth.json");
  std::vector<json> cycles = run.watch.OfType("gc_cycle", truth["pid"].get<int64_t>());
  ASSERT_GT(cycles.size(), 10u) << "a storm runs many GCs per second\n" << run.watch.err;
  EXPECT_GE(CheckCycles(cycles, truth), 10);
}

TEST_P(EbpfStrippedExactnessTest, AttachedBeforeStartCountsEveryCycleAndForcedOnes) {
  std::string prog = TestProg(GetParam(), "periodicgc", /*stripped=*/true);
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  WatchedRun run = RunWatched("exact-forced-" + GetParam(),
                              prog +
                                  " -start-file $D/go -interval 50ms -alloc-kbps 8192 "
                                  "-duration 2s -stdout-every 0 -truth $D/truth.json",
                              "--pid $p");
  ASSERT_EQ(run.target_exit, 0) << ReadFile(run.dir + "/t.err");
  ASSERT_EQ(run.watch_exit, 0) << run.watch.err;
  ASSERT_TRUE(run.seen) << "the watcher never announced the process: " << run.watch.err;
  EXPECT_EQ(run.watch.dropped, 0) << run.watch.err;
  json truth = ReadJson(run.dir + "/truth.json");
  const uint64_t start_total = truth["start_gc_cycles_total"].get<uint64_t>();
  const uint64_t start_forced = truth["start_gc_cycles_forced"].get<uint64_t>();
  std::vector<json> all = run.watch.OfType("gc_cycle", truth["pid"].get<int64_t>());
  // Cycles that ended before the gate (normally none) may or may not be seen.
  std::vector<json> cycles;
  uint64_t forced = 0;
  for (const json& c : all) {
    if (c["gc"].get<uint64_t>() <= start_total) continue;
    cycles.push_back(c);
    if (c.value("trigger", "") == "forced") ++forced;
  }
  const uint64_t total = truth["gc_cycles_total"].get<uint64_t>();
  ASSERT_GT(total - start_total, 10u) << truth.dump();
  EXPECT_EQ(cycles.size(), total - start_total);
  EXPECT_EQ(forced, truth["gc_cycles_forced"].get<uint64_t>() - start_forced);
  EXPECT_GT(forced, 0u);
  EXPECT_EQ(static_cast<uint64_t>(CheckCycles(cycles, truth)), total - start_total);
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfStrippedExactnessTest, testing::ValuesIn(AllGoMinors()),
                         GoVersionName);

}  // namespace
}  // namespace gcpilot::e2e
