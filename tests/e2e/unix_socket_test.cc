// End-to-end test of the agent on a unix socket (root: eBPF). `gcpilot
// serve` with unix_socket (mode 0o600) over a stale socket file left by a
// "crashed" agent, --apply and a token, watching breakersvc, whose Go
// actuator (agent/go) is pointed at the socket: GCPILOT_AGENT=unix:PATH.
// Checks: the stale file is replaced and gets the mode; the same routes
// answer on the socket as on TCP (status, the control API with its token,
// 401 without); the actuator polls and reports through the socket (the
// process's `actuator` object, the tuner's GOGC applied, under wrk load so
// the service runs GC cycles); a long-pause
// phase makes the service answer JITTER_RED through it; a second agent on
// the same live socket is refused; SIGTERM removes the file; an agent killed
// with SIGKILL leaves it, and the next agent replaces it and the actuator
// finds that agent again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

// $D the test's directory, $PROG breakersvc, $BIN gcpilot; free_port: see RunBashUnderEbpfLock.
constexpr char kScript[] = R"SH(
set -u
cd "$D"
printf 'e2e-token-unix\n' >token; chmod 600 token
S=$D/agent.sock
printf 'unix_socket = "%s"\nunix_socket_mode = 0o600\n[breaker]\ncool_down = "3s"\n' "$S" >agent.toml
port=$(free_port)
A=http://127.0.0.1:$port
U="curl -s --unix-socket $S"
# A stale socket file, as a crashed agent leaves it (nothing accepts on it).
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S"
GCPILOT_AGENT=unix:$S GCPILOT_TOKEN_FILE=$D/token "$PROG" -goroutines 3000 -stw-file $D/stw \
  -port-file $D/svcport -poll 100ms -stale-after 2s 2>svc.err & p=$!
echo $p >pid
ready() { for i in $(seq 300); do $U -f http://gcpilot/readyz >/dev/null && return 0; sleep 0.1; done; return 1; }
seen() { for i in $(seq 300); do $U http://gcpilot/api/v1/processes/$p | grep -q '"last_seen_ms"' && return 0; sleep 0.1; done; return 1; }
"$BIN" serve --listen 127.0.0.1:$port --config agent.toml --token-file token --pid $p --apply 2>serve.err & s=$!
ready || echo "agent not ready on the socket" >>problems.txt
stat -c '%a %F' "$S" >sock_stat.txt
$U http://gcpilot/api/v1/status >status_unix.json
curl -s $A/api/v1/status >status_tcp.json
$U -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "http://gcpilot/api/v1/control?pid=$p" >wrong.code
seen || echo "the actuator never reported through the socket" >>problems.txt
# Load, so the service runs GC cycles and the tuner has pauses to judge.
for i in $(seq 100); do [ -s svcport ] && break; sleep 0.1; done
SVC=http://127.0.0.1:$(cat svcport)
wrk -t1 -c2 -d300s $SVC/ >wrk.txt 2>&1 & w=$!
# The tuner runs every 5 s; with --apply the actuator applies and reports.
for i in $(seq 300); do $U http://gcpilot/api/v1/processes/$p | grep -q '"actuator":{[^}]*"revision":[1-9]' && break; sleep 0.1; done
$U http://gcpilot/api/v1/processes/$p >process1.json
$U -H 'Authorization: Bearer e2e-token-unix' "http://gcpilot/api/v1/control?pid=$p" >control_unix.json
# Long pauses: the breaker opens, the service hears it through the socket.
touch stw
color=none
for i in $(seq 200); do
  color=$(curl -s -m 2 -D - -o /dev/null $SVC/ | tr -d '\r' | sed -n 's/^X-Traffic-Color: //ip')
  [ "$color" = JITTER_RED ] && break; sleep 0.1
done
echo "${color:-none}" >red.txt
rm stw
# A second agent on the live socket is refused.
"$BIN" serve --listen 127.0.0.1:0 --unix-socket "$S" --pid $p >second.out 2>&1; echo $? >second.rc
kill -TERM $s; wait $s; echo $? >serve.rc
[ -e "$S" ] && echo present >after_term.txt || echo absent >after_term.txt
# SIGKILL leaves the file; the next agent replaces it; the actuator finds it.
"$BIN" serve --listen 127.0.0.1:$port --config agent.toml --token-file token --pid $p 2>serve2.err & s=$!
ready || echo "second agent not ready" >>problems.txt
kill -KILL $s; wait $s 2>/dev/null
[ -S "$S" ] && echo present >after_kill.txt || echo absent >after_kill.txt
"$BIN" serve --listen 127.0.0.1:$port --config agent.toml --token-file token --pid $p 2>serve3.err & s=$!
ready || echo "third agent not ready over the stale socket" >>problems.txt
seen || echo "the actuator did not find the restarted agent" >>problems.txt
$U http://gcpilot/api/v1/processes/$p >process3.json
kill -TERM $s; wait $s; echo $? >serve3.rc
kill $w; wait $w 2>/dev/null
kill -TERM $p; wait $p
true
)SH";

TEST(UnixSocketEbpfTest, SameRoutesOnTheSocketAndTheActuatorFindsTheAgentThere) {
  GCPILOT_EBPF_REQUIRE_ROOT();
  std::string d = TempDir("unixsock");
  CommandResult r = RunBashUnderEbpfLock(
      d, kScript,
      "PROG=" + Quote(TestProg(GoVersions().back(), "breakersvc")) + " BIN=" + Quote(GcpilotBin()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(d + "/problems.txt"), "")
      << ReadFile(d + "/serve.err") << ReadFile(d + "/serve3.err") << ReadFile(d + "/svc.err");
  const int pid = std::stoi(ReadFile(d + "/pid"));

  // The stale file was replaced by a socket with the configured mode.
  EXPECT_EQ(ReadFile(d + "/sock_stat.txt"), "600 socket\n");
  // The same routes: status over both, the control API with its token.
  json su = ReadJson(d + "/status_unix.json"), st = ReadJson(d + "/status_tcp.json");
  EXPECT_EQ(su["version"], st["version"]);
  EXPECT_EQ(su["unix_socket"], d + "/agent.sock");
  EXPECT_EQ(ReadFile(d + "/wrong.code"), "401");
  json control = ReadJson(d + "/control_unix.json");
  EXPECT_EQ(control["pid"], pid) << control.dump();
  EXPECT_TRUE(control["breaker"].is_object());
  EXPECT_TRUE(control["gc"]["apply"].get<bool>()) << control.dump();

  // The actuator polled and reported through the socket, and applied the
  // tuner's GOGC (serve --apply).
  json p1 = ReadJson(d + "/process1.json");
  ASSERT_TRUE(p1["actuator"].is_object()) << p1.dump();
  ASSERT_TRUE(p1["tuner"]["recommendation"].is_object()) << p1.dump();
  EXPECT_GE(p1["actuator"]["revision"].get<int>(), 1) << p1["actuator"].dump();
  EXPECT_EQ(p1["actuator"]["gogc"], p1["tuner"]["recommendation"]["gogc"]) << p1.dump();

  // The breaker reached the service through the socket.
  EXPECT_EQ(ReadFile(d + "/red.txt"), "JITTER_RED\n") << ReadFile(d + "/svc.err");
  // A second agent on a live socket: refused, saying why.
  EXPECT_EQ(ReadFile(d + "/second.rc"), "1\n");
  EXPECT_NE(ReadFile(d + "/second.out").find("another process is listening"), std::string::npos)
      << ReadFile(d + "/second.out");
  // SIGTERM removes the file; SIGKILL leaves it; the next agent replaces it.
  EXPECT_EQ(ReadFile(d + "/serve.rc"), "0\n");
  EXPECT_EQ(ReadFile(d + "/after_term.txt"), "absent\n");
  EXPECT_EQ(ReadFile(d + "/after_kill.txt"), "present\n");
  json p3 = ReadJson(d + "/process3.json");
  EXPECT_TRUE(p3["actuator"].is_object()) << p3.dump();
  EXPECT_EQ(ReadFile(d + "/serve3.rc"), "0\n");
}

}  // namespace
}  // namespace gcpilot::e2e
