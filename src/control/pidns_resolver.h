// PidNsResolver: maps a pid as a process sees it in its own pid namespace
// (a container) to the host pid, from /proc: every /proc/<hostpid>/status
// has an `NSpid:` line whose last field is the pid in the innermost
// namespace, and /proc/<hostpid>/ns/pid names that namespace
// ("pid:[4026531836]"). Found mappings are cached and re-checked on use
// (pids are reused).
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/status.h"

namespace gcpilot::control {

class PidNsResolver {
 public:
  static constexpr size_t kMaxCached = 4096;

  // proc_root: "/proc", or a directory laid out like it (tests).
  explicit PidNsResolver(std::string proc_root = "/proc");

  // The host pid of the process that is `ns_pid` in the pid namespace with
  // inode `ns_inode` (0: the agent's own namespace, ns_pid is the host pid).
  // NotFound when no such process exists.
  StatusOr<int32_t> Resolve(int32_t ns_pid, uint64_t ns_inode);

  // The namespace inode of "pid:[4026531836]"; InvalidArgument otherwise.
  static StatusOr<uint64_t> ParseNsLink(const std::string& link);

  uint64_t scans() const;  // Full /proc scans made (cache misses).

 private:
  // Inode of <proc_root>/<entry>/ns/pid, 0 when unreadable.
  uint64_t NsInode(const std::string& entry) const;
  // Last NSpid field of <proc_root>/<host_pid>/status, 0 when unreadable.
  int32_t InnermostPid(int32_t host_pid) const;
  bool Matches(int32_t host_pid, int32_t ns_pid, uint64_t ns_inode) const;

  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::pair<uint64_t, int32_t>, int32_t> cache_;
  uint64_t scans_ = 0;
};

}  // namespace gcpilot::control
