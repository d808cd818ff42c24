// Load bias from /proc/PID/maps (see the header).
#include "sources/proc/load_bias.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>

namespace gcpilot::proc {

StatusOr<uint64_t> LoadBias(pid_t pid, const golang::GoBinary& binary) {
  if (!binary.pie()) return uint64_t{0};
  const std::string base = "/proc/" + std::to_string(pid);
  struct stat exe;
  if (stat((base + "/exe").c_str(), &exe) != 0) {
    return Status::NotFound("process " + std::to_string(pid) + " is gone");
  }
  std::ifstream maps(base + "/maps");
  if (!maps) return Status::NotFound("process " + std::to_string(pid) + " is gone");
  char link[4096];
  ssize_t n = readlink((base + "/exe").c_str(), link, sizeof(link) - 1);
  const std::string exe_path = n > 0 ? std::string(link, static_cast<size_t>(n)) : "";
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset major:minor inode [path]
    uint64_t start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64, &start,
                    &end, perms, &offset, &major, &minor, &inode) != 7) {
      continue;
    }
    if (offset != 0) continue;
    // Same inode, or (overlay filesystems show the lower file's numbers in
    // maps) the same path as /proc/PID/exe.
    const bool same_file = inode == exe.st_ino && makedev(major, minor) == exe.st_dev;
    const size_t path_at = line.find('/');
    const bool same_path = path_at != std::string::npos && !exe_path.empty() &&
                           line.compare(path_at, std::string::npos, exe_path) == 0;
    if (!same_file && !same_path) continue;
    // File offset 0 lands at LinkBase() + bias (internally linked Go PIEs
    // link at 0x400000, not 0).
    return start - binary.elf().LinkBase().value_or(0);
  }
  return Status::NotFound("executable mapping of process " + std::to_string(pid) + " not found");
}

}  // namespace gcpilot::proc
