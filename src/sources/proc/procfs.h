// Read-only views of /proc: the processes on the host, their command name,
// executable and container. The executable is opened through
// /proc/PID/exe, which works for processes in other mount namespaces
// (containers) without resolving their paths in ours.
//
// Every function tolerates a process vanishing mid-read: it returns NotFound
// (or an empty value) instead of failing the caller.
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace gcpilot::proc {

// Every numeric entry of `proc_root` (default "/proc"), ascending.
std::vector<pid_t> ListPids(const std::string& proc_root = "/proc");

struct ProcessIdentity {
  pid_t pid = 0;
  std::string comm;          // /proc/PID/comm, without the newline.
  std::string exe_path;      // readlink(/proc/PID/exe) as the process sees it.
  std::string exe_open;      // Path to open the executable from here: /proc/PID/exe.
  bool exe_deleted = false;  // The binary was replaced or removed since exec.
  std::string container;     // Container id from /proc/PID/cgroup, or "".
};

// Reads pid's identity. NotFound when the process is gone or is a kernel
// thread (no executable); PermissionDenied when /proc/PID/exe is unreadable,
// with the reason (ExplainDeniedExe).
StatusOr<ProcessIdentity> ReadIdentity(pid_t pid, const std::string& proc_root = "/proc");

// What can be seen of why the kernel refused gcpilot a process's
// /proc/PID/exe (a ptrace read-access check): from gcpilot's own and the
// process's /proc/PID/status and uid_map, which stay readable.
struct AccessFacts {
  std::optional<uint64_t> caller_effective;  // gcpilot's CapEff.
  std::optional<uint64_t> target_permitted;  // The process's CapPrm.
  size_t caller_pid_ns_depth = 0;            // Fields of NSpid; 0: unknown.
  size_t target_pid_ns_depth = 0;
  std::string caller_uid_map;  // uid_map text; "": unknown.
  std::string target_uid_map;
};
AccessFacts ReadAccessFacts(pid_t pid, const std::string& proc_root = "/proc");

// One line saying why, e.g. "Permission denied (EACCES): gcpilot lacks
// CAP_SYS_PTRACE (run as root or grant it)", or, with CAP_SYS_PTRACE, what
// sets the process apart (another user or PID namespace, capabilities
// gcpilot lacks) and that a sandbox or security policy refused it.
std::string ExplainDeniedExe(int err, const AccessFacts& facts);

// The process's start time (field 22 of /proc/PID/stat, clock ticks since
// boot): with the pid, it names one process for its whole life, so a reused
// pid can be told apart. 0 when the process is gone.
uint64_t ReadStartTime(pid_t pid, const std::string& proc_root = "/proc");

// The container id in a /proc/PID/cgroup file's text: the last 64-hex-digit
// run in a path component (docker-<id>.scope, cri-containerd-<id>.scope,
// crio-<id>, /docker/<id>, /kubepods/.../<id>), or "" for none.
std::string ContainerIdFromCgroup(const std::string& cgroup_text);

}  // namespace gcpilot::proc
