// Every per-cycle field the eBPF source reads means what gctrace prints, on
// every Go minor (stripped binaries; Go 1.26 made the Green Tea GC the
// default, 1.25 had it as an experiment): `gcpilot run --source=ebpf` of
// `storm` with GODEBUG=gctrace=1 in the program's own environment, so the
// runtime prints its trace from the same variables the probe copies. For
// every cycle in both (all of them, but for a last cycle that ends as the
// program exits, after the probe and before the runtime prints it): heap at start / end / live,
// heap goal, stacks and globals scanned (MB, as gctrace shifts them), GOMAXPROCS, forced, and the
// assist, background and idle mark CPU (within gctrace's printed precision).
// Needs root: fails under CI=true without it, skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// One gctrace line's numbers.
struct TraceCycle {
  double assist_ms = 0, background_ms = 0, idle_ms = 0;
  uint64_t heap0 = 0, heap1 = 0, heap2 = 0, goal = 0, stacks = 0, globals = 0, procs = 0;
  bool forced = false;
  std::string line;
};

std::map<uint64_t, TraceCycle> ParseTrace(const std::string& text) {
  static const std::regex kLine(
      R"(^gc (\d+) @[0-9.]+s \d+%[^:]*: [0-9.]+\+[0-9.]+\+[0-9.]+ ms clock, )"
      R"([0-9.]+\+([0-9.]+)/([0-9.]+)/([0-9.]+)\+[0-9.]+ ms cpu, )"
      R"((\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks, (\d+) MB globals, (\d+) P( \(forced\))?)");
  std::map<uint64_t, TraceCycle> out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, kLine)) continue;
    TraceCycle c;
    c.assist_ms = std::stod(m[2]);
    c.background_ms = std::stod(m[3]);
    c.idle_ms = std::stod(m[4]);
    c.heap0 = std::stoull(m[5]);
    c.heap1 = std::stoull(m[6]);
    c.heap2 = std::stoull(m[7]);
    c.goal = std::stoull(m[8]);
    c.stacks = std::stoull(m[9]);
    c.globals = std::stoull(m[10]);
    c.procs = std::stoull(m[11]);
    c.forced = m[12].matched;
    c.line = line;
    out[std::stoull(m[1])] = c;
  }
  return out;
}

// gctrace prints a CPU time truncated after its last digit.
void ExpectPrinted(double printed_ms, int64_t ns, const std::string& what) {
  const auto printed_ns = static_cast<int64_t>(printed_ms * 1e6 + 0.5);
  EXPECT_GE(ns, printed_ns) << what;
  EXPECT_LT(ns, printed_ns + GctraceQuantumNs(printed_ns)) << what;
}

class EbpfFieldsTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

TEST_P(EbpfFieldsTest, EveryCycleFieldMatchesGctrace) {
  const std::string prog = TestProg(GetParam(), "storm", /*stripped=*/true);
  const std::string dir = TempDir("ebpf-fields");
  CommandResult r = Sh(UnderEbpfLock("GODEBUG=gctrace=1 " + GcpilotBin() +
                                     " run --source=ebpf --interval 0 --json-out " + dir +
                                     "/run.jsonl --report-out /dev/null -- " + prog +
                                     " -duration 2s -stdout-every 0 2>" + dir + "/stderr.log"));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(dir + "/stderr.log");
  const std::map<uint64_t, TraceCycle> trace = ParseTrace(ReadFile(dir + "/stderr.log"));
  std::vector<json> cycles;
  for (json& line : JsonLines(ReadFile(dir + "/run.jsonl"))) {
    if (line.value("type", "") == "gc_cycle") cycles.push_back(std::move(line));
  }
  ASSERT_GT(trace.size(), 10u) << ReadFile(dir + "/stderr.log").substr(0, 2000);
  // The probe fires before the runtime prints its line: a program that
  // exits in between has one cycle more than its trace (the last).
  ASSERT_GE(cycles.size(), trace.size());
  ASSERT_LE(cycles.size(), trace.size() + 1);
  for (const json& c : cycles) {
    const uint64_t n = c["gc"].get<uint64_t>();
    auto it = trace.find(n);
    if (it == trace.end() && n == cycles.size() && cycles.size() == trace.size() + 1) continue;
    ASSERT_NE(it, trace.end()) << "gc " << n;
    const TraceCycle& t = it->second;
    SCOPED_TRACE(t.line + "\n" + c.dump());
    EXPECT_EQ(c["heap_start_bytes"].get<uint64_t>() >> 20, t.heap0);
    EXPECT_EQ(c["heap_end_bytes"].get<uint64_t>() >> 20, t.heap1);
    EXPECT_EQ(c["heap_live_bytes"].get<uint64_t>() >> 20, t.heap2);
    EXPECT_EQ(c["heap_goal_bytes"].get<uint64_t>() >> 20, t.goal);
    EXPECT_EQ(c["stacks_bytes"].get<uint64_t>() >> 20, t.stacks);
    EXPECT_EQ(c["globals_bytes"].get<uint64_t>() >> 20, t.globals);
    EXPECT_EQ(c["gomaxprocs"].get<uint64_t>(), t.procs);
    EXPECT_EQ(c["trigger"] == "forced", t.forced);
    ExpectPrinted(t.assist_ms, c["cpu_assist_ns"].get<int64_t>(), "assist");
    ExpectPrinted(t.background_ms, c["cpu_background_ns"].get<int64_t>(), "background");
    ExpectPrinted(t.idle_ms, c["cpu_idle_ns"].get<int64_t>(), "idle");
  }
}

INSTANTIATE_TEST_SUITE_P(AllGoVersions, EbpfFieldsTest, testing::ValuesIn(AllGoMinors()),
                         GoVersionName);

}  // namespace
}  // namespace gcpilot::e2e
