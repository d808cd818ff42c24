// `gcpilot watch --pid N...`: traces Go processes with the eBPF GC-cycle
// probe and prints, per completed GC cycle, the runtime's own cycle number
// and pause (JSON lines). A first slice of the eBPF source: it does not yet
// assemble full cycles (phases, heap, CPU) nor discover processes itself.
#pragma once

#include <sys/types.h>

#include <vector>

namespace gcpilot::cli {

struct WatchOptions {
  std::vector<pid_t> pids;
  double duration_s = 0;  // 0: until the processes exit or a signal.
};

int WatchCommand(const WatchOptions& options);

}  // namespace gcpilot::cli
