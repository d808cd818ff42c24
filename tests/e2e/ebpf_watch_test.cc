// The eBPF source against the runtime's ground truth, on every installed Go
// version (plain binaries; ebpf_exactness_test.cc does stripped ones):
//  - `gcpilot watch --pid --json` attached to a running allocation storm sees
//    every cycle after it attached (no gap, up to the program's own
//    /gc/cycles/total), each cycle's pause equal to MemStats.PauseNs to the
//    nanosecond, phases / heap / CPU filled in, no record dropped, and no
//    probe left behind on exit; `gcpilot report` reads that stream back to
//    the same cycles;
//  - `gcpilot run` (source auto: eBPF as root) sees every cycle from the
//    first one, with exact pauses, and says in the report that eBPF was the
//    source; for a program that is not Go it falls back to gctrace, saying
//    why, while --source=ebpf refuses;
//  - `gcpilot watch` (every Go process) finds a program started after it and
//    shows it in the table.
// Needs root (CAP_BPF + CAP_PERFMON): fails under CI=true without it,
// skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

class EbpfWatchTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

std::vector<json> OfType(const std::vector<json>& lines, const std::string& type) {
  std::vector<json> out;
  for (const json& j : lines) {
    if (j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

// Every cycle of the truth's pause ring from `first_gc` on must be in
// `cycles`, with the same pause. Returns the number compared.
int ComparePauses(const std::vector<json>& cycles, const json& truth, uint64_t first_gc) {
  std::map<uint64_t, uint64_t> by_gc;
  for (const json& c : cycles) by_gc[c["gc"].get<uint64_t>()] = c["pause_ns"].get<uint64_t>();
  int compared = 0;
  for (const json& p : truth["pauses"]) {
    const uint64_t gc = p["gc"].get<uint64_t>();
    if (gc < first_gc) continue;
    auto it = by_gc.find(gc);
    EXPECT_NE(it, by_gc.end()) << "gc " << gc << " not seen";
    if (it == by_gc.end()) continue;
    EXPECT_EQ(it->second, p["pause_ns"].get<uint64_t>()) << "gc " << gc;
    ++compared;
  }
  return compared;
}

TEST_P(EbpfWatchTest, EveryCycleAfterAttachWithExactPauses) {
  std::string prog = TestProg(GetParam(), "storm");
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  std::string dir = TempDir("ebpf");
  std::string script =
      prog + " -duration 3s -stdout-every 0 -truth " + dir + "/truth.json & p=$!; sleep 0.3; " +
      GcpilotBin() + " watch --json --pid $p >" + dir + "/w.jsonl & w=$!; sleep 0.5; " +
      SnapshotBpfIdsSh("$w", dir + "/ids.txt") + "wait $w; rc=$?; wait $p; exit $rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(" 0 events dropped"), std::string::npos) << r.err;
  json truth = ReadJson(dir + "/truth.json");
  const uint64_t total = truth["gc_cycles_total"].get<uint64_t>();
  std::vector<json> lines = JsonLines(ReadFile(dir + "/w.jsonl"));
  std::vector<json> seen = OfType(lines, "gc_cycle");
  ASSERT_GT(seen.size(), 10u) << "a storm runs many GCs per second";
  ASSERT_EQ(OfType(lines, "process_seen").size(), 1u);
  ASSERT_EQ(OfType(lines, "process_exited").size(), 1u);
  uint64_t first = seen.front()["gc"].get<uint64_t>();
  for (size_t i = 0; i < seen.size(); ++i) {
    const json& c = seen[i];
    ASSERT_EQ(c["gc"].get<uint64_t>(), first + i) << "gap or repeat at event " << i;
    EXPECT_EQ(c["cycle_source"], "ebpf");
    EXPECT_EQ(c["sweep_term_ns"].get<int64_t>() + c["mark_term_ns"].get<int64_t>(),
              c["pause_ns"].get<int64_t>());
    EXPECT_GT(c["mark_ns"].get<int64_t>(), 0);
    EXPECT_GT(c["heap_end_bytes"].get<uint64_t>(), 0u);
    EXPECT_GT(c["heap_goal_bytes"].get<uint64_t>(), 0u);
    EXPECT_GT(c["gomaxprocs"].get<int>(), 0);
    EXPECT_GT(c["cpu_sweep_term_ns"].get<int64_t>(), 0);
    EXPECT_EQ(c["trigger"], "heap");
  }
  EXPECT_EQ(seen.back()["gc"].get<uint64_t>(), total);
  EXPECT_GE(ComparePauses(seen, truth, first), 10);
  // The probes went away with gcpilot.
  EXPECT_GT(CountBpfIds(dir + "/ids.txt"), 0u);
  EXPECT_TRUE(LeftoverBpf(dir + "/ids.txt", "gcpilot").empty());

  // The stream reads back: same cycles.
  CommandResult rep = Sh(GcpilotBin() + " report --json " + Quote(dir + "/w.jsonl"));
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  std::vector<json> replayed = OfType(JsonLines(rep.out), "gc_cycle");
  ASSERT_EQ(replayed.size(), seen.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(replayed[i]["pause_ns"], seen[i]["pause_ns"]);
    EXPECT_EQ(replayed[i]["allocated_bytes"], seen[i]["allocated_bytes"]);
  }
}

TEST_P(EbpfWatchTest, RunWithEbpfSeesEveryCycleFromTheFirst) {
  std::string prog = TestProg(GetParam(), "storm");
  std::string dir = TempDir("ebpf-run");
  CommandResult r =
      Sh(UnderEbpfLock(GcpilotBin() + " run --interval 0 --json-out " + dir + "/run.jsonl -- " +
                       prog + " -duration 1s -stdout-every 0 -truth " + dir + "/truth.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("eBPF probes on the Go runtime"), std::string::npos) << r.err;
  // Zero intrusion: the program's stderr carries no trace.
  EXPECT_EQ(r.err.find("gc 1 @"), std::string::npos) << r.err;
  json truth = ReadJson(dir + "/truth.json");
  std::vector<json> lines = JsonLines(ReadFile(dir + "/run.jsonl"));
  std::vector<json> cycles = OfType(lines, "gc_cycle");
  ASSERT_FALSE(cycles.empty());
  EXPECT_EQ(cycles.front()["gc"], 1);
  EXPECT_EQ(cycles.size(), truth["gc_cycles_total"].get<size_t>());
  EXPECT_EQ(ComparePauses(cycles, truth, 1), static_cast<int>(truth["pauses"].size()));
  std::vector<json> summary = OfType(lines, "summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0]["source"], "ebpf");
  EXPECT_EQ(summary[0]["dropped_records"], 0);
}

TEST_P(EbpfWatchTest, WatchAllFindsAProgramStartedLaterAndShowsIt) {
  std::string prog = TestProg(GetParam(), "steady");
  std::string dir = TempDir("ebpf-all");
  std::string script = GcpilotBin() + " watch --duration 4 --interval 0.5 >" + dir +
                       "/table.txt 2>" + dir + "/w.err & w=$!; sleep 1; " + prog +
                       " -duration 2s -stdout-every 0 & p=$!; echo $p >" + dir +
                       "/pid; wait $p; wait $w";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(dir + "/w.err");
  std::string pid = ReadFile(dir + "/pid");
  pid.erase(pid.find_last_not_of(" \n") + 1);
  std::string table = ReadFile(dir + "/table.txt");
  EXPECT_NE(table.find("STW p50/p99/max ms"), std::string::npos) << table;
  EXPECT_NE(table.find(" " + pid + " steady"), std::string::npos) << pid << "\n" << table;
}

TEST(EbpfWatchErrors, NonGoPidIsRefusedWithAReason) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  CommandResult r = Sh(UnderEbpfLock("sleep 3 & p=$!; " + GcpilotBin() +
                                     " watch --pid $p --duration 1; rc=$?; kill $p; exit $rc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a Go program"), std::string::npos) << r.err;
}

TEST(EbpfWatchErrors, RunFallsBackToGctraceOnlyInAutoMode) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  CommandResult a = Sh(GcpilotBin() + " run --interval 0 -- /bin/sh -c 'exit 3'");
  EXPECT_EQ(a.exit_code, 3);
  EXPECT_NE(a.err.find("using the GC trace"), std::string::npos) << a.err;
  CommandResult e = Sh(GcpilotBin() + " run --source=ebpf --interval 0 -- /bin/sh -c 'exit 3'");
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_NE(e.err.find("Go build info"), std::string::npos) << e.err;
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfWatchTest,
                         testing::Values("1.19", "1.21", "1.22", "1.23"), GoVersionName);

}  // namespace
}  // namespace gcpilot::e2e
