// The eBPF GC-cycle probe against the runtime's ground truth, on every
// installed Go version: attached to a running allocation storm, `gcpilot
// watch` must see every cycle after it attached (no gap up to the program's
// own /gc/cycles/total) and report each cycle's pause equal to
// MemStats.PauseNs to the nanosecond; no event may be dropped; a stripped
// binary is refused with a reason; no probe is left behind on exit.
// Needs root (CAP_BPF + CAP_PERFMON): without it the test fails under CI and
// is skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

class EbpfWatchTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      if (InCi()) FAIL() << "eBPF tests need root in CI";
      GTEST_SKIP() << "eBPF tests need root";
    }
  }
};

TEST_P(EbpfWatchTest, EveryCycleAfterAttachWithExactPauses) {
  const std::string& v = GetParam();
  std::string prog = TestProg(v, "storm");
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  std::string dir = TempDir("ebpf");
  // The eBPF tests hold one lock while they run, so the check that no
  // program is left loaded does not see another test's live probe.
  std::string script = prog + " -duration 3s -stdout-every 0 -truth " + dir +
                       "/truth.json & p=$!; sleep 0.3; " + GcpilotBin() + " watch --pid $p >" +
                       dir + "/w.jsonl; rc=$?; wait $p; bpftool prog show >" + dir +
                       "/progs.txt; exit $rc";
  CommandResult r = Sh("flock /tmp/gcpilot-ebpf-tests.lock sh -c " + Quote(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("0 events dropped"), std::string::npos) << r.err;
  json truth = ReadJson(dir + "/truth.json");
  const uint64_t total = truth["gc_cycles_total"].get<uint64_t>();
  std::vector<json> seen = JsonLines(ReadFile(dir + "/w.jsonl"));
  ASSERT_GT(seen.size(), 100u) << "a storm runs hundreds of GCs per second";
  uint64_t first = seen.front()["gc"].get<uint64_t>();
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i]["gc"].get<uint64_t>(), first + i) << "gap or repeat at event " << i;
  }
  EXPECT_EQ(seen.back()["gc"].get<uint64_t>(), total);
  std::map<uint64_t, uint64_t> by_gc;
  for (const json& s : seen) by_gc[s["gc"].get<uint64_t>()] = s["pause_ns"].get<uint64_t>();
  int compared = 0;
  for (const json& p : truth["pauses"]) {
    uint64_t n = p["gc"].get<uint64_t>();
    if (n < first) continue;
    ASSERT_TRUE(by_gc.count(n));
    EXPECT_EQ(by_gc[n], p["pause_ns"].get<uint64_t>()) << "gc " << n;
    ++compared;
  }
  EXPECT_GE(compared, 100);
  // The uprobe went away with gcpilot.
  std::string progs = ReadFile(dir + "/progs.txt");
  EXPECT_EQ(progs.find("on_mprof_flush"), std::string::npos) << progs;
}

TEST_P(EbpfWatchTest, StrippedBinaryIsRefusedWithAReason) {
  std::string prog = TestProg(GetParam(), "idle", /*stripped=*/true);
  std::string script = prog + " -duration 3s -stdout-every 0 & p=$!; sleep 0.3; " + GcpilotBin() +
                       " watch --pid $p --duration 1; rc=$?; kill $p; exit $rc";
  CommandResult r = Sh("flock /tmp/gcpilot-ebpf-tests.lock sh -c " + Quote(script));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stripped binary"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfWatchTest,
                         testing::Values("1.19", "1.21", "1.22", "1.23"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = "go" + info.param;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace gcpilot::e2e
