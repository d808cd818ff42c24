// `gcpilot tune --pid N`: a dry run of the tuner for one process. Watches it
// with the eBPF source (as `gcpilot watch` does) for --watch-seconds, reads
// its GC settings, its memory cgroup and the node's memory pressure, and
// prints the recommended GOGC / GOMEMLIMIT of the chosen policy (or of
// every policy: --policy all) with the reasoning and the expected effect.
// Changes nothing. Exit code 0 when a recommendation was printed; 1 when the
// process is not Go, vanished, cannot be traced (privileges) or the policy
// lacks an input (the message says which); 2 for bad arguments.
#pragma once

#include <sys/types.h>

#include <string>

namespace gcpilot::cli {

struct TuneOptions {
  pid_t pid = 0;
  std::string policy = "pause-deviation";  // Or "all".
  bool json = false;
  double watch_seconds = 15;
};

int TuneCommand(const TuneOptions& options);

}  // namespace gcpilot::cli
