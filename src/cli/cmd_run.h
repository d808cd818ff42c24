// `gcpilot run [--] PROGRAM ARGS...`: runs a Go program, watches its GC,
// prints a live summary every second and a report at the end, and exits
// with the program's exit code. Two sources: eBPF probes on the runtime
// (nothing about the program changes; needs root or CAP_BPF, CAP_PERFMON,
// CAP_SYS_PTRACE), or its GC trace (GODEBUG=gctrace=1, read from its
// stderr). `--source=auto` (default) takes eBPF when it can and says why
// not otherwise.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/child_process.h"
#include "cli/session.h"
#include "core/status.h"

namespace gcpilot::cli {

enum class RunSource { kAuto, kEbpf, kGctrace };

struct RunOptions {
  RunSource source = RunSource::kAuto;
  std::vector<std::string> argv;
  bool keep_trace = false;  // Also pass the consumed trace lines through.
  double interval_s = 1.0;  // Live summary period; 0 disables it.
  std::string report_path;  // Where the final report goes ("" = stderr).
  SessionOptions session;
};

int RunCommand(const RunOptions& options);

// The two halves of RunCommand: run under one source.
int RunWithGctrace(const RunOptions& options);

// "exited with code N" / "killed by signal N".
std::string DescribeExit(const ExitInfo& exit);

// Writes the final report (to options.report_path, or stderr).
void WriteRunReport(const RunOptions& options, Session& session, int64_t end_ns,
                    const std::string& how, const InputStats& stats);

}  // namespace gcpilot::cli
