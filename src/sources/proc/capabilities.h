// The Linux capabilities gcpilot's eBPF source needs, and which of them this
// process lacks (from /proc/self/status CapEff), for errors that say what to
// grant instead of a bare EPERM.
// Thread-safety: stateless functions.
#pragma once

#include <string>

namespace gcpilot::proc {

// "" when the process has CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (or is
// root with a full set); else e.g. "CAP_BPF, CAP_PERFMON".
std::string MissingEbpfCapabilities();

}  // namespace gcpilot::proc
