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
// thread (no executable); PermissionDenied when /proc/PID/exe is unreadable.
StatusOr<ProcessIdentity> ReadIdentity(pid_t pid, const std::string& proc_root = "/proc");

// The process's start time (field 22 of /proc/PID/stat, clock ticks since
// boot): with the pid, it names one process for its whole life, so a reused
// pid can be told apart. 0 when the process is gone.
uint64_t ReadStartTime(pid_t pid, const std::string& proc_root = "/proc");

// The container id in a /proc/PID/cgroup file's text: the last 64-hex-digit
// run in a path component (docker-<id>.scope, cri-containerd-<id>.scope,
// crio-<id>, /docker/<id>, /kubepods/.../<id>), or "" for none.
std::string ContainerIdFromCgroup(const std::string& cgroup_text);

}  // namespace gcpilot::proc
