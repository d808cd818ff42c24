// The Linux capabilities gcpilot's eBPF source needs, and which of them this
// process lacks (from /proc/self/status CapEff), for errors that say what to
// grant instead of a bare EPERM; capability sets of /proc/PID/status and
// their names.
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gcpilot::proc {

// Numbers from <linux/capability.h>.
inline constexpr int kCapSysPtrace = 19;

// "" when the process has CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (or is
// root with a full set); else e.g. "CAP_BPF, CAP_PERFMON".
std::string MissingEbpfCapabilities();

// The capability set `field` ("CapEff", "CapPrm", ...) of a /proc/PID/status
// text, or nullopt when the line is absent or malformed.
std::optional<uint64_t> CapabilitiesFromStatus(std::string_view status_text,
                                               std::string_view field);

// The names of the capabilities in `mask`, lowest bit first:
// "CAP_SYS_PTRACE, CAP_SYS_RESOURCE" ("cap40" for a number without a name).
std::string CapabilityNames(uint64_t mask);

}  // namespace gcpilot::proc
