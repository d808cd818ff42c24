// End-to-end test of the tuner inside `gcpilot serve --apply` (root: eBPF):
// the loop closed through the actuator. A Go program running the actuator
// (tests/testprogs/tunable -actuator, agent/go) polls the agent; the tuner's
// recommendation shows in its PROCESS object, in /api/v1/recommendations, in
// /metrics and in the control API's answer (apply: true); the actuator sets
// it with debug.SetGCPercent, and both the agent (reading GOGC from the
// process's memory) and the program itself see the new GOGC.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

TEST(TuneServeEbpfTest, ApplyThroughTheActuatorClosesTheLoop) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("tune_serve");
  std::string prog = TestProg(GoVersions().back(), "tunable");
  WriteFile(d + "/token", "tune-e2e-token\n");
  WriteFile(d + "/serve.toml",
            "token_file = \"" + d + "/token\"\n[tuner]\npolicy = \"pause-deviation\"\n");
  // $proc: the process's JSON; waits (up to 20 s) until its GOGC as the agent
  // reads it equals the recommendation (the actuator applied it).
  std::string script =
      "D=" + Quote(d) + "; chmod 600 $D/token; " +
      StartServeSh("--config $D/serve.toml --apply --exe " + Quote(prog)) +
      "GCPILOT_AGENT=http://127.0.0.1:$port GCPILOT_TOKEN_FILE=$D/token " + Quote(prog) +
      " -actuator -duration 24s -live-mb 32 -alloc-mbps 60 -truth $D/truth.json "
      ">$D/prog.out 2>&1 & p=$!; echo $p >$D/pid; "
      "for i in $(seq 200); do curl -s http://127.0.0.1:$port/api/v1/processes/$p "
      ">$D/process.json; "
      "python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); "
      "r=(j.get(\"tuner\") or {}).get(\"recommendation\"); "
      "sys.exit(0 if r and j[\"gauges\"][\"gogc\"]==r[\"gogc\"] and r[\"change\"]==False else 1)' "
      "$D/process.json 2>/dev/null && break; sleep 0.1; done; "
      "curl -s http://127.0.0.1:$port/api/v1/recommendations >$D/recs.json; "
      "curl -s http://127.0.0.1:$port/metrics >$D/metrics.txt; "
      "curl -s -H 'Authorization: Bearer tune-e2e-token' "
      "\"http://127.0.0.1:$port/api/v1/control?pid=$p\" >$D/control.json; "
      "wait $p; echo $? >$D/prog.rc; kill -TERM $s; wait $s; echo $? >$D/serve.rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
  ASSERT_EQ(ReadFile(d + "/prog.rc"), "0\n") << ReadFile(d + "/prog.out");
  std::string pid = ReadFile(d + "/pid");
  pid.pop_back();

  json process = json::parse(ReadFile(d + "/process.json"));
  ASSERT_TRUE(process.contains("tuner")) << process.dump();
  const json& t = process["tuner"];
  ASSERT_TRUE(t.contains("recommendation")) << t.dump();
  EXPECT_EQ(t["policy"], "pause-deviation");
  EXPECT_TRUE(t["apply"].get<bool>());
  const json& rec = t["recommendation"];
  const int gogc = rec["gogc"].get<int>();
  EXPECT_GE(gogc, 25);
  EXPECT_LE(gogc, 200);
  EXPECT_NE(gogc, 100) << "pauses far under 5 ms: the seed's rule moves GOGC off 100";
  EXPECT_NE(rec["reason"].get<std::string>().find("does not shorten"), std::string::npos);
  // Applied: the agent reads the new GOGC from the process, the actuator
  // reported it, and the program itself ran with it to the end.
  EXPECT_EQ(process["gauges"]["gogc"].get<int>(), gogc) << process.dump();
  EXPECT_FALSE(rec["change"].get<bool>()) << rec.dump();
  ASSERT_FALSE(process["actuator"].is_null()) << process.dump();
  EXPECT_EQ(process["actuator"]["gogc"].get<int>(), gogc);
  json truth = ReadJson(d + "/truth.json");
  EXPECT_EQ(truth["gogc_final"].get<int>(), gogc) << truth.dump();

  json control = json::parse(ReadFile(d + "/control.json"));
  EXPECT_TRUE(control["gc"]["apply"].get<bool>()) << control.dump();
  EXPECT_EQ(control["gc"]["gogc"].get<int>(), gogc);
  EXPECT_EQ(control["gc"]["policy"], "pause-deviation");
  EXPECT_GE(control["gc"]["revision"].get<int>(), 1);

  json recs = json::parse(ReadFile(d + "/recs.json"));
  ASSERT_EQ(recs["processes"].size(), 1u) << recs.dump();
  EXPECT_EQ(std::to_string(recs["processes"][0]["pid"].get<int>()), pid);
  EXPECT_TRUE(recs["apply"].get<bool>());

  std::string metrics = ReadFile(d + "/metrics.txt");
  const std::string needle = "gcpilot_tuner_recommended_gogc{";
  size_t at = metrics.find(needle);
  ASSERT_NE(at, std::string::npos) << metrics.substr(0, 2000);
  std::string line = metrics.substr(at, metrics.find('\n', at) - at);
  EXPECT_NE(line.find("pid=\"" + pid + "\""), std::string::npos) << line;
  EXPECT_NE(line.find("policy=\"pause-deviation\""), std::string::npos) << line;
  EXPECT_EQ(std::stoi(line.substr(line.rfind(' ') + 1)), gogc) << line;
  EXPECT_NE(metrics.find("gcpilot_tuner_recommended_memory_limit_bytes{"), std::string::npos);
}

}  // namespace
}  // namespace gcpilot::e2e
