// End-to-end tests of the detectors (root: eBPF). Each real workload in
// tests/testprogs that produces one jitter pattern runs under `gcpilot serve
// --pid`; the test polls GET /api/v1/findings and asserts the expected
// detector raises a finding within its stated time, that /metrics shows
// gcpilot_finding_active{detector=...} 1 and that the stream carried an
// `event: finding`. The negative run keeps `steady` (a well-behaved service)
// under the agent for 45 s and expects no finding at all: CI time is
// limited; a longer soak (several minutes) runs with GCPILOT_DETECT_SOAK_S=N.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

struct DetectRun {
  bool found = false;
  double seconds = -1;  // From the start gate to the finding.
  json findings;        // The last /api/v1/findings?pid= answer.
  std::string metrics;
  std::string stream;
  std::string serve_err;
};

// Runs `prog args` (with `env`) under `gcpilot serve --pid`, opens its start
// gate and polls the findings every 0.5 s until `detector` (and `also`, if
// given) is active or timeout_s passes (or, with detector empty, for
// timeout_s).
DetectRun RunDetect(const std::string& name, const std::string& env, const std::string& prog_name,
                    const std::string& args, const std::string& detector, int timeout_s,
                    const std::string& also = "") {
  std::string d = TempDir("detect_" + name);
  std::string prog = TestProg(GoVersions().back(), prog_name);
  std::string want = detector.empty() ? "never-matches" : "\"detector\":\"" + detector + "\"";
  std::string want_also = also.empty() ? want : "\"detector\":\"" + also + "\"";
  std::string script =
      "D=" + Quote(d) + "; " + env + " " + Quote(prog) + " " + args +
      " -stdout-every 0 -start-file $D/go >$D/prog.out 2>&1 & p=$!; " + StartServeSh("--pid $p") +
      "for i in $(seq 150); do curl -sf http://127.0.0.1:$port/api/v1/processes/$p >/dev/null "
      "&& break; sleep 0.1; done; "
      "curl -sN \"http://127.0.0.1:$port/api/v1/stream?pid=$p\" >$D/stream.txt & c=$!; "
      "sleep 0.5; t0=$(date +%s%N); touch $D/go; "
      "for i in $(seq " +
      std::to_string(timeout_s * 2) +
      "); do sleep 0.5; "
      "curl -s \"http://127.0.0.1:$port/api/v1/findings?pid=$p\" >$D/findings.json; "
      "if sed 's/\"detectors\":.*//' $D/findings.json | grep -q '" +
      want + "' && sed 's/\"detectors\":.*//' $D/findings.json | grep -q '" + want_also +
      "'; then echo $(( ($(date +%s%N) - t0) / 1000000 )) >$D/found_ms; break; fi; done; "
      "sleep 1; curl -s http://127.0.0.1:$port/metrics >$D/metrics.txt; "
      "kill $p 2>/dev/null; wait $p; kill $c; kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  DetectRun run;
  std::string found = ReadFile(d + "/found_ms");
  run.found = !found.empty();
  if (run.found) run.seconds = std::stod(found) / 1000;
  std::string f = ReadFile(d + "/findings.json");
  run.findings = json::parse(f.empty() ? "{}" : f, nullptr, false);
  run.metrics = ReadFile(d + "/metrics.txt");
  run.stream = ReadFile(d + "/stream.txt");
  run.serve_err = ReadFile(d + "/serve.err");
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n") << run.serve_err;
  return run;
}

const json* ActiveFinding(const DetectRun& run, const std::string& detector) {
  if (!run.findings.is_object() || !run.findings.contains("active")) return nullptr;
  for (const json& f : run.findings["active"]) {
    if (f["detector"] == detector) return &f;
  }
  return nullptr;
}

void ExpectDetected(const DetectRun& run, const std::string& detector, double within_s) {
  ASSERT_TRUE(run.found) << detector
                         << " not raised within the timeout; findings: " << run.findings.dump()
                         << "\n"
                         << run.serve_err;
  std::printf("[ detect   ] %s raised %.1f s after the pattern started\n", detector.c_str(),
              run.seconds);
  EXPECT_LE(run.seconds, within_s) << detector;
  const json* f = ActiveFinding(run, detector);
  ASSERT_NE(f, nullptr) << run.findings.dump();
  EXPECT_FALSE((*f)["summary"].get<std::string>().empty());
  EXPECT_FALSE((*f)["fix"].get<std::string>().empty());
  EXPECT_TRUE((*f)["evidence"].is_object());
  EXPECT_NE(run.stream.find("event: finding"), std::string::npos);
  EXPECT_NE(run.stream.find("\"detector\":\"" + detector + "\""), std::string::npos);
  std::string series = "gcpilot_finding_active{";
  bool one = false;
  for (size_t at = run.metrics.find(series); at != std::string::npos;
       at = run.metrics.find(series, at + 1)) {
    std::string line = run.metrics.substr(at, run.metrics.find('\n', at) - at);
    if (line.find("detector=\"" + detector + "\"") != std::string::npos &&
        line.substr(line.rfind(' ') + 1) == "1") {
      one = true;
    }
  }
  EXPECT_TRUE(one) << "no gcpilot_finding_active{detector=\"" << detector << "\"} 1";
}

class DetectorsEbpfTest : public testing::Test {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

TEST_F(DetectorsEbpfTest, AllocationStormOnStorm) {
  DetectRun run =
      RunDetect("storm", "", "storm", "-rate-mbps 200 -duration 60s", "allocation_storm", 30);
  ExpectDetected(run, "allocation_storm", 10);
}

TEST_F(DetectorsEbpfTest, MarkAssistStallOnAssist) {
  DetectRun run =
      RunDetect("assist", "", "assist", "-live-mb 256 -duration 90s", "mark_assist_stall", 60);
  ExpectDetected(run, "mark_assist_stall", 40);
}

TEST_F(DetectorsEbpfTest, LongWriteBarrierOnAssist) {
  DetectRun run =
      RunDetect("assist_wb", "", "assist", "-live-mb 256 -duration 90s", "long_write_barrier", 60);
  ExpectDetected(run, "long_write_barrier", 40);
}

TEST_F(DetectorsEbpfTest, ObserverStopsOnReadMemStatsTicker) {
  DetectRun run = RunDetect("observer", "", "stwreasons",
                            "-memstats-every 100ms -gomaxprocs-every 0 -profile-every 0 "
                            "-alloc-mbps 4 -duration 90s",
                            "observer_stops", 60);
  ExpectDetected(run, "observer_stops", 40);
  const json* f = ActiveFinding(run, "observer_stops");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["evidence"]["reason"], "read_mem_stats");
}

TEST_F(DetectorsEbpfTest, MemoryLimitThrashOnLimitthrash) {
  DetectRun run = RunDetect("limitthrash", "", "limitthrash",
                            "-limit-mb 64 -start-live-mb 40 -grow-mbps 4 -duration 90s",
                            "memory_limit_thrash", 60);
  ExpectDetected(run, "memory_limit_thrash", 30);
}

TEST_F(DetectorsEbpfTest, PauseSpikeOnNonPreemptibleLoops) {
  DetectRun run =
      RunDetect("pausespike", "GODEBUG=asyncpreemptoff=1", "pausespike",
                "-spike 20ms -spike-every 1s -alloc-mbps 256 -duration 60s", "pause_spike", 40);
  ExpectDetected(run, "pause_spike", 20);
}

TEST_F(DetectorsEbpfTest, GoroutineLeakOnLeak) {
  // Both: the goroutine line is clean (~66 s), the live heap of each cycle
  // is noisier (~96 s measured); found_ms is the later of the two.
  DetectRun run = RunDetect("leak", "", "leak", "-every 10ms -duration 180s", "goroutine_leak", 150,
                            "heap_surge");
  ExpectDetected(run, "goroutine_leak", 130);
  EXPECT_NE(ActiveFinding(run, "heap_surge"), nullptr) << run.findings.dump();
  // Creation-site tracking ran while the detectors suspected the leak: the
  // finding names the function whose `go` statement starts the leaking
  // goroutines, with the walks' measured cost.
  const json* f = ActiveFinding(run, "goroutine_leak");
  ASSERT_NE(f, nullptr);
  const json& sites = (*f)["evidence"]["creation_sites"];
  ASSERT_TRUE(sites.is_object()) << f->dump(2);
  ASSERT_FALSE(sites["sites"].empty()) << f->dump(2);
  EXPECT_EQ(sites["sites"][0]["function"], "main.(*leaker).leakLoop") << sites.dump(2);
  EXPECT_GT(sites["sites"][0]["growth"].get<int64_t>(), 0) << sites.dump(2);
  EXPECT_NE((*f)["summary"].get<std::string>().find("main.(*leaker).leakLoop"), std::string::npos);
  const json& cost = sites["cost"];
  std::printf(
      "[ detect   ] creation sites: %d walks, agent CPU %.2f ms/walk, max walk %.2f ms, "
      "%llu bytes read, %lld goroutines walked\n",
      cost["walks"].get<int>(), cost["agent_cpu_ms_per_walk"].get<double>(),
      cost["max_walk_ms"].get<double>(),
      static_cast<unsigned long long>(cost["bytes_read"].get<uint64_t>()),
      static_cast<long long>(cost["goroutines_walked"].get<int64_t>()));
  EXPECT_GE(cost["walks"].get<int>(), 1);
  EXPECT_GT(cost["bytes_read"].get<uint64_t>(), 0u);
}

// The leak testprog of every Go version, plain and stripped, all under one
// agent (trend span shortened to 15 s by [detectors] so the run stays
// short; sessions of 20 s, at most 4 at once, so the last four wait for the
// first): each goroutine_leak finding names main.(*leaker).leakLoop and the
// line of its `go` statement, read from the source file.
TEST_F(DetectorsEbpfTest, CreationSitesNameTheLeakingFunctionOnEveryGoVersion) {
  std::string d = TempDir("detect_sites");
  WriteFile(d + "/gcpilot.toml",
            "[detectors]\ntrend_min_span = \"15s\"\ncreation_sites_interval = \"2s\"\n"
            "creation_sites_duration = \"20s\"\n");
  std::string start, labels;
  int n = 0;
  for (const std::string& v : GoVersions()) {
    for (bool stripped : {false, true}) {
      std::string prog = TestProg(v, "leak", stripped);
      start += Quote(prog) + " -every 10ms -duration 90s -stdout-every 0 >$D/p" +
               std::to_string(n) + ".out 2>&1 & echo $! >>$D/pids; ";
      labels += "go" + v + (stripped ? "-stripped" : "") + " ";
      ++n;
    }
  }
  std::string script =
      "D=" + Quote(d) + "; : >$D/pids; " + start +
      "P=$(sed 's/^/--pid /' $D/pids | tr '\\n' ' '); " +
      StartServeSh("--config $D/gcpilot.toml $P") +
      "for i in $(seq 120); do sleep 1; "
      "curl -s http://127.0.0.1:$port/api/v1/findings >$D/findings.json; "
      "k=$(python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
      "print(sum(1 for f in d.get('active', []) if f['detector'] == 'goroutine_leak' and "
      "'leakLoop (leak/main.go' in f['summary']))\" $D/findings.json 2>/dev/null); "
      "[ \"$k\" = " +
      std::to_string(n) +
      " ] && break; done; "
      "for p in $(cat $D/pids); do kill $p; done; wait $(cat $D/pids) 2>/dev/null; "
      "kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string serve_err = ReadFile(d + "/serve.err");
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n") << serve_err;
  json findings = json::parse(ReadFile(d + "/findings.json"), nullptr, false);
  ASSERT_TRUE(findings.is_object()) << serve_err;
  // The line of the `go` statement in leakLoop.
  std::string src = ReadFile(std::string(GCPILOT_SOURCE_DIR) + "/tests/testprogs/leak/main.go");
  int go_line = 0, line = 0;
  bool in_loop = false;
  for (size_t at = 0; at < src.size();) {
    size_t end = src.find('\n', at);
    std::string l = src.substr(at, end == std::string::npos ? std::string::npos : end - at);
    ++line;
    if (l.starts_with("func (l *leaker) leakLoop(")) in_loop = true;
    if (in_loop && go_line == 0 && l.find("go func(") != std::string::npos) go_line = line;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  ASSERT_GT(go_line, 0);
  std::vector<std::string> pids;
  {
    std::string all = ReadFile(d + "/pids");
    for (size_t at = 0; at < all.size();) {
      size_t end = all.find('\n', at);
      pids.push_back(all.substr(at, end - at));
      at = end == std::string::npos ? all.size() : end + 1;
    }
  }
  ASSERT_EQ(pids.size(), static_cast<size_t>(n));
  std::vector<std::string> label_list;
  for (size_t at = 0; at < labels.size();) {
    size_t end = labels.find(' ', at);
    label_list.push_back(labels.substr(at, end - at));
    at = end + 1;
  }
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(label_list[static_cast<size_t>(i)]);
    const json* leak = nullptr;
    for (const json& f : findings["active"]) {
      if (f["detector"] == "goroutine_leak" && std::to_string(f["pid"].get<int>()) == pids[i]) {
        leak = &f;
      }
    }
    ASSERT_NE(leak, nullptr) << findings.dump(1).substr(0, 4000) << serve_err;
    const json& sites = (*leak)["evidence"]["creation_sites"];
    ASSERT_TRUE(sites.is_object() && !sites["sites"].empty()) << leak->dump(2);
    const json& top = sites["sites"][0];
    EXPECT_EQ(top["function"], "main.(*leaker).leakLoop") << sites.dump(2);
    // The closure: leakLoop.func3 (1.19, 1.21), or the wrapper of a go
    // statement with arguments, leakLoop.gowrap2 (1.22+).
    EXPECT_EQ(top["goroutine_function"].get<std::string>().rfind("main.(*leaker).leakLoop.", 0), 0u)
        << top.dump();
    EXPECT_TRUE(top["file"].get<std::string>().ends_with("testprogs/leak/main.go")) << top.dump();
    EXPECT_EQ(top["line"].get<int>(), go_line) << top.dump();
    EXPECT_GT(top["growth"].get<int64_t>(), 0);
    EXPECT_NE((*leak)["summary"].get<std::string>().find(
                  "main.(*leaker).leakLoop (leak/main.go:" + std::to_string(go_line) + ")"),
              std::string::npos)
        << (*leak)["summary"];
    const json& cost = sites["cost"];
    std::printf(
        "[ sites    ] %s: %s:%d +%lld, %d walks, %.2f ms agent CPU/walk, max walk %.2f ms, "
        "%llu bytes read\n",
        label_list[static_cast<size_t>(i)].c_str(), top["function"].get<std::string>().c_str(),
        top["line"].get<int>(), static_cast<long long>(top["growth"].get<int64_t>()),
        cost["walks"].get<int>(), cost["agent_cpu_ms_per_walk"].get<double>(),
        cost["max_walk_ms"].get<double>(),
        static_cast<unsigned long long>(cost["bytes_read"].get<uint64_t>()));
  }
}

TEST_F(DetectorsEbpfTest, FragmentationOnFragment) {
  DetectRun run =
      RunDetect("fragment", "", "fragment", "-fragment-mb 96 -duration 90s", "fragmentation", 70);
  // The lowest heap in use over 30 s is judged: ~33 s after the spans fill.
  ExpectDetected(run, "fragmentation", 50);
  const json* f = ActiveFinding(run, "fragmentation");
  ASSERT_NE(f, nullptr);
  const json& e = (*f)["evidence"];
  std::printf("[ detect   ] fragmentation: in use %.1f MiB for %.1f MiB live (%.1fx)\n",
              e["heap_inuse_bytes_min"].get<double>() / (1 << 20),
              e["heap_live_bytes"].get<double>() / (1 << 20),
              e["inuse_to_live_ratio"].get<double>());
  EXPECT_GE(e["heap_inuse_bytes_min"].get<double>(), 64.0 * (1 << 20));
  EXPECT_GT(e["inuse_to_live_ratio"].get<double>(), 2.0);
}

TEST_F(DetectorsEbpfTest, FinalizerBacklogOnFinalizers) {
  DetectRun run = RunDetect("finalizers", "", "finalizers",
                            "-objects-per-sec 200 -finalizer-sleep 10ms -duration 90s",
                            "finalizer_backlog", 70);
  ExpectDetected(run, "finalizer_backlog", 50);
  const json* f = ActiveFinding(run, "finalizer_backlog");
  ASSERT_NE(f, nullptr);
  const json& e = (*f)["evidence"];
  std::printf("[ detect   ] finalizer backlog: %lld waiting, %.1f/s\n",
              static_cast<long long>(e["backlog_now"].get<int64_t>()),
              e["slope_per_sec"].get<double>());
  EXPECT_GE(e["backlog_now"].get<int64_t>(), 1000);
  EXPECT_GT(e["slope_per_sec"].get<double>(), 0);
}

// No false positives on a steady service: 45 s here (CI time); set
// GCPILOT_DETECT_SOAK_S for a longer soak.
TEST_F(DetectorsEbpfTest, SteadyServiceRaisesNothing) {
  int secs = 45;
  if (const char* soak = std::getenv("GCPILOT_DETECT_SOAK_S")) secs = std::max(45, std::atoi(soak));
  DetectRun run =
      RunDetect("steady", "", "steady", "-duration " + std::to_string(secs + 30) + "s", "", secs);
  ASSERT_TRUE(run.findings.is_object()) << run.serve_err;
  EXPECT_TRUE(run.findings["active"].empty()) << run.findings.dump(2);
  EXPECT_TRUE(run.findings["recent"].empty()) << run.findings.dump(2);
  EXPECT_EQ(run.stream.find("event: finding"), std::string::npos);
  EXPECT_FALSE(run.findings["detectors"].empty());
}

// `gcpilot watch --json` prints {"type":"finding"} lines as findings are
// raised (and cleared when the process exits).
TEST_F(DetectorsEbpfTest, WatchJsonPrintsFindingLines) {
  WatchedRun run = RunWatched("detect_watch",
                              Quote(TestProg(GoVersions().back(), "storm")) +
                                  " -rate-mbps 200 -duration 8s -stdout-every 0 "
                                  "-start-file $D/go",
                              "--pid $p");
  ASSERT_TRUE(run.seen) << run.watch.err;
  std::vector<json> found = run.watch.OfType("finding");
  bool raised = false, cleared = false;
  for (const json& f : found) {
    if (f["detector"] != "allocation_storm") continue;
    raised = raised || f["change"] == "raised";
    cleared = cleared || (f["change"] == "cleared" && f["clear_reason"] == "process exited");
  }
  EXPECT_TRUE(raised) << run.watch.err;
  EXPECT_TRUE(cleared);
}

// Offline: `gcpilot ingest` runs the detectors a gctrace log supports and
// names those it cannot run (no eBPF stops, no runtime gauges).
TEST(DetectorsIngestTest, GctraceLogListsFindingsAndSkippedDetectors) {
  std::string d = TempDir("detect_ingest");
  std::string prog = TestProg(GoVersions().back(), "storm");
  CommandResult r = Sh("GODEBUG=gctrace=1 " + Quote(prog) +
                       " -rate-mbps 200 -duration 6s -stdout-every 0 2>" + Quote(d + "/trace.log") +
                       " >/dev/null; " + GcpilotBin() + " ingest " + Quote(d + "/trace.log"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Findings (detectors over the whole input"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allocation_storm: Allocating"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("observer_stops (needs ebpf)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory_limit_thrash (needs gauges)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gcpilot::e2e
