// Effective-capability check (see the header).
#include "sources/proc/capabilities.h"

#include <cstdint>
#include <fstream>
#include <string>

namespace gcpilot::proc {
namespace {

// Numbers from <linux/capability.h>.
constexpr int kCapSysPtrace = 19;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

uint64_t EffectiveCapabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

}  // namespace

std::string MissingEbpfCapabilities() {
  const uint64_t eff = EffectiveCapabilities();
  auto has = [&](int cap) { return (eff >> cap) & 1; };
  // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON.
  std::string missing;
  auto add = [&](const char* name) {
    missing += (missing.empty() ? "" : ", ") + std::string(name);
  };
  if (!has(kCapBpf) && !has(kCapSysAdmin)) add("CAP_BPF");
  if (!has(kCapPerfmon) && !has(kCapSysAdmin)) add("CAP_PERFMON");
  if (!has(kCapSysPtrace)) add("CAP_SYS_PTRACE");
  return missing;
}

}  // namespace gcpilot::proc
