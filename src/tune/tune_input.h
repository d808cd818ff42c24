// TuneInput: everything a tuner policy reads about one process at one
// instant: its recent GC window (what the eBPF source measured), its GC
// settings as the runtime has them now, its cgroup's memory limit and
// pressure, and the node's memory. Plain data, filled by the caller (the
// `tune` command, the serve agent, tests); the tuner itself never reads the
// system.
// Thread-safety: plain value types.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "analysis/window_stats.h"
#include "core/status.h"

namespace gcpilot::tune {

// GOMEMLIMIT's "no limit" value (math.MaxInt64).
inline constexpr int64_t kNoMemoryLimit = std::numeric_limits<int64_t>::max();

// The process's GC settings, as read from its memory (empty when unknown).
struct ProcessSettings {
  pid_t pid = 0;
  std::optional<int32_t> gogc;          // -1 = off.
  std::optional<int64_t> memory_limit;  // Bytes; kNoMemoryLimit = none.
  std::optional<int32_t> gomaxprocs;
};

// The memory cgroup the process is in (cgroup v2 or v1).
struct CgroupMemory {
  int version = 2;   // 1 or 2.
  std::string path;  // As /proc/PID/cgroup names it, e.g. "/kubepods/pod1/abc".
  // The effective limit: the smallest limit of the cgroup and its ancestors;
  // nullopt when none is set ("max").
  std::optional<int64_t> limit_bytes;
  std::string limit_file;                // Where the effective limit came from.
  std::optional<int64_t> usage_bytes;    // memory.current / memory.usage_in_bytes.
  std::optional<int64_t> peak_bytes;     // memory.peak / memory.max_usage_in_bytes.
  std::optional<double> psi_some_avg10;  // memory.pressure (v2 only), percent.
  std::optional<uint64_t> oom_kills;     // memory.events / memory.oom_control oom_kill.
};

// The node's memory.
struct NodeMemory {
  int64_t total_bytes = 0;               // MemTotal.
  int64_t available_bytes = 0;           // MemAvailable.
  std::optional<double> psi_some_avg10;  // /proc/pressure/memory, percent.
  // 1 - available / total.
  double used_share() const {
    return total_bytes > 0 ? 1.0 - static_cast<double>(available_bytes) / total_bytes : 0;
  }
};

struct TuneInput {
  int64_t now_ns = 0;  // Monotonic; the hysteresis clock.
  // The recent window (the 10 s view in serve, the whole watch in `tune`).
  WindowStats window;
  ProcessSettings process;
  std::optional<CgroupMemory> cgroup;  // nullopt: unknown / unreadable.
  std::string cgroup_error;            // Why cgroup is empty, if it is.
  std::optional<NodeMemory> node;
  std::string node_error;
};

// OK when every value is plausible; InvalidArgument naming the first absurd
// one otherwise (negative or NaN rates and shares, GOGC < -1, a negative or
// zero limit, PSI outside 0..100, a heap above 1 PiB, ...).
Status ValidateInput(const TuneInput& in);

}  // namespace gcpilot::tune
