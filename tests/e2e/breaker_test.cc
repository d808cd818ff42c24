// End-to-end test of the GC-jitter circuit breaker (root: eBPF). A Go
// service using the actuator (tests/testprogs/breakersvc, agent/go) serves
// HTTP under load (wrk) while `gcpilot serve` watches it. A phase of long
// stop-the-world pauses (runtime.Stack of every goroutine) must trip the
// breaker: /ready/<binary> answers 503, responses carry X-Traffic-Color:
// JITTER_RED and the degraded body; after the pauses stop it goes
// HALF_OPEN (JITTER_YELLOW) and CLOSED (/ready 200, no header). The control
// API refuses a wrong token; with the agent killed while the breaker is
// open, the service keeps serving, unmarked once its staleness timeout passed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// The run, as a bash script: $D is the test's directory, $PROG the service,
// $BIN gcpilot; free_port: see RunBashUnderEbpfLock.
constexpr char kScript[] = R"SH(
set -u
cd "$D"
printf 'e2e-token-123\n' >token; chmod 600 token
printf '[breaker]\ncool_down = "3s"\n' >agent.toml
port=$(free_port)
A=http://127.0.0.1:$port
GCPILOT_AGENT=$A GCPILOT_TOKEN_FILE=$D/token "$PROG" -goroutines 3000 -stw-file $D/stw \
  -first-stw-file $D/first_stw -port-file $D/svcport -poll 100ms -stale-after 2s 2>svc.err & p=$!
"$BIN" serve --listen 127.0.0.1:$port --config agent.toml --token-file token --pid $p 2>serve.err & s=$!
for i in $(seq 150); do curl -sf $A/api/v1/processes/$p >/dev/null && [ -s svcport ] && break; sleep 0.1; done
S=http://127.0.0.1:$(cat svcport)
echo "$p" >pid
curl -sN "$A/api/v1/stream?pid=$p" >stream.txt & c=$!
wrk -t1 -c4 -d120s $S/ >wrk.txt 2>&1 & w=$!
# Readiness, as fast as curl goes: "unix_ms code".
( while [ ! -f stop ]; do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' $A/ready/breakersvc)
    echo "$(date +%s%3N) $code" >>ready.txt; sleep 0.01; done ) & r=$!
# The service as a client sees it: "unix_ms code color first-body-word".
( while [ ! -f stop ]; do
    t=$(date +%s%3N)
    code=$(curl -s -D hdr.txt -o body.txt -m 2 -w '%{http_code}' $S/)
    color=$(tr -d '\r' <hdr.txt | sed -n 's/^X-Traffic-Color: //ip')
    echo "$t $code ${color:-none} $(head -c 20 body.txt | tr ' \n' '__')" >>svc.txt; sleep 0.05; done ) & q=$!
# Tokens.
curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$A/api/v1/control?pid=$p" >wrong.code
curl -s -o /dev/null -w '%{http_code}' "$A/api/v1/control?pid=$p" >none.code
sleep 3
echo "$(date +%s%3N)" >stw_on; touch stw; sleep 4; rm stw; echo "$(date +%s%3N)" >stw_off
# Cool-down 3 s after the last bad window, then 3 healthy windows (1.5 s).
for i in $(seq 150); do [ "$(tail -n1 svc.txt | cut -d' ' -f3)" = none ] && \
  [ "$(tail -n1 ready.txt | cut -d' ' -f2)" = 200 ] && break; sleep 0.1; done
sleep 1
pidns=$(readlink /proc/$p/ns/pid | tr -dc 0-9)
curl -s -H 'Authorization: Bearer e2e-token-123' "$A/api/v1/control?pid=$p&pidns=$pidns" >control.json
curl -s $A/api/v1/breakers >breakers.json
curl -s $A/api/v1/processes/$p >process.json
curl -s $A/metrics >metrics.txt
# Open it again, then kill the agent: the service keeps serving and drops
# the marking after its staleness timeout (2 s).
touch stw
for i in $(seq 100); do [ "$(tail -n1 svc.txt | cut -d' ' -f3)" = JITTER_RED ] && break; sleep 0.1; done
echo "$(date +%s%3N)" >kill_ms; kill -KILL $s; wait $s 2>/dev/null; rm stw
sleep 3.5
curl -s -D after_hdr.txt -o after_body.txt -w '%{http_code}' $S/ >after.code
touch stop; wait $r $q; kill $w $c; wait $w $c 2>/dev/null
kill -TERM $p; wait $p; echo $? >svc.rc
)SH";

struct Sample {
  int64_t ms = 0;
  int code = 0;
  std::string color;
  std::string body;
};

std::vector<Sample> ReadSamples(const std::string& path) {
  std::vector<Sample> out;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    Sample s;
    f >> s.ms >> s.code >> s.color >> s.body;
    if (s.ms > 0) out.push_back(s);
  }
  return out;
}

int64_t ReadMs(const std::string& path) {
  std::string t = ReadFile(path);
  return t.empty() ? 0 : std::stoll(t);
}

TEST(BreakerEbpfTest, LongPausesTripTheBreakerAndTheServiceRecovers) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("breaker");
  CommandResult r = RunBashUnderEbpfLock(
      d, kScript,
      "PROG=" + Quote(TestProg(GoVersions().back(), "breakersvc")) + " BIN=" + Quote(GcpilotBin()));
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(d + "/serve.err");
  EXPECT_EQ(ReadFile(d + "/wrong.code"), "401");
  EXPECT_EQ(ReadFile(d + "/none.code"), "401");

  const int64_t stw_on = ReadMs(d + "/stw_on"), stw_off = ReadMs(d + "/stw_off");
  const int64_t first_stw = ReadMs(d + "/first_stw"), kill_ms = ReadMs(d + "/kill_ms");
  ASSERT_GT(first_stw, 0) << ReadFile(d + "/svc.err");
  std::vector<Sample> ready = ReadSamples(d + "/ready.txt");
  std::vector<Sample> svc = ReadSamples(d + "/svc.txt");
  ASSERT_GT(ready.size(), 50u);
  ASSERT_GT(svc.size(), 50u);

  // Calm phase: ready, unmarked.
  for (const Sample& s : ready) {
    if (s.ms < stw_on) {
      EXPECT_EQ(s.code, 200) << s.ms;
    }
  }
  for (const Sample& s : svc) {
    if (s.ms < stw_on) {
      EXPECT_EQ(s.color, "none") << s.ms;
    }
  }
  // Tripped: /ready 503, the service degraded and marked red.
  int64_t first_503 = 0;
  for (const Sample& s : ready) {
    if (s.ms >= first_stw && s.code == 503) {
      first_503 = s.ms;
      break;
    }
  }
  ASSERT_GT(first_503, 0) << "/ready never answered 503";
  const int64_t reaction_ms = first_503 - first_stw;
  RecordProperty("reaction_ms", static_cast<int>(reaction_ms));
  std::printf("breaker reaction: first long pause -> /ready 503 in %lld ms\n",
              static_cast<long long>(reaction_ms));
  EXPECT_LT(reaction_ms, 2000);
  bool red = false, yellow_after_red = false;
  int64_t red_ms = 0, closed_ms = 0;
  for (const Sample& s : svc) {
    if (s.ms > kill_ms && kill_ms > 0) break;
    if (s.color == "JITTER_RED") {
      if (!red) red_ms = s.ms;
      red = true;
      EXPECT_EQ(s.code, 503);
      EXPECT_EQ(s.body.rfind("degraded:", 0), 0u) << s.body;
    }
    if (red && s.color == "JITTER_YELLOW") {
      yellow_after_red = true;
      EXPECT_EQ(s.code, 200);
    }
    if (yellow_after_red && s.color == "none" && closed_ms == 0) closed_ms = s.ms;
  }
  EXPECT_TRUE(red);
  EXPECT_TRUE(yellow_after_red);
  ASSERT_GT(closed_ms, 0) << "never closed again";
  std::printf("red %lld ms after the first pause; closed %lld ms after the pauses stopped\n",
              static_cast<long long>(red_ms - first_stw),
              static_cast<long long>(closed_ms - stw_off));
  // No 503 from /ready after it closed, until the second phase.
  for (const Sample& s : ready) {
    if (s.ms > closed_ms + 500 && s.ms < kill_ms - 2000) {
      EXPECT_EQ(s.code, 200) << s.ms;
    }
  }

  // The API, the stream and /metrics tell the same story.
  const std::string pid = ReadFile(d + "/pid").substr(0, ReadFile(d + "/pid").size() - 1);
  json control = json::parse(ReadFile(d + "/control.json"));
  EXPECT_EQ(std::to_string(control["pid"].get<int64_t>()), pid);
  EXPECT_EQ(control["breaker"]["state"], "closed");
  EXPECT_EQ(control["gc"]["apply"], false);
  json breakers = json::parse(ReadFile(d + "/breakers.json"));
  std::vector<std::string> tos;
  for (const json& p : breakers["processes"]) {
    if (std::to_string(p["pid"].get<int64_t>()) != pid) continue;
    for (const json& t : p["history"]) tos.push_back(t["to"]);
    ASSERT_FALSE(p["history"].empty());
    EXPECT_GT(p["history"][0]["p99_ms"].get<double>(), 5.0);
    EXPECT_NE(p["history"][0]["reason"].get<std::string>().find("> threshold 5ms"),
              std::string::npos);
  }
  ASSERT_GE(tos.size(), 3u);
  EXPECT_EQ(tos[0], "open");
  EXPECT_EQ(tos.back(), "closed");
  EXPECT_NE(std::find(tos.begin(), tos.end(), "half_open"), tos.end());
  json process = json::parse(ReadFile(d + "/process.json"));
  EXPECT_EQ(process["breaker"]["state"], "closed");
  ASSERT_TRUE(process["actuator"].is_object()) << process.dump();
  EXPECT_GT(process["actuator"]["last_seen_ms"].get<double>(), 0);
  std::string metrics = ReadFile(d + "/metrics.txt");
  EXPECT_NE(metrics.find("gcpilot_breaker_state{"), std::string::npos);
  EXPECT_NE(metrics.find("gcpilot_breaker_transitions_total{to=\"open\"}"), std::string::npos);
  std::string stream = ReadFile(d + "/stream.txt");
  size_t events = 0;
  for (size_t at = stream.find("event: breaker"); at != std::string::npos;
       at = stream.find("event: breaker", at + 1)) {
    ++events;
  }
  EXPECT_GE(events, 3u);

  // Agent killed while open: the service keeps serving, unmarked after the
  // staleness timeout.
  EXPECT_EQ(ReadFile(d + "/after.code"), "200");
  EXPECT_EQ(ReadFile(d + "/after_hdr.txt").find("X-Traffic-Color"), std::string::npos);
  int64_t unmarked_ms = 0;
  for (const Sample& s : svc) {
    if (s.ms > kill_ms && s.code == 200 && s.color == "none") {
      unmarked_ms = s.ms;
      break;
    }
  }
  EXPECT_GT(unmarked_ms, 0);
  EXPECT_LT(unmarked_ms - kill_ms, 3500);
  EXPECT_EQ(ReadFile(d + "/svc.rc"), "0\n") << ReadFile(d + "/svc.err");
}

// A service in its own pid namespace (as in a container) sends its pid as
// it sees it (1) and its namespace's inode; the agent maps it to the host
// pid and shows the actuator on that process.
constexpr char kPidNsScript[] = R"SH(
set -u
cd "$D"
printf 'ns-token\n' >token; chmod 600 token
port=$(free_port)
A=http://127.0.0.1:$port
GCPILOT_AGENT=$A GCPILOT_TOKEN_FILE=$D/token unshare --pid --fork --mount-proc \
  "$PROG" -goroutines 10 -poll 100ms 2>svc.err & u=$!
p=
for i in $(seq 100); do p=$(cat /proc/$u/task/*/children 2>/dev/null | awk '{print $1}'); \
  [ -n "$p" ] && [ "$(readlink /proc/$p/exe)" = "$PROG" ] && break; p=; sleep 0.1; done
echo "$p" >pid
readlink /proc/$p/ns/pid | tr -dc 0-9 >ns.txt
sed -n 's/^NSpid:\s*//p' /proc/$p/status >nspid.txt
"$BIN" serve --listen 127.0.0.1:$port --token-file token --pid $p 2>serve.err & s=$!
for i in $(seq 150); do curl -s $A/api/v1/processes/$p >process.json; \
  grep -q '"actuator":{' process.json && break; sleep 0.1; done
curl -s -H 'Authorization: Bearer ns-token' "$A/api/v1/control?pid=1&pidns=$(cat ns.txt)" >control.json
curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ns-token' \
  "$A/api/v1/control?pid=1&pidns=12345" >unknown_ns.code
kill -TERM $p; wait $u; kill -TERM $s; wait $s; echo $? >serve.rc
)SH";

TEST(BreakerEbpfTest, ActuatorInAnotherPidNamespaceIsMappedToTheHostPid) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  if (Sh("command -v unshare").exit_code != 0) GTEST_SKIP() << "no unshare";
  std::string d = TempDir("breaker_pidns");
  CommandResult r = RunBashUnderEbpfLock(
      d, kPidNsScript,
      "PROG=" + Quote(TestProg(GoVersions().back(), "breakersvc")) + " BIN=" + Quote(GcpilotBin()));
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(d + "/serve.err");
  std::string pid = ReadFile(d + "/pid");
  ASSERT_FALSE(pid.empty() || pid == "\n") << ReadFile(d + "/svc.err");
  pid.pop_back();
  // The kernel's view: host pid first, 1 in the service's own namespace.
  EXPECT_EQ(ReadFile(d + "/nspid.txt"), pid + "\t1\n");
  json process = json::parse(ReadFile(d + "/process.json"));
  ASSERT_TRUE(process["actuator"].is_object()) << process.dump() << ReadFile(d + "/svc.err");
  json control = json::parse(ReadFile(d + "/control.json"));
  EXPECT_EQ(std::to_string(control["pid"].get<int64_t>()), pid) << control.dump();
  EXPECT_EQ(control["breaker"]["state"], "closed");
  EXPECT_EQ(ReadFile(d + "/unknown_ns.code"), "404");
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n");
}

}  // namespace
}  // namespace gcpilot::e2e
