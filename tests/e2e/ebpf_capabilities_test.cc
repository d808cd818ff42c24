// Privileges of `gcpilot watch`: run as the unprivileged user nobody through
// capsh (ambient capabilities), watching Go programs run by root:
//   - with exactly CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE, `watch --pid`
//     reports the target's GC cycles and non-GC stops, and `watch` (every Go
//     process) finds a target started after it;
//   - with no capability it exits non-zero and stderr names what is missing;
//   - with any one of the three missing it exits non-zero and stderr names
//     that one;
//   - a target binary that nobody may not read (mode 0700, root's) needs
//     CAP_DAC_READ_SEARCH as well: with the three it fails naming
//     CAP_DAC_READ_SEARCH, with the four it works. (Measured on kernel 6.18:
//     reading /proc/PID/exe of another user's process needs CAP_SYS_PTRACE,
//     and then the file's own permissions apply; a uprobe_multi link needs
//     only CAP_BPF + CAP_PERFMON plus a path it can look up, while a
//     perf-event uprobe needs CAP_SYS_ADMIN.)
// Each run checks first that capsh gave the shell exactly the intended
// effective set (so a broken capsh cannot pass for a gcpilot result).
// Needs root (to hand out capabilities): fails under CI=true without it,
// skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/ebpf_test_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

constexpr char kCapsh[] = "/usr/sbin/capsh";
const char* const kNeeded[] = {"cap_bpf", "cap_perfmon", "cap_sys_ptrace"};

class EbpfCapabilitiesTest : public testing::Test {
 protected:
  void SetUp() override {
    GCPILOT_EBPF_REQUIRE_ROOT();
    if (Sh(std::string("test -x ") + kCapsh).exit_code != 0) {
      if (InCi()) FAIL() << kCapsh << " is missing (package libcap2-bin)";
      GTEST_SKIP() << kCapsh << " is missing";
    }
  }
};

std::string Join(const std::vector<std::string>& caps) {
  std::string out;
  for (const std::string& c : caps) out += (out.empty() ? "" : ",") + c;
  return out;
}

// `cmd` run by a shell as nobody with exactly `caps` (lower-case names)
// effective, permitted and ambient. The shell first writes its decoded
// effective set to fd 3. `cmd` is expanded by that shell: variables it uses
// must be exported.
std::string AsNobody(const std::vector<std::string>& caps, const std::string& cmd) {
  std::string show = "capsh --decode=$(grep CapEff /proc/self/status | cut -f2) >&3; exec " + cmd;
  if (caps.empty()) {
    return std::string(kCapsh) + " --user=nobody -- -c " + Quote(show);
  }
  std::string set = Join(caps);
  return std::string(kCapsh) +
         " --caps=" + Quote(set + "+eip cap_setuid,cap_setgid,cap_setpcap+ep") +
         " --keep=1 --user=nobody --addamb=" + set + " -- -c " + Quote(show);
}

// The decoded set capsh printed, e.g. "cap_sys_ptrace,cap_perfmon,cap_bpf"
// sorted, or "" for none.
std::string EffectiveCaps(const std::string& caps_file) {
  std::string s = ReadFile(caps_file);
  size_t eq = s.find('=');
  if (eq == std::string::npos) return "?";
  s = s.substr(eq + 1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::vector<std::string> caps;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    caps.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  std::sort(caps.begin(), caps.end());
  return Join(caps);
}

std::string Sorted(std::vector<std::string> caps) {
  std::sort(caps.begin(), caps.end());
  return Join(caps);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct NobodyRun {
  std::string dir;
  int exit_code = -1;
  WatchOutput watch;
  int64_t target_pid = -1;
};

// Under the eBPF lock: a root-run `stwreasons` (or `target_prog`, a copy of
// it) and, as nobody with `caps`, `gcpilot watch <args> --json --duration 2`
// (args may use $p, the target's pid). With start_target_first false the
// watcher starts 0.5 s before the target.
NobodyRun RunAsNobody(const std::string& name, const std::vector<std::string>& caps,
                      const std::string& args, bool start_target_first = true,
                      const std::string& target_prog = "") {
  NobodyRun run;
  run.dir = TempDir(name);
  std::string prog =
      target_prog.empty() ? TestProg(GoVersions().back(), "stwreasons") : target_prog;
  std::string target = prog + " -duration 4s -stdout-every 0 -memstats-every 50ms >/dev/null 2>&1";
  std::string watch =
      AsNobody(caps, GcpilotBin() + " watch " + args + " --json --duration 2") + " 3>$D/caps";
  std::string script = "D=" + Quote(run.dir) + "; ";
  if (start_target_first) {
    script += target + " & p=$!; export p; sleep 0.5; " + watch + " >$D/w.jsonl 2>$D/w.err; ";
  } else {
    script += "(" + watch + " >$D/w.jsonl 2>$D/w.err; echo $? >$D/rc0) & w=$!; sleep 0.5; " +
              target + " & p=$!; wait $w; (exit $(cat $D/rc0)); ";
  }
  script += "rc=$?; echo $p >$D/pid; kill $p 2>/dev/null; wait $p; echo $rc >$D/rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  run.exit_code = std::stoi(ReadFile(run.dir + "/rc"));
  run.target_pid = std::stoll(ReadFile(run.dir + "/pid"));
  run.watch = ReadWatch(run.dir + "/w.jsonl", run.dir + "/w.err");
  EXPECT_EQ(EffectiveCaps(run.dir + "/caps"), Sorted(caps)) << "capsh did not set the caps";
  return run;
}

const std::vector<std::string> kThree(std::begin(kNeeded), std::end(kNeeded));

TEST_F(EbpfCapabilitiesTest, ExactlyThreeCapabilitiesAreEnoughForPid) {
  NobodyRun run = RunAsNobody("caps-pid", kThree, "--pid $p");
  EXPECT_EQ(run.exit_code, 0) << run.watch.err;
  EXPECT_FALSE(run.watch.OfType("process_seen", run.target_pid).empty()) << run.watch.err;
  EXPECT_FALSE(run.watch.OfType("gc_cycle", run.target_pid).empty()) << run.watch.err;
  EXPECT_FALSE(NonGcStops(run.watch, run.target_pid).empty()) << run.watch.err;
}

TEST_F(EbpfCapabilitiesTest, ExactlyThreeCapabilitiesAreEnoughForAllProcesses) {
  NobodyRun run = RunAsNobody("caps-all", kThree, "", /*start_target_first=*/false);
  EXPECT_EQ(run.exit_code, 0) << run.watch.err;
  EXPECT_FALSE(run.watch.OfType("process_seen", run.target_pid).empty()) << run.watch.err;
  EXPECT_FALSE(run.watch.OfType("gc_cycle", run.target_pid).empty()) << run.watch.err;
}

TEST_F(EbpfCapabilitiesTest, NoCapabilitiesFailsNamingThem) {
  NobodyRun run = RunAsNobody("caps-none", {}, "--pid $p");
  EXPECT_NE(run.exit_code, 0) << run.watch.err;
  std::string err = Upper(run.watch.err);
  EXPECT_TRUE(err.find("CAP_BPF") != std::string::npos ||
              err.find("CAP_PERFMON") != std::string::npos ||
              err.find("CAP_SYS_PTRACE") != std::string::npos)
      << run.watch.err;
}

TEST_F(EbpfCapabilitiesTest, EachMissingCapabilityIsNamed) {
  for (const std::string& missing : kThree) {
    SCOPED_TRACE("without " + missing);
    std::vector<std::string> caps;
    for (const std::string& c : kThree) {
      if (c != missing) caps.push_back(c);
    }
    NobodyRun run = RunAsNobody("caps-no-" + missing, caps, "--pid $p");
    EXPECT_NE(run.exit_code, 0) << run.watch.err;
    EXPECT_NE(Upper(run.watch.err).find(Upper(missing)), std::string::npos) << run.watch.err;
  }
}

TEST_F(EbpfCapabilitiesTest, UnreadableBinaryNeedsDacReadSearch) {
  // A root-only copy of the target: directory and file mode 0700.
  std::string dir = TempDir("caps-private");
  std::string prog = dir + "/stwreasons";
  ASSERT_EQ(Sh("cp " + Quote(TestProg(GoVersions().back(), "stwreasons")) + " " + Quote(prog) +
               " && chmod 700 " + Quote(dir) + " " + Quote(prog))
                .exit_code,
            0);
  NobodyRun three = RunAsNobody("caps-private-3", kThree, "--pid $p", true, prog);
  EXPECT_NE(three.exit_code, 0) << three.watch.err;
  EXPECT_NE(Upper(three.watch.err).find("CAP_DAC_READ_SEARCH"), std::string::npos)
      << three.watch.err;

  std::vector<std::string> four = kThree;
  four.push_back("cap_dac_read_search");
  NobodyRun run = RunAsNobody("caps-private-4", four, "--pid $p", true, prog);
  EXPECT_EQ(run.exit_code, 0) << run.watch.err;
  EXPECT_FALSE(run.watch.OfType("gc_cycle", run.target_pid).empty()) << run.watch.err;
}

}  // namespace
}  // namespace gcpilot::e2e
