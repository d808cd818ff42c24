// Pid-namespace resolution through /proc (see pidns_resolver.h).
#include "control/pidns_resolver.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace gcpilot::control {

PidNsResolver::PidNsResolver(std::string proc_root) : root_(std::move(proc_root)) {}

StatusOr<uint64_t> PidNsResolver::ParseNsLink(const std::string& link) {
  const std::string prefix = "pid:[";
  if (link.rfind(prefix, 0) != 0 || link.size() < prefix.size() + 2 || link.back() != ']') {
    return Status::InvalidArgument("not a pid namespace link: '" + link + "'");
  }
  uint64_t inode = 0;
  const char* b = link.data() + prefix.size();
  const char* e = link.data() + link.size() - 1;
  auto [end, ec] = std::from_chars(b, e, inode);
  if (ec != std::errc() || end != e || inode == 0) {
    return Status::InvalidArgument("not a pid namespace link: '" + link + "'");
  }
  return inode;
}

uint64_t PidNsResolver::NsInode(const std::string& entry) const {
  char buf[128];
  std::string path = root_ + "/" + entry + "/ns/pid";
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return 0;
  StatusOr<uint64_t> inode = ParseNsLink(std::string(buf, static_cast<size_t>(n)));
  return inode.ok() ? *inode : 0;
}

int32_t PidNsResolver::InnermostPid(int32_t host_pid) const {
  std::ifstream in(root_ + "/" + std::to_string(host_pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int32_t pid = 0, last = 0;
    while (fields >> pid) last = pid;
    return last;
  }
  return 0;
}

bool PidNsResolver::Matches(int32_t host_pid, int32_t ns_pid, uint64_t ns_inode) const {
  return InnermostPid(host_pid) == ns_pid && NsInode(std::to_string(host_pid)) == ns_inode;
}

StatusOr<int32_t> PidNsResolver::Resolve(int32_t ns_pid, uint64_t ns_inode) {
  if (ns_pid <= 0) return Status::InvalidArgument("pid must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  if (ns_inode == 0 || ns_inode == NsInode("self")) {
    if (access((root_ + "/" + std::to_string(ns_pid)).c_str(), F_OK) != 0) {
      return Status::NotFound("no process " + std::to_string(ns_pid));
    }
    return ns_pid;
  }
  auto key = std::make_pair(ns_inode, ns_pid);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    if (Matches(it->second, ns_pid, ns_inode)) return it->second;
    cache_.erase(it);
  }
  ++scans_;
  DIR* dir = opendir(root_.c_str());
  if (dir == nullptr) return Status::Unavailable("cannot read " + root_);
  int32_t found = 0;
  while (dirent* e = readdir(dir)) {
    int32_t host = 0;
    std::string name = e->d_name;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), host);
    if (ec != std::errc() || end != name.data() + name.size() || host <= 0) continue;
    if (Matches(host, ns_pid, ns_inode)) {
      found = host;
      break;
    }
  }
  closedir(dir);
  if (found == 0) {
    return Status::NotFound("no process " + std::to_string(ns_pid) + " in pid namespace pid:[" +
                            std::to_string(ns_inode) + "]");
  }
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = found;
  return found;
}

uint64_t PidNsResolver::scans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scans_;
}

}  // namespace gcpilot::control
