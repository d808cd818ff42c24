// `gcpilot ps` against real Go processes of every installed Go version,
// plain and stripped: version and package from .go.buildinfo (no cgo, no
// PIE), and GOGC / GOMEMLIMIT / GOMAXPROCS read from process memory equal
// what the processes were started with, stripped binaries included; the
// goroutine count read from process memory equals runtime.NumGoroutine() of
// an idle program.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

TEST(Ps, ListsGoProcessesWithTheirRuntimeSettings) {
  std::vector<std::string> versions = GoVersions();
  ASSERT_FALSE(versions.empty()) << "no Go test programs built";
  std::string start;
  for (const std::string& v : versions) {
    for (bool stripped : {false, true}) {
      start += "GOGC=77 GOMEMLIMIT=300MiB GOMAXPROCS=1 " + TestProg(v, "idle", stripped) +
               " -duration 20s -stdout-every 0 & echo $! >> pids; ";
    }
  }
  std::string dir = TempDir("ps");
  CommandResult r =
      Sh("cd " + dir + "; " + start + "sleep 1; " + GcpilotBin() + " ps --json; kill $(cat pids)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<int, json> by_pid;
  for (const json& j : JsonLines(r.out)) by_pid[j["pid"].get<int>()] = j;
  std::vector<std::string> pids;
  {
    std::string text = ReadFile(dir + "/pids");
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      pids.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  ASSERT_EQ(pids.size(), versions.size() * 2);
  size_t i = 0;
  for (const std::string& v : versions) {
    for (bool stripped : {false, true}) {
      int pid = std::stoi(pids[i++]);
      ASSERT_TRUE(by_pid.count(pid)) << "pid " << pid << " (go" << v << ") not listed\n" << r.out;
      const json& j = by_pid[pid];
      EXPECT_EQ(j["go_version"].get<std::string>().rfind("go" + v + ".", 0), 0u) << j.dump();
      EXPECT_EQ(j["package"], "gcpilot.dev/testprogs/idle");
      EXPECT_EQ(j["stripped"], stripped);
      EXPECT_EQ(j["version_source"], "buildinfo");
      EXPECT_EQ(j["build_info"], true);
      EXPECT_EQ(j["cgo"], false);  // Built with CGO_ENABLED=0.
      EXPECT_EQ(j["pie"], false);
      // Stripped binaries too: the runtime layout comes from the runtime's
      // code and the per-Go-version table (golang/runtime_layout.h).
      EXPECT_EQ(j["gogc"], 77) << j.dump();
      EXPECT_EQ(j["memory_limit_bytes"], int64_t{300} << 20) << j.dump();
      EXPECT_EQ(j["gomaxprocs"], 1) << j.dump();
      EXPECT_TRUE(j["goroutines"].is_number_integer()) << j.dump();
      EXPECT_FALSE(j.contains("gauges_unavailable")) << j.dump();
    }
  }
}

// Each idle program parks 30 goroutines after running and ending 120 (so
// that dead goroutines sit in the per-P and global free lists the count
// subtracts), then prints its steady runtime.NumGoroutine(); with
// GOMAXPROCS=2 the sum runs over two Ps.
TEST(Ps, GoroutineCountEqualsNumGoroutine) {
  std::vector<std::string> versions = GoVersions();
  ASSERT_FALSE(versions.empty()) << "no Go test programs built";
  std::string start;
  int n = 0;
  for (const std::string& v : versions) {
    for (bool stripped : {false, true}) {
      start += "GOMAXPROCS=2 " + TestProg(v, "idle", stripped) +
               " -duration 30s -stdout-every 0 -goroutines 30 > out." + std::to_string(n++) +
               " & echo $! >> pids; ";
    }
  }
  std::string dir = TempDir("ps-goroutines");
  // Wait (up to 20 s) until every program has printed its steady count.
  const std::string wait =
      "for i in $(seq 200); do ready=0; for f in out.*; do grep -q goroutines= $f && "
      "ready=$((ready+1)); done; [ $ready -eq " +
      std::to_string(n) + " ] && break; sleep 0.1; done; ";
  CommandResult r =
      Sh("cd " + dir + "; " + start + wait + GcpilotBin() + " ps --json; kill $(cat pids)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<int, json> by_pid;
  for (const json& j : JsonLines(r.out)) by_pid[j["pid"].get<int>()] = j;
  std::vector<std::string> pids;
  {
    std::string text = ReadFile(dir + "/pids");
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      pids.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  ASSERT_EQ(pids.size(), static_cast<size_t>(n));
  int i = 0;
  for (const std::string& v : versions) {
    for (bool stripped : {false, true}) {
      SCOPED_TRACE("go" + v + (stripped ? " stripped" : " plain"));
      const int pid = std::stoi(pids[i]);
      const std::string out = ReadFile(dir + "/out." + std::to_string(i++));
      const size_t at = out.find("goroutines=");
      ASSERT_NE(at, std::string::npos) << "no count printed: " << out;
      const int want = std::stoi(out.substr(at + 11));
      EXPECT_GE(want, 31);  // main + the 30 parked.
      ASSERT_TRUE(by_pid.count(pid)) << "pid " << pid << " not listed\n" << r.out;
      const json& j = by_pid[pid];
      EXPECT_EQ(j["stripped"], stripped);
      EXPECT_EQ(j["goroutines"], want) << j.dump();
      EXPECT_FALSE(j.contains("gauges_unavailable")) << j.dump();
    }
  }
}

}  // namespace
}  // namespace gcpilot::e2e
