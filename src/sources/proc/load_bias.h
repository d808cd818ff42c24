// Where a process's executable was loaded: the load bias to add to the
// binary's link-time addresses (0 for the usual non-PIE Go binary).
// Thread-safety: stateless function.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "core/status.h"
#include "golang/go_binary.h"

namespace gcpilot::proc {

// For a PIE `binary`, the difference between where pid's mapping of the
// executable's file offset 0 starts and the binary's link base; found by
// matching the mapping's inode with /proc/PID/exe's, so it also works for
// a deleted or replaced binary and inside containers. 0 for non-PIE.
// Errors: NotFound when the process is gone or has no such mapping.
StatusOr<uint64_t> LoadBias(pid_t pid, const golang::GoBinary& binary);

}  // namespace gcpilot::proc
