// End-to-end tests of the tuner (root: eBPF and cgroups). The effect is
// measured, not assumed: tests/e2e/tuner_ab.sh runs the `tunable` workload in
// a memory cgroup with a limit, gets `gcpilot tune --pid`'s recommendation,
// runs the workload again with the recommended GOGC / GOMEMLIMIT (as the
// actuator would set them) in a fresh cgroup with the same limit, and the
// test checks that GC rate, GC CPU share and heap peak moved the way the
// recommendation's expected effect said, and that nothing was OOM-killed.
// Also: clear errors for a pid that is not Go, that does not exist, and an
// unknown policy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// "peak N\noom_kill N" -> value of `key` (-1 when missing).
int64_t CgValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return -1;
}

struct AbCase {
  std::string name;
  std::string policy;
  int limit_mb;
  std::string prog_args;
};

class TuneEbpfTest : public testing::TestWithParam<AbCase> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

TEST_P(TuneEbpfTest, RecommendationMovesGcTheWayItSaysAndNeverOoms) {
  const AbCase& c = GetParam();
  std::string d = TempDir("tune_" + c.name);
  std::string prog = TestProg(GoVersions().back(), "tunable");
  std::string script = "RUN_S=16 TUNE_WATCH=8 " +
                       Quote(std::string(GCPILOT_SOURCE_DIR) + "/tests/e2e/tuner_ab.sh") + " " +
                       Quote(GcpilotBin()) + " " + Quote(prog) + " " + c.policy + " " +
                       std::to_string(c.limit_mb) + " " + Quote(d) + " " + c.prog_args;
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(d + "/tune.err");
  ASSERT_EQ(ReadFile(d + "/tune.rc"), "0\n") << ReadFile(d + "/tune.err");
  ASSERT_EQ(ReadFile(d + "/before.rc"), "0\n") << ReadFile(d + "/prog.log");
  ASSERT_EQ(ReadFile(d + "/after.rc"), "0\n") << ReadFile(d + "/prog.log");

  json tune = ReadJson(d + "/tune.json");
  ASSERT_EQ(tune["recommendations"].size(), 1u) << tune.dump();
  const json& rec = tune["recommendations"][0];
  ASSERT_TRUE(rec.contains("gogc")) << rec.dump();
  EXPECT_EQ(rec["policy"], c.policy);
  EXPECT_FALSE(rec["reason"].get<std::string>().empty());
  ASSERT_TRUE(rec["effect"]["known"].get<bool>()) << rec.dump();
  // The tuner saw the cgroup limit.
  EXPECT_EQ(tune["inputs"]["cgroup"]["limit_bytes"].get<int64_t>(), int64_t{c.limit_mb} << 20)
      << tune["inputs"].dump();
  const json& eff = rec["effect"];

  json before = ReadJson(d + "/before.json");
  json after = ReadJson(d + "/after.json");
  const std::string b_cg = ReadFile(d + "/before.cg");
  const std::string a_cg = ReadFile(d + "/after.cg");
  std::fprintf(
      stderr,
      "[%s] GOGC %d -> %d, GOMEMLIMIT %s: GC/s %.2f -> %.2f (predicted %.2f -> %.2f), "
      "GC CPU %.1f%% -> %.1f%% (predicted %.1f%% -> %.1f%%), heap peak %.0f -> %.0f MB, "
      "cgroup peak %.0f -> %.0f MB, VmHWM %.0f -> %.0f MB\n",
      c.name.c_str(), rec["current"]["gogc"].get<int>(), rec["gogc"].get<int>(),
      rec["env"]["GOMEMLIMIT"].get<std::string>().c_str(), before["gcs_per_sec"].get<double>(),
      after["gcs_per_sec"].get<double>(), eff["gcs_per_sec"]["before"].get<double>(),
      eff["gcs_per_sec"]["after"].get<double>(), before["gc_cpu_share"].get<double>() * 100,
      after["gc_cpu_share"].get<double>() * 100, eff["gc_cpu_share"]["before"].get<double>() * 100,
      eff["gc_cpu_share"]["after"].get<double>() * 100,
      before["heap_peak_bytes"].get<double>() / 1048576,
      after["heap_peak_bytes"].get<double>() / 1048576,
      static_cast<double>(CgValue(b_cg, "peak")) / 1048576,
      static_cast<double>(CgValue(a_cg, "peak")) / 1048576,
      before["vm_hwm_bytes"].get<double>() / 1048576,
      after["vm_hwm_bytes"].get<double>() / 1048576);

  // Never an OOM kill, before or after.
  EXPECT_EQ(CgValue(b_cg, "oom_kill"), 0) << b_cg;
  EXPECT_EQ(CgValue(a_cg, "oom_kill"), 0) << a_cg;
  // The policy must change something here, and the measured change goes
  // the way the expected effect says.
  const int gogc_now = rec["current"]["gogc"].get<int>();
  const int gogc_new = rec["gogc"].get<int>();
  ASSERT_NE(gogc_now, gogc_new) << rec.dump();
  const bool fewer_gcs =
      eff["gcs_per_sec"]["after"].get<double>() < eff["gcs_per_sec"]["before"].get<double>();
  EXPECT_EQ(fewer_gcs, gogc_new > gogc_now);
  const double gcs_b = before["gcs_per_sec"].get<double>();
  const double gcs_a = after["gcs_per_sec"].get<double>();
  const double cpu_b = before["gc_cpu_share"].get<double>();
  const double cpu_a = after["gc_cpu_share"].get<double>();
  const double peak_b = before["heap_peak_bytes"].get<double>();
  const double peak_a = after["heap_peak_bytes"].get<double>();
  if (fewer_gcs) {
    EXPECT_LT(gcs_a, gcs_b * 0.9);
    EXPECT_LT(cpu_a, cpu_b);
    EXPECT_GT(peak_a, peak_b * 1.1);
  } else {
    EXPECT_GT(gcs_a, gcs_b * 1.1);
    EXPECT_GT(cpu_a, cpu_b);
    EXPECT_LT(peak_a, peak_b * 0.9);
  }
  // A recommended GOMEMLIMIT is never below what the process needs: the
  // heap peak after stays under it.
  if (!rec["memory_limit_bytes"].is_null()) {
    EXPECT_LT(peak_a, rec["memory_limit_bytes"].get<double>());
    EXPECT_GT(rec["memory_limit_bytes"].get<double>(),
              tune["inputs"]["window"]["heap_live_bytes"].get<double>());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Policies, TuneEbpfTest,
    testing::Values(
        // The seed's policy: pauses far under 5 ms -> GOGC up (x 0.8 in the
        // allocation storm): fewer GCs, less GC CPU, a larger heap.
        AbCase{"pause_deviation", "pause-deviation", 512, "-live-mb 64 -alloc-mbps 80"},
        // Plenty of headroom under 512 MB: GOGC up to fill 70% of it, with
        // GOMEMLIMIT at 90%.
        AbCase{"memory_headroom_up", "memory-headroom", 512, "-live-mb 64 -alloc-mbps 80"},
        // Little headroom under 256 MB: GOGC down to keep the heap peak at
        // 70% of the limit: more GCs, a smaller heap, no OOM.
        AbCase{"memory_headroom_down", "memory-headroom", 256, "-live-mb 96 -alloc-mbps 40"}),
    [](const testing::TestParamInfo<AbCase>& i) { return i.param.name; });

TEST(TuneEbpfErrorsTest, NotGoVanishedAndUnknownPolicyAreClearErrors) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("tune_errors");
  std::string script =
      "D=" + Quote(d) + "; sleep 30 & s=$!; " + GcpilotBin() +
      " tune --pid $s --watch-seconds 1 >$D/notgo.out 2>$D/notgo.err; echo $? >$D/notgo.rc; "
      "kill $s; " +
      GcpilotBin() +
      " tune --pid 999999 --watch-seconds 1 >$D/gone.out 2>$D/gone.err; echo $? >$D/gone.rc; " +
      GcpilotBin() +
      " tune --pid 1 --policy jvm-g1 >$D/bad.out 2>$D/bad.err; echo $? >$D/bad.rc; " +
      Quote(TestProg(GoVersions().back(), "tunable")) +
      " -duration 3s -live-mb 8 >/dev/null 2>&1 & p=$!; sleep 0.5; " + GcpilotBin() +
      " tune --pid $p --watch-seconds 6 >$D/exit.out 2>$D/exit.err; echo $? >$D/exit.rc; wait";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(d + "/notgo.rc"), "1\n");
  EXPECT_NE(ReadFile(d + "/notgo.err").find("cannot be tuned"), std::string::npos)
      << ReadFile(d + "/notgo.err");
  EXPECT_EQ(ReadFile(d + "/gone.rc"), "1\n");
  EXPECT_NE(ReadFile(d + "/gone.err").find("not found"), std::string::npos)
      << ReadFile(d + "/gone.err");
  EXPECT_EQ(ReadFile(d + "/bad.rc"), "2\n");
  EXPECT_NE(ReadFile(d + "/bad.err").find("unknown tuner policy"), std::string::npos)
      << ReadFile(d + "/bad.err");
  EXPECT_EQ(ReadFile(d + "/exit.rc"), "1\n");
  EXPECT_NE(ReadFile(d + "/exit.err").find("exited while it was watched"), std::string::npos)
      << ReadFile(d + "/exit.err");
}

}  // namespace
}  // namespace gcpilot::e2e
