// /proc readers (see the header).
#include "sources/proc/procfs.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sources/proc/capabilities.h"

namespace gcpilot::proc {
namespace {

bool ReadWhole(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// The number of pids in the "NSpid:" line of a status text (one per PID
// namespace level), 0 when absent.
size_t PidNamespaceDepth(const std::string& status) {
  const size_t at = status.find("\nNSpid:");
  if (at == std::string::npos) return 0;
  std::istringstream fields(status.substr(at + 7, status.find('\n', at + 1) - at - 7));
  size_t depth = 0;
  std::string pid;
  while (fields >> pid) ++depth;
  return depth;
}

std::string ErrnoName(int err) {
  if (err == EACCES) return "EACCES";
  if (err == EPERM) return "EPERM";
  return "errno " + std::to_string(err);
}

}  // namespace

std::vector<pid_t> ListPids(const std::string& proc_root) {
  std::vector<pid_t> pids;
  DIR* dir = opendir(proc_root.c_str());
  if (!dir) return pids;
  while (dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!*name || !std::all_of(name, name + std::char_traits<char>::length(name),
                               [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    long v = std::strtol(name, nullptr, 10);
    if (v > 0 && v < (1L << 30)) pids.push_back(static_cast<pid_t>(v));
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::string ContainerIdFromCgroup(const std::string& text) {
  std::string best;
  for (size_t i = 0; i + 64 <= text.size(); ++i) {
    if (!IsHex(text[i]) || (i > 0 && IsHex(text[i - 1]))) continue;
    size_t j = i;
    while (j < text.size() && IsHex(text[j])) ++j;
    if (j - i == 64) best = text.substr(i, 64);
    i = j;
  }
  return best;
}

uint64_t ReadStartTime(pid_t pid, const std::string& proc_root) {
  std::ifstream f(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return 0;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // count fields from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

StatusOr<ProcessIdentity> ReadIdentity(pid_t pid, const std::string& proc_root) {
  ProcessIdentity id;
  id.pid = pid;
  const std::string base = proc_root + "/" + std::to_string(pid);
  if (!ReadWhole(base + "/comm", id.comm)) {
    return Status::NotFound("process " + std::to_string(pid) + " is gone");
  }
  while (!id.comm.empty() && id.comm.back() == '\n') id.comm.pop_back();
  char buf[4096];
  ssize_t n = readlink((base + "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) {
      return Status::PermissionDenied(
          "cannot read /proc/" + std::to_string(pid) + "/exe (" + id.comm +
          "): " + ExplainDeniedExe(err, ReadAccessFacts(pid, proc_root)));
    }
    return Status::NotFound("process " + std::to_string(pid) + " has no executable");
  }
  id.exe_path.assign(buf, static_cast<size_t>(n));
  const std::string deleted = " (deleted)";
  if (id.exe_path.size() > deleted.size() &&
      id.exe_path.compare(id.exe_path.size() - deleted.size(), deleted.size(), deleted) == 0) {
    id.exe_deleted = true;
  }
  id.exe_open = base + "/exe";
  std::string cgroup;
  if (ReadWhole(base + "/cgroup", cgroup)) id.container = ContainerIdFromCgroup(cgroup);
  return id;
}

AccessFacts ReadAccessFacts(pid_t pid, const std::string& proc_root) {
  AccessFacts facts;
  std::string self_status, target_status;
  const std::string target = proc_root + "/" + std::to_string(pid);
  if (ReadWhole(proc_root + "/self/status", self_status)) {
    facts.caller_effective = CapabilitiesFromStatus(self_status, "CapEff");
    facts.caller_pid_ns_depth = PidNamespaceDepth(self_status);
  }
  if (ReadWhole(target + "/status", target_status)) {
    facts.target_permitted = CapabilitiesFromStatus(target_status, "CapPrm");
    facts.target_pid_ns_depth = PidNamespaceDepth(target_status);
  }
  ReadWhole(proc_root + "/self/uid_map", facts.caller_uid_map);
  ReadWhole(target + "/uid_map", facts.target_uid_map);
  return facts;
}

std::string ExplainDeniedExe(int err, const AccessFacts& facts) {
  const std::string what = std::string(std::strerror(err)) + " (" + ErrnoName(err) + ")";
  const uint64_t ptrace = uint64_t{1} << kCapSysPtrace;
  if (facts.caller_effective && (*facts.caller_effective & ptrace) == 0) {
    return what + ": gcpilot lacks CAP_SYS_PTRACE (run as root or grant it)";
  }
  std::string seen;
  auto add = [&](const std::string& s) { seen += (seen.empty() ? "" : ", ") + s; };
  if (!facts.caller_uid_map.empty() && !facts.target_uid_map.empty() &&
      facts.caller_uid_map != facts.target_uid_map) {
    add("it is in another user namespace");
  }
  if (facts.caller_pid_ns_depth != 0 && facts.target_pid_ns_depth != 0 &&
      facts.caller_pid_ns_depth != facts.target_pid_ns_depth) {
    add("it is in another PID namespace");
  }
  if (facts.caller_effective && facts.target_permitted &&
      (*facts.target_permitted & ~*facts.caller_effective) != 0) {
    add("it holds capabilities gcpilot lacks (" +
        CapabilityNames(*facts.target_permitted & ~*facts.caller_effective) + ")");
  }
  return what + ": the kernel refused although gcpilot has CAP_SYS_PTRACE" +
         (seen.empty() ? "" : "; " + seen) +
         "; a sandbox or security policy protects the process (running as root does not help)";
}

}  // namespace gcpilot::proc
