// Helpers for end-to-end tests: run a shell command with its output in
// files, read files, parse JSON lines, locate the built test programs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gcpilot::e2e {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed, as a shell reports.
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `command` with /bin/sh; stdout and stderr are captured.
CommandResult Sh(const std::string& command);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
std::vector<nlohmann::json> JsonLines(const std::string& text);
// The report lines of `ingest`/`report --json` (cycles, then the summary),
// without the detectors' `finding` / `detectors` lines that follow them.
std::vector<nlohmann::json> ReportJsonLines(const std::string& text);
nlohmann::json ReadJson(const std::string& path);

// A fresh temporary directory for one test (removed by the OS tmp cleaner;
// kept on failure for inspection).
std::string TempDir(const std::string& name);

std::string GcpilotBin();
// Path of a test program built with the given Go version ("1.22").
std::string TestProg(const std::string& go_version, const std::string& name, bool stripped = false);
// Go versions whose test programs were built.
std::vector<std::string> GoVersions();
// Every minor of the version matrix (scripts/go_toolchains.sh builds them
// all; a missing one fails its tests rather than being skipped).
std::vector<std::string> AllGoMinors();
// Precision of one printed gctrace time (it truncates after its last digit;
// the same rule as gcpilot's GctraceQuantumNs).
int64_t GctraceQuantumNs(int64_t printed_ns);
// Single-quoted for /bin/sh.
std::string Quote(const std::string& s);

// Shell snippet: waits (15 s at most) until the agent's stderr, $D/serve.err,
// says which port it listens on and sets $port to it (empty when it never
// does).
std::string ReadServePortSh();
// Shell snippet: starts `gcpilot serve --listen 127.0.0.1:0 <args>` in the
// background ($s its pid, stderr in $D/serve.err) and sets $port as
// ReadServePortSh does.
std::string StartServeSh(const std::string& args);

}  // namespace gcpilot::e2e
