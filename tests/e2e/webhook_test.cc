// End-to-end test of the agent's webhooks (root: eBPF). `gcpilot serve`
// with both `[findings] webhook` and `[breaker] webhook` set to a real local
// HTTP receiver (python3 http.server), watching two real workloads: storm
// (200 MB/s: an allocation_storm finding) and breakersvc (stops of several
// ms from runtime.Stack: its breaker opens). The receiver must get the
// finding raised, then cleared when storm is killed, and the breaker's
// transition to OPEN, each as the JSON the stream sends; /metrics and
// /api/v1/findings count them as sent. Then the receiver is stopped and a
// second storm raises a finding: the POST fails and is counted, and the agent
// keeps answering (/healthz) all along.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// $D the test's directory, $STORM / $SVC the workloads, $BIN gcpilot; free_port: see
// RunBashUnderEbpfLock.
constexpr char kScript[] = R"SH(
set -u
cd "$D"
cat >recv.py <<'PY'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        name = os.path.basename(self.path) + '.jsonl'
        with open(name, 'ab') as f:
            f.write(body + b'\n')
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open('recvport.tmp', 'w') as f:
    f.write(str(s.server_address[1]))
os.rename('recvport.tmp', 'recvport')
s.serve_forever()
PY
# It writes <last path element>.jsonl in its directory, hooks/.
mkdir -p hooks
(cd hooks && exec python3 ../recv.py) 2>recv.err & rv=$!
for i in $(seq 100); do [ -s hooks/recvport ] && break; sleep 0.1; done
R=http://127.0.0.1:$(cat hooks/recvport)
printf '[findings]\nwebhook = "%s/hooks/findings"\n[breaker]\nwebhook = "%s/hooks/breaker"\n' $R $R >agent.toml
port=$(free_port)
A=http://127.0.0.1:$port
touch stw
"$STORM" -rate-mbps 200 -duration 120s >storm.out 2>&1 & p=$!
GCPILOT_AGENT=$A "$SVC" -goroutines 3000 -stw-file $D/stw 2>svc.err & b=$!
"$BIN" serve --listen 127.0.0.1:$port --config agent.toml 2>serve.err & s=$!
echo "$p $b" >pids
for i in $(seq 300); do curl -sf $A/readyz >/dev/null && break; sleep 0.1; done
# /healthz as seen all along: one code per line.
( while [ ! -f stop ]; do curl -s -o /dev/null -m 5 -w '%{http_code}\n' $A/healthz >>healthz.txt; sleep 0.2; done ) & h=$!
for i in $(seq 600); do
  grep -q '"change":"raised"' hooks/findings.jsonl 2>/dev/null && grep -q '"to":"open"' hooks/breaker.jsonl 2>/dev/null && break
  sleep 0.1
done 2>/dev/null
kill -KILL $p; wait $p 2>/dev/null
for i in $(seq 300); do grep -q '"change":"cleared"' hooks/findings.jsonl 2>/dev/null && break; sleep 0.1; done
sleep 1
curl -s $A/metrics >metrics1.txt
curl -s $A/api/v1/findings >findings1.json
# The receiver goes away: the next finding's POST fails, counted, nothing stuck.
kill $rv; wait $rv 2>/dev/null
"$STORM" -rate-mbps 200 -duration 120s >storm2.out 2>&1 & p2=$!
echo $p2 >pid2
for i in $(seq 600); do
  curl -s $A/metrics | grep -q 'gcpilot_webhook_posts_total{webhook="findings",result="failed"} [1-9]' && break
  sleep 0.1
done
curl -s $A/metrics >metrics2.txt
touch stop; wait $h
kill -KILL $p2 $b; wait $p2 $b 2>/dev/null
kill -TERM $s; wait $s; echo $? >serve.rc
)SH";

double Metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(WebhookEbpfTest, FindingsAndBreakerTransitionsArePostedAndFailuresCounted) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("webhook");
  CommandResult r =
      RunBashUnderEbpfLock(d, kScript,
                           "STORM=" + Quote(TestProg(GoVersions().back(), "storm")) +
                               " SVC=" + Quote(TestProg(GoVersions().back(), "breakersvc")) +
                               " BIN=" + Quote(GcpilotBin()));
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(d + "/serve.err");
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n") << ReadFile(d + "/serve.err");
  int storm_pid = 0, svc_pid = 0;
  std::istringstream(ReadFile(d + "/pids")) >> storm_pid >> svc_pid;
  ASSERT_GT(storm_pid, 0);

  // Findings: storm's allocation_storm raised, then cleared when it was killed.
  std::vector<json> posts = JsonLines(ReadFile(d + "/hooks/findings.jsonl"));
  const json* raised = nullptr;
  const json* cleared = nullptr;
  for (const json& j : posts) {
    if (j.value("pid", 0) != storm_pid || j.value("detector", "") != "allocation_storm") continue;
    if (j.value("change", "") == "raised" && raised == nullptr) raised = &j;
    if (j.value("change", "") == "cleared") cleared = &j;
  }
  ASSERT_NE(raised, nullptr) << ReadFile(d + "/hooks/findings.jsonl") << ReadFile(d + "/serve.err");
  EXPECT_TRUE((*raised)["active"].get<bool>());
  EXPECT_FALSE((*raised)["title"].get<std::string>().empty());
  EXPECT_FALSE((*raised)["fix"].get<std::string>().empty());
  EXPECT_GT((*raised)["evidence"]["alloc_bytes_per_sec"].get<double>(), 50e6) << raised->dump();
  ASSERT_NE(cleared, nullptr) << ReadFile(d + "/hooks/findings.jsonl");
  EXPECT_EQ((*cleared)["id"], (*raised)["id"]);
  EXPECT_FALSE((*cleared)["active"].get<bool>());
  EXPECT_EQ((*cleared)["clear_reason"], "process exited");

  // Breaker: breakersvc's transition to OPEN, through the same sender class.
  bool opened = false;
  for (const json& j : JsonLines(ReadFile(d + "/hooks/breaker.jsonl"))) {
    if (j.value("pid", 0) == svc_pid && j["transition"]["to"] == "open") opened = true;
  }
  EXPECT_TRUE(opened) << ReadFile(d + "/hooks/breaker.jsonl");

  // Counted as sent; nothing failed or dropped while the receiver was up.
  const std::string m1 = ReadFile(d + "/metrics1.txt");
  const double sent =
      Metric(m1, R"(gcpilot_webhook_posts_total{webhook="findings",result="sent"})");
  EXPECT_GE(sent, 2) << m1;
  EXPECT_LE(sent, static_cast<double>(posts.size()));
  EXPECT_EQ(Metric(m1, R"(gcpilot_webhook_posts_total{webhook="findings",result="failed"})"), 0);
  EXPECT_EQ(Metric(m1, R"(gcpilot_webhook_posts_total{webhook="findings",result="dropped"})"), 0);
  EXPECT_GE(Metric(m1, R"(gcpilot_webhook_posts_total{webhook="breaker",result="sent"})"), 1);
  json f1 = ReadJson(d + "/findings1.json");
  ASSERT_TRUE(f1["webhook"].is_object()) << f1.dump();
  EXPECT_EQ(f1["webhook"]["sent"].get<double>(), sent);
  EXPECT_NE(f1["webhook"]["url"].get<std::string>().find("/hooks/findings"), std::string::npos);

  // Receiver gone: the second storm's finding failed to post, and was counted.
  const std::string m2 = ReadFile(d + "/metrics2.txt");
  EXPECT_GE(Metric(m2, R"(gcpilot_webhook_posts_total{webhook="findings",result="failed"})"), 1)
      << m2;
  // The agent answered /healthz 200 every time it was asked.
  std::istringstream hz(ReadFile(d + "/healthz.txt"));
  int n = 0;
  for (std::string code; std::getline(hz, code); ++n) EXPECT_EQ(code, "200");
  EXPECT_GT(n, 10);
}

}  // namespace
}  // namespace gcpilot::e2e
