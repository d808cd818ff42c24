// Helpers shared by the eBPF end-to-end tests (tests named *Ebpf*): the
// root/CI policy, the lock every eBPF test holds, `gcpilot watch --json`
// run in the background around a target program, and reading what it
// printed (JSON lines, the stderr summary, the BPF objects it held).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {

// Every eBPF test runs its probing part under this lock, so the check that no
// program is left loaded never sees another test's live probe.
inline constexpr char kEbpfLock[] = "/tmp/gcpilot-ebpf-tests.lock";

bool InCi();

// For SetUp(): eBPF tests need root; without it they fail under CI=true and
// are skipped elsewhere.
#define GCPILOT_EBPF_REQUIRE_ROOT()                                       \
  do {                                                                    \
    if (::geteuid() != 0) {                                               \
      if (::gcpilot::e2e::InCi()) FAIL() << "eBPF tests need root in CI"; \
      GTEST_SKIP() << "eBPF tests need root";                             \
    }                                                                     \
  } while (0)

// Test-name suffix for a Go-version parameter: "1.22" -> "go1_22".
std::string GoVersionName(const testing::TestParamInfo<std::string>& info);

// `script` run by /bin/sh under kEbpfLock.
std::string UnderEbpfLock(const std::string& script);

// Under kEbpfLock: writes the bash `script` to <dir>/run.sh and runs it with
// D=<dir> and `env` ("NAME=value ...", values quoted) in its environment. The
// script may call free_port, which prints a TCP port free on 127.0.0.1 (for
// an agent whose address its clients must know before it starts).
CommandResult RunBashUnderEbpfLock(const std::string& dir, const std::string& script,
                                   const std::string& env);

// Shell snippet: waits up to timeout_s until `file` has a process_seen line
// for the pid in shell expression `pid` (e.g. "$p"); then appends "seen" or
// "timeout" to `result_file`.
std::string WaitForSeenSh(const std::string& file, const std::string& pid, double timeout_s,
                          const std::string& result_file);

// Shell snippet: writes the "prog_id:" and "link_id:" lines of every fd that
// process `pid` holds (its BPF programs and links) to `file`.
std::string SnapshotBpfIdsSh(const std::string& pid, const std::string& file);

// What one `gcpilot watch --json` run printed.
struct WatchOutput {
  std::vector<nlohmann::json> lines;   // every stdout line that is a JSON object
  std::vector<std::string> bad_lines;  // stdout lines that are not
  std::string err;                     // stderr
  // From the stderr summary "N GC cycles, M non-GC stops, K events dropped";
  // -1 when it is missing.
  int64_t cycles = -1;
  int64_t stops = -1;
  int64_t dropped = -1;

  // Lines with this "type" (and this "pid", unless pid < 0).
  std::vector<nlohmann::json> OfType(const std::string& type, int64_t pid = -1) const;
  // Pids that have at least one line of this type.
  std::set<int64_t> Pids(const std::string& type) const;
};
WatchOutput ReadWatch(const std::string& out_path, const std::string& err_path);

// Non-GC stops ("stw_pause" lines of kind "other") of one process.
std::vector<nlohmann::json> NonGcStops(const WatchOutput& w, int64_t pid);

// BPF programs or links from `ids_file` (see SnapshotBpfIdsSh) that are still
// loaded, one description per leftover; also uprobe_events entries that name
// `needle` or gcpilot when tracefs is mounted. Empty when nothing is left.
// Freeing is deferred in the kernel, so it looks again for up to 10 s.
std::vector<std::string> LeftoverBpf(const std::string& ids_file, const std::string& needle);

// Number of ids (prog_id and link_id lines) in `ids_file`.
size_t CountBpfIds(const std::string& ids_file);

// A target run under `gcpilot watch`: see RunWatched.
struct WatchedRun {
  int target_exit = -1;
  int watch_exit = -1;
  bool seen = false;  // the watcher announced the target before the gate opened
  std::string dir;    // target's files: go (the gate), truth.json, w.jsonl, w.err,
                      // t.out, t.err, ids.txt
  WatchOutput watch;
};

// Under kEbpfLock: starts `target` in the background (a shell command; it may
// use $D, the run's directory, e.g. "-start-file $D/go -truth $D/truth.json"),
// then `gcpilot watch <watch_args> --json` (watch_args may use $p, the
// target's pid), waits until the watcher has announced $p (process_seen, up
// to 15 s), lets it settle, records its BPF ids, opens the gate ($D/go),
// waits for the target, gives the watcher a moment to drain, stops it with
// SIGINT and reads everything.
WatchedRun RunWatched(const std::string& name, const std::string& target,
                      const std::string& watch_args);

}  // namespace gcpilot::e2e
