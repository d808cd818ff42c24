// Non-GC stops of the world, with their reasons, on every installed Go
// version: `gcpilot watch --pid N --json` attached to `stwreasons`, which
// makes counted stops (ReadMemStats, GOMAXPROCS changes, goroutine profiles)
// only after its start gate opens, and the gate opens only once the watcher
// has announced the process. So every stop it counts must be reported, with
// its reason, plus the one ReadMemStats of truth.Write at exit:
//   - stw_pause lines of kind "other" with reason read_mem_stats ==
//     stops.read_mem_stats + 1; gomaxprocs, goroutine_profile and
//     goroutine_profile_cleanup == the program's own counts;
//   - all non-GC stops == stops_total + 1;
//   - Go 1.22+: the same total from the runtime's own
//     /sched/pauses/total/other count, from just before the first counted stop
//     (sched_pauses_other_at_start) to exit: sched_pauses_other_count counts
//     truth.Write's own stop only if metrics_after_readmemstats, so the exact
//     number the watcher must see is
//       sched_pauses_other_count + (metrics_after_readmemstats ? 0 : 1)
//       - sched_pauses_other_at_start.
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

class EbpfStwReasonsTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

bool HasSchedPauses(const std::string& go_version) {
  return std::stoi(go_version.substr(go_version.find('.') + 1)) >= 22;
}

TEST_P(EbpfStwReasonsTest, EveryNonGcStopWithItsReason) {
  const std::string& v = GetParam();
  std::string prog = TestProg(v, "stwreasons");
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  WatchedRun run = RunWatched("stw-" + v,
                              prog +
                                  " -start-file $D/go -duration 2s -stdout-every 0 "
                                  "-truth $D/truth.json",
                              "--pid $p");
  ASSERT_EQ(run.target_exit, 0) << ReadFile(run.dir + "/t.err");
  ASSERT_EQ(run.watch_exit, 0) << run.watch.err;
  ASSERT_TRUE(run.seen) << "the watcher never announced the process: " << run.watch.err;
  EXPECT_TRUE(run.watch.bad_lines.empty()) << run.watch.bad_lines.front();
  EXPECT_EQ(run.watch.dropped, 0) << run.watch.err;

  json truth = ReadJson(run.dir + "/truth.json");
  const int64_t pid = truth["pid"].get<int64_t>();
  const json& own = truth["stops"];
  const uint64_t own_total = truth["stops_total"].get<uint64_t>();
  ASSERT_GT(own["read_mem_stats"].get<uint64_t>(), 20u) << truth.dump();
  ASSERT_GT(own["gomaxprocs"].get<uint64_t>(), 0u) << truth.dump();
  ASSERT_GT(own["goroutine_profile"].get<uint64_t>(), 0u) << truth.dump();

  std::vector<json> stops = NonGcStops(run.watch, pid);
  std::map<std::string, uint64_t> by_reason;
  for (const json& s : stops) {
    ++by_reason[s.value("reason", "?")];
    EXPECT_GT(s.value("duration_ns", int64_t{0}), 0) << s.dump();
  }
  std::string seen;
  for (const auto& [reason, n] : by_reason) seen += reason + "=" + std::to_string(n) + " ";

  // truth.Write's ReadMemStats at exit is the +1.
  EXPECT_EQ(by_reason["read_mem_stats"], own["read_mem_stats"].get<uint64_t>() + 1) << seen;
  EXPECT_EQ(by_reason["gomaxprocs"], own["gomaxprocs"].get<uint64_t>()) << seen;
  EXPECT_EQ(by_reason["goroutine_profile"], own["goroutine_profile"].get<uint64_t>()) << seen;
  EXPECT_EQ(by_reason["goroutine_profile_cleanup"],
            own["goroutine_profile_cleanup"].get<uint64_t>())
      << seen;
  EXPECT_EQ(stops.size(), own_total + 1) << seen;
  // The stderr summary counts the same stops (this watcher traced one process).
  EXPECT_EQ(run.watch.stops, static_cast<int64_t>(stops.size())) << run.watch.err;

  if (HasSchedPauses(v)) {
    ASSERT_TRUE(truth.contains("sched_pauses_other_at_start")) << truth.dump();
    const uint64_t at_start = truth["sched_pauses_other_at_start"].get<uint64_t>();
    const uint64_t at_end = truth["sched_pauses_other_at_end"].get<uint64_t>();
    // The program's own counting agrees with the runtime's.
    EXPECT_EQ(at_end - at_start, own_total) << truth.dump();
    const uint64_t runtime_count = truth["sched_pauses_other_count"].get<uint64_t>() +
                                   (truth["metrics_after_readmemstats"].get<bool>() ? 0 : 1) -
                                   at_start;
    EXPECT_EQ(stops.size(), runtime_count) << seen;
  }
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfStwReasonsTest, testing::ValuesIn(AllGoMinors()),
                         GoVersionName);

}  // namespace
}  // namespace gcpilot::e2e
