// Effective-capability check and capability names (see the header).
#include "sources/proc/capabilities.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace gcpilot::proc {
namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// Indexed by capability number, from <linux/capability.h>.
constexpr std::string_view kNames[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

uint64_t EffectiveCapabilities() {
  std::ifstream status("/proc/self/status");
  std::stringstream text;
  text << status.rdbuf();
  return CapabilitiesFromStatus(text.str(), "CapEff").value_or(0);
}

}  // namespace

std::optional<uint64_t> CapabilitiesFromStatus(std::string_view status_text,
                                               std::string_view field) {
  size_t at = 0;
  while (at < status_text.size()) {
    size_t end = status_text.find('\n', at);
    if (end == std::string_view::npos) end = status_text.size();
    std::string_view line = status_text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(field) || line.substr(field.size()).rfind(':', 0) != 0) continue;
    line.remove_prefix(field.size() + 1);
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    if (line.empty() || line.size() > 16) return std::nullopt;
    uint64_t value = 0;
    for (char c : line) {
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return std::nullopt;
      value = value << 4 | static_cast<uint64_t>(digit);
    }
    return value;
  }
  return std::nullopt;
}

std::string CapabilityNames(uint64_t mask) {
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if (((mask >> bit) & 1) == 0) continue;
    if (!out.empty()) out += ", ";
    out += bit < static_cast<int>(std::size(kNames)) ? std::string(kNames[bit])
                                                     : "cap" + std::to_string(bit);
  }
  return out;
}

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
