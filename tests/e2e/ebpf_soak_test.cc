// "Never hurt the target", on every installed Go version: `soak` (deep,
// moving goroutine stacks, goroutine churn, LockOSThread and Gosched thread
// hopping, frequent GC) runs once unwatched for GCPILOT_SOAK_SECONDS (default
// 15 s per version), which fixes how many rounds it does, then the same rounds
// again while two watchers trace it: `gcpilot watch --pid N --json` and
// `gcpilot watch --json` (every Go process, started before soak so it finds
// soak through its exec). The watched run must exit 0, print exactly the same
// line (checksum over the rounds), write nothing to stderr (no panic, no fatal
// error, no crash signal), and both watchers must exit 0 having seen soak's GC
// cycles, numbered without gap or repeat.
// A longer soak (ctest stops a test after 300 s, so beyond ~120 s per
// version run the binary directly):
//   GCPILOT_SOAK_SECONDS=600 tests/e2e/gcpilot_e2e_tests --gtest_filter='*EbpfSoak*'
// Needs root: fails under CI=true without it, skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

int SoakSeconds() {
  const char* s = std::getenv("GCPILOT_SOAK_SECONDS");
  int n = s ? std::atoi(s) : 0;
  return n > 0 ? n : 15;
}

class EbpfSoakTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

// Checks that the cycles are numbered consecutively.
void ExpectConsecutive(const std::vector<json>& cycles, const std::string& who) {
  for (size_t i = 1; i < cycles.size(); ++i) {
    ASSERT_EQ(cycles[i]["gc"].get<uint64_t>(), cycles[i - 1]["gc"].get<uint64_t>() + 1)
        << who << ": gap or repeat at event " << i;
  }
}

TEST_P(EbpfSoakTest, WatchingChangesNothingAndCrashesNothing) {
  const std::string& v = GetParam();
  std::string prog = TestProg(v, "soak");
  ASSERT_EQ(Sh("test -x " + Quote(prog)).exit_code, 0) << prog << " not built";
  const std::string seed = "20240601";

  // Unwatched, timed: fixes the number of rounds.
  CommandResult plain =
      Sh(prog + " -seed " + seed + " -duration " + std::to_string(SoakSeconds()) + "s");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_TRUE(plain.err.empty()) << plain.err;
  std::smatch m;
  static const std::regex kLine(R"(^soak: seed=\d+ rounds=(\d+) checksum=0x[0-9a-f]+\n$)");
  ASSERT_TRUE(std::regex_match(plain.out, m, kLine)) << plain.out;
  const std::string rounds = m[1];
  ASSERT_GT(std::stoul(rounds), 10u) << plain.out;

  // Watched, the same rounds. The all-processes watcher starts first so it
  // finds soak through its exec; soak waits 1.5 s before working so both
  // watchers are attached for the whole work.
  std::string d = TempDir("soak-" + v);
  std::string script =
      "D=" + Quote(d) + "; " + GcpilotBin() +
      " watch --json --duration 600 >$D/all.jsonl 2>$D/all.err & a=$!; sleep 0.5; " + prog +
      " -seed " + seed + " -rounds " + rounds + " -start-after 1.5s >$D/t.out 2>$D/t.err & p=$!; " +
      GcpilotBin() + " watch --pid $p --json --duration 600 >$D/w.jsonl 2>$D/w.err & w=$!; " +
      WaitForSeenSh("$D/w.jsonl", "$p", 10, "$D/seen") +
      WaitForSeenSh("$D/all.jsonl", "$p", 10, "$D/seen") + "echo $p >$D/pid; " +
      "wait $p; prc=$?; sleep 0.5; kill -INT $w $a 2>/dev/null; wait $w; wrc=$?; wait $a; arc=$?; "
      "echo $prc $wrc $arc >$D/rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int prc = -1, wrc = -1, arc = -1;
  std::istringstream(ReadFile(d + "/rc")) >> prc >> wrc >> arc;
  const int64_t pid = std::stoll(ReadFile(d + "/pid"));

  // The target: same result, clean exit, nothing on stderr.
  EXPECT_EQ(prc, 0) << "soak exit code (128+N = killed by signal N)\n" << ReadFile(d + "/t.err");
  EXPECT_EQ(ReadFile(d + "/t.out"), plain.out);
  EXPECT_EQ(ReadFile(d + "/t.err"), "");

  // The watchers: clean exit, saw soak's cycles.
  EXPECT_EQ(ReadFile(d + "/seen"), "seen\nseen\n");
  WatchOutput one = ReadWatch(d + "/w.jsonl", d + "/w.err");
  WatchOutput all = ReadWatch(d + "/all.jsonl", d + "/all.err");
  EXPECT_EQ(wrc, 0) << one.err;
  EXPECT_EQ(arc, 0) << all.err;
  EXPECT_TRUE(one.bad_lines.empty()) << one.bad_lines.front();
  EXPECT_TRUE(all.bad_lines.empty()) << all.bad_lines.front();
  std::vector<json> one_cycles = one.OfType("gc_cycle", pid);
  std::vector<json> all_cycles = all.OfType("gc_cycle", pid);
  EXPECT_GT(one_cycles.size(), 0u) << one.err;
  EXPECT_GT(all_cycles.size(), 0u) << all.err;
  ExpectConsecutive(one_cycles, "--pid watcher");
  ExpectConsecutive(all_cycles, "all-processes watcher");
  EXPECT_EQ(one.dropped, 0) << one.err;
  EXPECT_FALSE(all.OfType("process_exited", pid).empty())
      << "the all-processes watcher did not report soak's exit";
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfSoakTest,
                         testing::Values("1.19", "1.21", "1.22", "1.23"), GoVersionName);

}  // namespace
}  // namespace gcpilot::e2e
