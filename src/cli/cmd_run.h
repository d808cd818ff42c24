// `gcpilot run [--] PROGRAM ARGS...`: runs a Go program with its GC trace
// switched on, passes its output through, prints a live summary every second
// and a report at the end, and exits with the program's exit code.
#pragma once

#include <string>
#include <vector>

#include "cli/session.h"

namespace gcpilot::cli {

struct RunOptions {
  std::vector<std::string> argv;
  bool keep_trace = false;  // Also pass the consumed trace lines through.
  double interval_s = 1.0;  // Live summary period; 0 disables it.
  std::string report_path;  // Where the final report goes ("" = stderr).
  SessionOptions session;
};

int RunCommand(const RunOptions& options);

}  // namespace gcpilot::cli
