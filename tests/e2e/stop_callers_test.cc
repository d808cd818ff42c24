// End to end (root: eBPF): the observer_stops finding names who stops the
// world. stwreasons calls runtime.ReadMemStats ten times a second from
// main.(*stopper).run; one `gcpilot serve` watches it built by every Go
// version, plain and stripped (function names then come from .gopclntab
// only). The test polls GET /api/v1/findings until each process's finding
// names that caller from captured stacks, then checks the time box: the
// capture ends by itself ("done"), its cost is reported, and the number of
// stacks captured is about the stops the program made meanwhile.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

constexpr char kCaller[] = "main.(*stopper).run";

class StopCallersEbpfTest : public testing::Test {
 protected:
  void SetUp() override { GCPILOT_EBPF_REQUIRE_ROOT(); }
};

TEST_F(StopCallersEbpfTest, ObserverStopsFindingNamesTheCallerOnEveryGoVersion) {
  std::string d = TempDir("stop_callers");
  struct Target {
    std::string version;
    bool stripped;
  };
  std::vector<Target> targets;
  for (const std::string& v : GoVersions()) {
    targets.push_back({v, false});
    targets.push_back({v, true});
  }
  // Start every workload, then one agent for all of them, then poll until
  // every pid's finding has a finished capture (or 150 s pass).
  std::string script = "D=" + Quote(d) + "; pids=; ";
  for (const Target& t : targets) {
    script += Quote(TestProg(t.version, "stwreasons", t.stripped)) +
              " -memstats-every 100ms -gomaxprocs-every 0 -profile-every 0 -alloc-mbps 2 "
              "-duration 180s -stdout-every 0 >/dev/null 2>&1 & pids=\"$pids $!\"; ";
  }
  script += "args=; for p in $pids; do args=\"$args --pid $p\"; done; " + StartServeSh("$args") +
            "echo $pids >$D/pids; "
            "for i in $(seq 300); do sleep 0.5; "
            "curl -s http://127.0.0.1:$port/api/v1/findings >$D/findings.json; "
            "n=$(grep -o '\"state\":\"done\"' $D/findings.json | wc -l); "
            "[ \"$n\" -ge " +
            std::to_string(targets.size()) +
            " ] && break; done; "
            "kill $pids 2>/dev/null; wait $pids; kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string serve_err = ReadFile(d + "/serve.err");
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n") << serve_err;
  json findings = json::parse(ReadFile(d + "/findings.json"), nullptr, false);
  ASSERT_TRUE(findings.is_object()) << serve_err;

  std::vector<int> pids;
  {
    std::string s = ReadFile(d + "/pids");
    for (size_t at = 0; at < s.size();) {
      size_t end = s.find_first_of(" \n", at);
      if (end == std::string::npos) end = s.size();
      if (end > at) pids.push_back(std::stoi(s.substr(at, end - at)));
      at = end + 1;
    }
  }
  ASSERT_EQ(pids.size(), targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string what = "go" + targets[i].version + (targets[i].stripped ? " stripped" : "") +
                             " pid " + std::to_string(pids[i]);
    const json* f = nullptr;
    for (const json& a : findings["active"]) {
      if (a["detector"] == "observer_stops" && a["pid"] == pids[i]) f = &a;
    }
    ASSERT_NE(f, nullptr) << what << ": no observer_stops finding: " << findings.dump();
    const json& ev = (*f)["evidence"];
    EXPECT_EQ(ev["caller"], kCaller) << what << ": " << ev.dump();
    ASSERT_TRUE(ev["caller_stack"].is_array()) << what;
    ASSERT_GE(ev["caller_stack"].size(), 2u) << what;
    EXPECT_EQ(ev["caller_stack"][0], "runtime.ReadMemStats") << what;
    EXPECT_NE((*f)["summary"].get<std::string>().find(kCaller), std::string::npos) << what;
    EXPECT_NE((*f)["fix"].get<std::string>().find(kCaller), std::string::npos) << what;
    const json& cap = ev["stack_capture"];
    ASSERT_TRUE(cap.is_object()) << what << ": " << ev.dump();
    EXPECT_EQ(cap["state"], "done") << what;
    // The time box: 30 s by default, ended by the agent itself.
    EXPECT_NEAR(cap["captured_s"].get<double>(), cap["time_box_s"].get<double>(), 2.0) << what;
    // Ten stops a second for about 30 s (the machine is noisy: loose).
    EXPECT_GT(cap["stacks"].get<uint64_t>(), 150u) << what;
    EXPECT_LT(cap["stacks"].get<uint64_t>(), 450u) << what;
    EXPECT_EQ(cap["distinct"], 1u) << what;
    EXPECT_GT(cap["cost"]["mean_us"].get<double>(), 0.0) << what;
    std::printf("[ callers  ] %s: %s, %llu stacks, capture cost mean %.1f us, max %.1f us\n",
                what.c_str(), ev["caller"].dump().c_str(),
                static_cast<unsigned long long>(cap["stacks"].get<uint64_t>()),
                cap["cost"]["mean_us"].get<double>(), cap["cost"]["max_us"].get<double>());
  }
}

}  // namespace
}  // namespace gcpilot::e2e
