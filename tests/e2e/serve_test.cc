// End-to-end tests of `gcpilot serve` (root: eBPF). A real Go program runs
// under the real agent; what the agent serves (JSON API, /metrics checked by
// `promtool check metrics`, the event stream) is compared with the program's
// own ground truth (runtime/metrics, MemStats.PauseNs). And the agent is
// abused by hostile clients (serve_abuse.py) and must stay healthy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// Shell: StartServeSh, and the port in $D/port.
std::string StartServeKeepPortSh(const std::string& args) {
  return StartServeSh(args) + "echo \"$port\" >$D/port; ";
}

// Shell: waits (15 s at most) until the agent knows process $p.
std::string WaitKnownSh() {
  return "for i in $(seq 150); do curl -sf http://127.0.0.1:$port/api/v1/processes/$p "
         ">/dev/null && break; sleep 0.1; done; ";
}

// Value of the sample `name{...labels...}` in a text exposition whose label
// set contains every `needle` ("pid=\"12\""); NaN when absent.
double Sample(const std::string& text, const std::string& name,
              const std::vector<std::string>& needles) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return NAN;
}

class ServeEbpfTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

TEST_P(ServeEbpfTest, ApiMetricsAndStreamMatchTheRuntime) {
  std::string d = TempDir("serve_" + GoVersionName({GetParam(), 0}));
  std::string prog = TestProg(GetParam(), "steady");
  std::string script =
      "D=" + Quote(d) + "; " + Quote(prog) +
      " -rps 4000 -req-bytes 32768 -live-mb 4 -duration 4s -stdout-every 0 -start-file $D/go "
      "-truth "
      "$D/truth.json >$D/prog.out 2>&1 & p=$!; " +
      StartServeKeepPortSh("--pid $p") + WaitKnownSh() +
      "curl -sN \"http://127.0.0.1:$port/api/v1/stream?pid=$p\" >$D/stream.txt & c=$!; "
      "sleep 0.5; touch $D/go; wait $p; echo $? >$D/prog.rc; "
      // Until the agent has seen the exit (its records are all in).
      "for i in $(seq 100); do curl -s http://127.0.0.1:$port/api/v1/processes/$p | "
      "grep -q '\"exited\":true' && break; sleep 0.1; done; sleep 1.5; "
      "curl -s http://127.0.0.1:$port/metrics >$D/metrics.txt; "
      "promtool check metrics <$D/metrics.txt >$D/promtool.txt 2>&1; echo $? >$D/promtool.rc; "
      "curl -s http://127.0.0.1:$port/api/v1/processes/$p >$D/process.json; "
      "after=0; n=0; while :; do curl -s \"http://127.0.0.1:$port/api/v1/processes/$p/"
      "cycles?after=$after&limit=10\" >$D/page$n.json; "
      "after=$(sed -n 's/.*\"next_after\":\\([0-9]*\\).*/\\1/p' $D/page$n.json); "
      "grep -q '\"more\":true' $D/page$n.json || break; n=$((n+1)); done; echo $n >$D/pages; "
      "kill $c; kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
  json truth = ReadJson(d + "/truth.json");
  json process = json::parse(ReadFile(d + "/process.json"));
  const int64_t pid = process["pid"];
  EXPECT_EQ(process["go_version"], truth["go_version"]);
  EXPECT_TRUE(process["exited"].get<bool>());

  // Every cycle, in order, no gap, up to the runtime's own count; pages
  // joined by next_after.
  std::vector<json> cycles;
  int pages = std::stoi(ReadFile(d + "/pages"));
  for (int i = 0; i <= pages; ++i) {
    json page = json::parse(ReadFile(d + "/page" + std::to_string(i) + ".json"));
    for (const json& c : page["cycles"]) cycles.push_back(c);
  }
  ASSERT_FALSE(cycles.empty());
  EXPECT_GE(pages, 1) << "expected several pages of 10";
  for (size_t i = 1; i < cycles.size(); ++i) {
    ASSERT_EQ(cycles[i]["gc"].get<uint64_t>(), cycles[i - 1]["gc"].get<uint64_t>() + 1);
    ASSERT_GT(cycles[i]["seq"].get<uint64_t>(), cycles[i - 1]["seq"].get<uint64_t>());
  }
  EXPECT_EQ(cycles.back()["gc"].get<uint64_t>(), truth["gc_cycles_total"].get<uint64_t>());
  EXPECT_LE(cycles.front()["gc"].get<uint64_t>(),
            truth["start_gc_cycles_total"].get<uint64_t>() + 1);
  EXPECT_EQ(process["totals"]["cycles"].get<uint64_t>(), cycles.size());

  // Pauses equal the runtime's PauseNs ring to the nanosecond.
  std::map<uint64_t, uint64_t> ours;
  double pause_sum_s = 0;
  for (const json& c : cycles) {
    ours[c["gc"]] = c["pause_ns"];
    pause_sum_s += c["pause_ns"].get<double>() / 1e9;
  }
  size_t compared = 0;
  for (const json& p : truth["pauses"]) {
    auto it = ours.find(p["gc"].get<uint64_t>());
    if (it == ours.end()) continue;
    EXPECT_EQ(it->second, p["pause_ns"].get<uint64_t>()) << "gc " << p["gc"];
    ++compared;
  }
  EXPECT_GT(compared, 10u);

  // /metrics: valid for promtool, and the same counts as the API.
  std::string metrics = ReadFile(d + "/metrics.txt");
  EXPECT_EQ(ReadFile(d + "/promtool.rc"), "0\n") << ReadFile(d + "/promtool.txt");
  const std::string pl = "pid=\"" + std::to_string(pid) + "\"";
  EXPECT_EQ(Sample(metrics, "gcpilot_gc_cycles_total", {pl}), static_cast<double>(cycles.size()));
  EXPECT_EQ(Sample(metrics, "gcpilot_stw_pause_seconds_count", {pl, "sweep_termination"}),
            static_cast<double>(cycles.size()));
  double sum = Sample(metrics, "gcpilot_stw_pause_seconds_sum", {pl, "sweep_termination"}) +
               Sample(metrics, "gcpilot_stw_pause_seconds_sum", {pl, "mark_termination"});
  EXPECT_NEAR(sum, pause_sum_s, 1e-6 * cycles.size());
  EXPECT_EQ(Sample(metrics, "gcpilot_gc_forced_cycles_total", {pl}), 0);
  EXPECT_FALSE(std::isnan(Sample(metrics, "gcpilot_gogc_percent", {pl})));

  // The stream: every cycle after the gate opened, as the API has it.
  std::string stream = ReadFile(d + "/stream.txt");
  EXPECT_EQ(stream.rfind("id: 0\nevent: hello\n", 0), 0u) << stream.substr(0, 200);
  std::set<uint64_t> streamed;
  std::regex cycle_gc("\"cycle\":\\{[^\\n]*?\"gc\":([0-9]+)");
  for (auto it = std::sregex_iterator(stream.begin(), stream.end(), cycle_gc);
       it != std::sregex_iterator(); ++it) {
    streamed.insert(std::stoull((*it)[1]));
  }
  for (uint64_t gc = truth["start_gc_cycles_total"].get<uint64_t>() + 1;
       gc <= truth["gc_cycles_total"].get<uint64_t>(); ++gc) {
    EXPECT_EQ(streamed.count(gc), 1u) << "cycle " << gc << " not streamed";
  }
}

INSTANTIATE_TEST_SUITE_P(GoVersions, ServeEbpfTest, testing::ValuesIn(GoVersions()), GoVersionName);

// --store: history survives the agent; `gcpilot history` reads every cycle the
// runtime ran while it was watched, with the runtime's exact pauses, also
// after a second agent run appended to the same store.
TEST(ServeEbpfStoreTest, HistoryHoldsEveryCycleAcrossAgentRestarts) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("serve_store");
  std::string prog = TestProg(GoVersions().back(), "steady");
  std::string script =
      "D=" + Quote(d) + "; " + Quote(prog) +
      " -rps 4000 -req-bytes 32768 -live-mb 4 -duration 3s -stdout-every 0 -start-file $D/go "
      "-truth $D/truth.json >$D/prog.out 2>&1 & p=$!; " +
      StartServeKeepPortSh("--pid $p --store $D/h.db") + WaitKnownSh() +
      "touch $D/go; wait $p; sleep 1.5; kill -TERM $s; wait $s; echo $? >$D/serve.rc; " +
      // A second run appends to the same store (and sees nothing new).
      GcpilotBin() +
      " serve --listen 127.0.0.1:0 --store $D/h.db --pid 1 --duration 1 "
      "2>$D/serve2.err; echo $? >$D/serve2.rc; " +
      GcpilotBin() +
      " history --store $D/h.db --since 10m --pid $p --cycles --json "
      ">$D/history.json 2>$D/history.err; echo $? >$D/history.rc; " +
      GcpilotBin() + " history --store $D/h.db --since 10m --pid $p >$D/minutes.txt 2>&1";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
  ASSERT_EQ(ReadFile(d + "/history.rc"), "0\n") << ReadFile(d + "/history.err");
  json truth = ReadJson(d + "/truth.json");
  std::vector<json> rows = JsonLines(ReadFile(d + "/history.json"));
  ASSERT_FALSE(rows.empty());
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i]["gc"].get<uint64_t>(), rows[i - 1]["gc"].get<uint64_t>() + 1);
  }
  EXPECT_EQ(rows.back()["gc"].get<uint64_t>(), truth["gc_cycles_total"].get<uint64_t>());
  std::map<uint64_t, uint64_t> ours;
  for (const json& c : rows) ours[c["gc"]] = c["pause_ns"];
  size_t compared = 0;
  for (const json& p : truth["pauses"]) {
    auto it = ours.find(p["gc"].get<uint64_t>());
    if (it == ours.end()) continue;
    EXPECT_EQ(it->second, p["pause_ns"].get<uint64_t>()) << "gc " << p["gc"];
    ++compared;
  }
  EXPECT_GT(compared, 5u);
  EXPECT_NE(ReadFile(d + "/minutes.txt").find("steady"), std::string::npos)
      << ReadFile(d + "/minutes.txt");
}

// A service the agent follows through its gctrace log ([[gctrace]] in the
// config): every cycle the runtime ran reaches the API and /metrics, under
// the configured name, with the pauses gctrace printed.
TEST(ServeEbpfGctraceLogTest, FollowsALogFileLikeTailF) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("serve_gctrace_log");
  WriteFile(d + "/serve.toml",
            "listen = \"127.0.0.1:0\"\n[watch]\npids = [1]\n"
            "[[gctrace]]\npath = \"" +
                d + "/svc.log\"\nname = \"svc-log\"\n");
  WriteFile(d + "/svc.log", "an old line written before the agent started\n");
  std::string prog = TestProg(GoVersions().back(), "storm");
  std::string script =
      "D=" + Quote(d) + "; " + GcpilotBin() +
      " serve --config $D/serve.toml 2>$D/serve.err & s=$!; " + ReadServePortSh() +
      "sleep 0.5; "
      "GODEBUG=gctrace=1 " +
      Quote(prog) +
      " -duration 3s -stdout-every 0 -truth $D/truth.json 2>>$D/svc.log >/dev/null; "
      "sleep 1.5; curl -s http://127.0.0.1:$port/api/v1/processes >$D/processes.json; "
      "curl -s http://127.0.0.1:$port/metrics >$D/metrics.txt; "
      "kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
  json truth = ReadJson(d + "/truth.json");
  json procs = json::parse(ReadFile(d + "/processes.json"))["processes"];
  ASSERT_EQ(procs.size(), 1u) << procs.dump();
  const json& p = procs[0];
  EXPECT_EQ(p["comm"], "svc-log");
  EXPECT_EQ(p["binary"], "svc-log");
  EXPECT_EQ(p["source"], "gctrace");
  EXPECT_EQ(p["totals"]["cycles"].get<uint64_t>(), truth["gc_cycles_total"].get<uint64_t>());
  // gctrace prints each pause to two significant digits (truncated).
  double truth_s = truth["pause_total_ns"].get<double>() / 1e9;
  double ours_s = p["totals"]["pause_ns"].get<double>() / 1e9;
  EXPECT_LE(ours_s, truth_s * 1.001);
  EXPECT_GE(ours_s, truth_s * 0.8);
  std::string metrics = ReadFile(d + "/metrics.txt");
  EXPECT_EQ(Sample(metrics, "gcpilot_gc_cycles_total", {"binary=\"svc-log\""}),
            truth["gc_cycles_total"].get<double>());
  EXPECT_NE(ReadFile(d + "/serve.err").find("following gctrace log"), std::string::npos);
}

// The agent binds loopback only by default, and survives hostile clients:
// other clients keep getting their events, slow ones are cut off, memory
// stays bounded, and it shuts down cleanly.
TEST(ServeEbpfRobustnessTest, HostileClientsLeaveTheAgentHealthy) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("serve_abuse");
  std::string prog = TestProg(GoVersions().back(), "storm");
  std::string script =
      "D=" + Quote(d) + "; " + Quote(prog) +
      " -duration 60s -stdout-every 0 >$D/prog.out 2>&1 & p=$!; " +
      StartServeKeepPortSh("--pid $p") + WaitKnownSh() +
      "sleep 1; s_rss0=$(awk '/VmRSS/{print $2}' /proc/$s/status); " +
      "ss -ltn 2>/dev/null | awk '{print $4}' | grep \":$port$\" >$D/listen.txt; " +
      "/usr/bin/python3 " + Quote(std::string(GCPILOT_SOURCE_DIR) + "/tests/e2e/serve_abuse.py") +
      " 127.0.0.1 $port $p >$D/abuse.json 2>$D/abuse.err; "
      "sleep 2; curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/healthz "
      ">$D/healthz; curl -s http://127.0.0.1:$port/api/v1/status >$D/status.json; "
      "timeout 4 curl -sN http://127.0.0.1:$port/api/v1/stream >$D/after.txt; "
      "awk '/VmRSS/{print $2}' /proc/$s/status >$D/rss1; echo $s_rss0 >$D/rss0; "
      "ls /proc/$s/task | wc -l >$D/threads; "
      "kill -TERM $s; wait $s; echo $? >$D/serve.rc; kill $p; wait $p; true";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string listen = ReadFile(d + "/listen.txt");
  EXPECT_NE(listen.find("127.0.0.1:"), std::string::npos) << listen;
  EXPECT_EQ(listen.find("0.0.0.0:"), std::string::npos) << listen;
  ASSERT_FALSE(ReadFile(d + "/abuse.json").empty()) << ReadFile(d + "/abuse.err");
  json a = json::parse(ReadFile(d + "/abuse.json"));
  // Well-behaved stream clients all got cycles despite the abuse.
  EXPECT_EQ(a["stream_clients"], 100);
  EXPECT_EQ(a["stream_clients_with_cycles"], 100) << a.dump();
  EXPECT_EQ(a["stream_errors"], 0);
  EXPECT_EQ(a["status_while_slow"], 200);
  for (const auto& [path, code] : a["status_codes"].items()) {
    if (path == "POST" || path == "PUT" || path == "DELETE") {
      EXPECT_EQ(code, 405) << path;
    } else if (path == "/nope" || path == "/api/v1/processes/1" ||
               path == "/api/v1/processes/abc" || path == "/api/v1/processes/99999999999") {
      EXPECT_TRUE(code == 404 || code == 400) << path << " " << code;
    } else {
      EXPECT_EQ(code, 400) << path;
    }
  }
  EXPECT_NE(a["raw"]["many_headers"].get<std::string>().find(" 431"), std::string::npos)
      << a["raw"]["many_headers"];
  for (const char* name : {"garbage", "no_version", "huge_header"}) {
    EXPECT_NE(a["raw"][name].get<std::string>().find(" 400"), std::string::npos)
        << name << ": " << a["raw"][name];
  }
  EXPECT_NE(a["raw"]["huge_body"].get<std::string>().find(" 413"), std::string::npos)
      << a["raw"]["huge_body"];
  EXPECT_EQ(a["raw"]["traversal"].get<std::string>().find(" 200"), std::string::npos);
  // Afterwards: healthy, still streaming, the slow and gone clients released.
  EXPECT_EQ(ReadFile(d + "/healthz"), "200");
  json status = json::parse(ReadFile(d + "/status.json"));
  EXPECT_LE(status["sse"]["clients"].get<int>(), 1) << status.dump();
  EXPECT_NE(ReadFile(d + "/after.txt").find("event: cycle"), std::string::npos);
  long rss0 = std::stol(ReadFile(d + "/rss0")), rss1 = std::stol(ReadFile(d + "/rss1"));
  EXPECT_LT(rss1 - rss0, 200 * 1024) << "RSS grew from " << rss0 << " kB to " << rss1 << " kB";
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
}

}  // namespace
}  // namespace gcpilot::e2e
