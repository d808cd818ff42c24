// `gcpilot watch`: live view of Go processes through the eBPF source: every
// Go process on the host (default, new ones as they exec), given pids, or
// every process of given executables. A table refreshed every interval, or
// JSON lines (events + per-process rows). Ends on SIGINT/SIGTERM, after
// --duration, or (with only --pid) when every traced process has exited.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gcpilot::cli {

struct WatchOptions {
  std::vector<pid_t> pids;
  std::vector<std::string> exes;
  bool json = false;
  double duration_s = 0;  // 0: until a signal (or the --pid processes end).
  double interval_s = 1;
};

int WatchCommand(const WatchOptions& options);

}  // namespace gcpilot::cli
