// Reads what the tuner needs from the system: a process's memory cgroup
// (v2 memory.max, or v1 memory.limit_in_bytes, the effective limit being the
// smallest over the cgroup and its ancestors; usage, peak, PSI, OOM kills)
// and the node's memory (/proc/meminfo, /proc/pressure/memory). Roots are
// parameters so tests use a fake tree.
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tune/tune_input.h"

namespace gcpilot::tune {

struct SystemRoots {
  std::string proc = "/proc";
  std::string cgroup = "/sys/fs/cgroup";
};

// The memory cgroup of `pid`. NotFound when the process is gone (no
// /proc/PID/cgroup); Unavailable when it names no memory cgroup or the
// cgroup's files cannot be read.
StatusOr<CgroupMemory> ReadCgroupMemory(pid_t pid, const SystemRoots& roots = {});

// MemTotal/MemAvailable and PSI (when the kernel has it) of the node.
// Unavailable when /proc/meminfo cannot be read.
StatusOr<NodeMemory> ReadNodeMemory(const SystemRoots& roots = {});

// Fills in.cgroup / in.cgroup_error and in.node / in.node_error for `pid`.
void FillMemoryInputs(pid_t pid, TuneInput* in, const SystemRoots& roots = {});

// "some avg10=1.23 avg60=..." -> 1.23; nullopt when there is no "some" line.
std::optional<double> ParsePsiSomeAvg10(std::string_view text);

// The cgroup paths of a /proc/PID/cgroup text: the v1 memory controller's
// (empty if none) and the v2 unified one ("0::PATH"; empty if none).
struct CgroupPaths {
  std::string v1_memory;
  std::string v2;
  bool has_v1_memory = false;
  bool has_v2 = false;
};
CgroupPaths ParseProcCgroup(std::string_view text);

}  // namespace gcpilot::tune
