// User-space side of the Go-runtime probes (see the header).
#include "sources/ebpf/go_runtime_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "gc_cycle.skel.h"

namespace gcpilot::ebpf {
namespace {

Status LibbpfError(int err, const std::string& what) {
  err = err < 0 ? -err : err;
  std::string msg = what + ": " + std::strerror(err);
  if (err == EPERM || err == EACCES) {
    return Status::PermissionDenied(msg + " (eBPF needs root, or CAP_BPF and CAP_PERFMON)");
  }
  return Status::Unavailable(msg);
}

// uprobe_multi links (Linux 6.6+) attach with CAP_BPF + CAP_PERFMON alone;
// perf-event uprobes are the fallback on older kernels.
bool KernelHasUprobeMulti() {
  struct utsname u;
  if (uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 6);
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

StatusOr<gcp_inode_key> GoRuntimeProbe::KernelInodeKey(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  gcp_inode_key key{};
  key.dev = (static_cast<uint64_t>(major(st.st_dev)) << 20) | minor(st.st_dev);
  key.ino = st.st_ino;
  return key;
}

StatusOr<std::unique_ptr<GoRuntimeProbe>> GoRuntimeProbe::Create(bool report_exec,
                                                                 Handler handler) {
  std::unique_ptr<GoRuntimeProbe> p(new GoRuntimeProbe(std::move(handler)));
  p->skel_ = gc_cycle__open();
  if (!p->skel_) return LibbpfError(errno, "opening the BPF program");
  p->skel_->rodata->report_exec = report_exec ? 1 : 0;
  p->multi_ = KernelHasUprobeMulti();
  if (!p->multi_) {
    for (bpf_program* prog :
         {p->skel_->progs.on_mprof_flush, p->skel_->progs.on_stop_the_world,
          p->skel_->progs.on_start_the_world_ret, p->skel_->progs.on_forcegc_start,
          p->skel_->progs.on_world_stop_call, p->skel_->progs.on_world_start_ret}) {
      bpf_program__set_expected_attach_type(prog, static_cast<bpf_attach_type>(0));
    }
  }
  int err = gc_cycle__load(p->skel_);
  if (err) return LibbpfError(err, "loading the BPF program");
  p->ring_ = ring_buffer__new(bpf_map__fd(p->skel_->maps.events), &GoRuntimeProbe::OnRecord,
                              p.get(), nullptr);
  if (!p->ring_) return LibbpfError(errno, "creating the ring buffer");
  p->exec_link_ = bpf_program__attach(p->skel_->progs.on_exec);
  if (!p->exec_link_) return LibbpfError(errno, "attaching to sched_process_exec");
  p->exit_link_ = bpf_program__attach(p->skel_->progs.on_exit);
  if (!p->exit_link_) return LibbpfError(errno, "attaching to sched_process_exit");
  return p;
}

GoRuntimeProbe::~GoRuntimeProbe() {
  for (auto& [key, a] : binaries_) {
    for (bpf_link* l : a.links) bpf_link__destroy(l);
  }
  if (exec_link_) bpf_link__destroy(exec_link_);
  if (exit_link_) bpf_link__destroy(exit_link_);
  if (ring_) ring_buffer__free(ring_);
  if (skel_) gc_cycle__destroy(skel_);
}

int GoRuntimeProbe::OnRecord(void* ctx, void* data, size_t size) {
  static_cast<GoRuntimeProbe*>(ctx)->handler_(data, size);
  return 0;
}

Status GoRuntimeProbe::AttachUprobes(bpf_program* prog, const std::string& exe_path,
                                     const std::vector<uint64_t>& offsets, const char* what,
                                     std::vector<bpf_link*>* links) {
  if (offsets.empty()) return Status::Ok();
  if (multi_) {
    std::vector<unsigned long> offs(offsets.begin(), offsets.end());
    LIBBPF_OPTS(bpf_uprobe_multi_opts, opts, .offsets = offs.data(), .cnt = offs.size());
    bpf_link* link = bpf_program__attach_uprobe_multi(prog, -1, exe_path.c_str(), nullptr, &opts);
    if (!link) return LibbpfError(errno, std::string("attaching uprobes at ") + what);
    links->push_back(link);
    return Status::Ok();
  }
  for (uint64_t offset : offsets) {
    bpf_link* link = bpf_program__attach_uprobe(prog, false, -1, exe_path.c_str(), offset);
    if (!link) {
      Status s = LibbpfError(errno, std::string("attaching a uprobe at ") + what);
      if (s.code() == StatusCode::kPermissionDenied) {
        return Status::PermissionDenied(s.message() +
                                        "; before Linux 6.6 uprobes also need CAP_SYS_ADMIN");
      }
      return s;
    }
    links->push_back(link);
  }
  return Status::Ok();
}

Status GoRuntimeProbe::AttachAll(const std::string& exe_path, const ProbeSites& sites,
                                 std::vector<bpf_link*>* links) {
  GCPILOT_RETURN_IF_ERROR(AttachUprobes(skel_->progs.on_mprof_flush, exe_path, {sites.mprof_flush},
                                        "runtime.mProf_Flush", links));
  if (sites.stop_the_world) {
    GCPILOT_RETURN_IF_ERROR(AttachUprobes(skel_->progs.on_stop_the_world, exe_path,
                                          {*sites.stop_the_world}, "runtime.stopTheWorld", links));
    GCPILOT_RETURN_IF_ERROR(AttachUprobes(skel_->progs.on_start_the_world_ret, exe_path,
                                          sites.start_the_world_rets,
                                          "the RETs of runtime.startTheWorld", links));
    GCPILOT_RETURN_IF_ERROR(AttachUprobes(skel_->progs.on_world_stop_call, exe_path,
                                          sites.world_stop_calls,
                                          "runtime.stopTheWorld.func1's stop call", links));
    GCPILOT_RETURN_IF_ERROR(AttachUprobes(skel_->progs.on_world_start_ret, exe_path,
                                          sites.world_start_rets,
                                          "the RETs of runtime.startTheWorld.func1", links));
  }
  return AttachUprobes(skel_->progs.on_forcegc_start, exe_path, sites.forcegc_calls,
                       "runtime.forcegchelper's gcStart call", links);
}

StatusOr<std::map<GoRuntimeProbe::InodeKey, GoRuntimeProbe::Attachment>::iterator>
GoRuntimeProbe::AttachmentFor(const std::string& exe_path, const ProbeSites& sites) {
  struct stat st;
  if (stat(exe_path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + exe_path);
  auto [it, inserted] = binaries_.try_emplace(InodeKey{st.st_dev, st.st_ino});
  if (it->second.links.empty()) {
    Status s = AttachAll(exe_path, sites, &it->second.links);
    if (!s.ok()) {
      for (bpf_link* l : it->second.links) bpf_link__destroy(l);
      binaries_.erase(it);
      return s;
    }
  }
  return it;
}

Status GoRuntimeProbe::Attach(const std::string& exe_path, const ProbeSites& sites) {
  StatusOr<std::map<InodeKey, Attachment>::iterator> at = AttachmentFor(exe_path, sites);
  if (!at.ok()) return at.status();
  (*at)->second.keep = true;
  return Status::Ok();
}

StatusOr<gcp_inode_key> GoRuntimeProbe::WatchBinary(const std::string& exe_path,
                                                    const ProbeSites& sites,
                                                    const gcp_proc_config& config, bool keep) {
  StatusOr<gcp_inode_key> kkey = KernelInodeKey(exe_path);
  if (!kkey.ok()) return kkey.status();
  StatusOr<std::map<InodeKey, Attachment>::iterator> at = AttachmentFor(exe_path, sites);
  if (!at.ok()) return at.status();
  Attachment& a = (*at)->second;
  a.keep = a.keep || keep;
  if (!a.watched) {
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.bin_configs), &*kkey, &config, BPF_ANY) != 0) {
      int err = errno;
      ReleaseIfUnused(*at, /*now_ns=*/0, /*force=*/true);
      return LibbpfError(err, "adding the binary to the exec filter");
    }
    a.watched = true;
    a.kernel_key = *kkey;
    a.config = config;
  }
  return *kkey;
}

Status GoRuntimeProbe::Adopt(pid_t pid, const gcp_inode_key& exe) {
  for (auto it = binaries_.begin(); it != binaries_.end(); ++it) {
    Attachment& a = it->second;
    if (!a.watched || a.kernel_key.dev != exe.dev || a.kernel_key.ino != exe.ino) continue;
    // The new binary gains the pid before an old one (exec of a traced
    // process) loses it, so no probe is dropped in between.
    ++a.users;
    auto old = pids_.find(pid);
    if (old != pids_.end()) {
      auto b = binaries_.find(old->second);
      if (b != binaries_.end() && --b->second.users <= 0) ReleaseIfUnused(b, NowNs(), false);
    }
    pids_[pid] = it->first;
    // The exec probe made the entry; write it again in case user space
    // removed it meanwhile (the pid's previous process ending).
    __u32 k = static_cast<__u32>(pid);
    bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &k, &a.config, BPF_ANY);
    return Status::Ok();
  }
  return Status::NotFound("its binary's probes were released");
}

void GoRuntimeProbe::ReleaseIfUnused(std::map<InodeKey, Attachment>::iterator it, int64_t now_ns,
                                     bool force) {
  if (it == binaries_.end()) return;
  Attachment& a = it->second;
  if (a.users > 0 || (a.keep && !force)) return;
  if (!force && linger_ns_ > 0) {
    // Kept a while, so a new process of the binary starting right after
    // the last one ended is still traced from its exec on.
    if (a.idle_since_ns == 0) a.idle_since_ns = now_ns;
    return;
  }
  if (a.watched) bpf_map_delete_elem(bpf_map__fd(skel_->maps.bin_configs), &a.kernel_key);
  for (bpf_link* l : a.links) bpf_link__destroy(l);
  binaries_.erase(it);
}

std::vector<gcp_inode_key> GoRuntimeProbe::ReleaseIdle() {
  const int64_t now = NowNs();
  std::vector<gcp_inode_key> released;
  for (auto it = binaries_.begin(); it != binaries_.end();) {
    Attachment& a = it->second;
    auto next = std::next(it);
    if (a.users <= 0 && !a.keep && a.idle_since_ns != 0 && now - a.idle_since_ns >= linger_ns_) {
      if (a.watched) released.push_back(a.kernel_key);
      ReleaseIfUnused(it, now, /*force=*/true);
    }
    it = next;
  }
  return released;
}

Status GoRuntimeProbe::Trace(pid_t pid, const std::string& exe_path, const ProbeSites& sites,
                             const gcp_proc_config& config) {
  if (pids_.count(pid)) return Status::Ok();
  StatusOr<std::map<InodeKey, Attachment>::iterator> at = AttachmentFor(exe_path, sites);
  if (!at.ok()) return at.status();
  const InodeKey key = (*at)->first;
  Attachment& a = (*at)->second;
  __u32 k = static_cast<__u32>(pid);
  // A fresh start for this pid (a reused pid must not inherit old state),
  // unless the exec probe already started tracing it.
  gcp_proc_config current;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.procs), &k, &current) != 0 ||
      std::memcmp(&current, &config, sizeof(config)) != 0) {
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.last_numgc), &k);
  }
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &k, &config, BPF_ANY) != 0) {
    int err = errno;
    ReleaseIfUnused(*at, NowNs(), /*force=*/false);
    return LibbpfError(err, "adding pid to the BPF filter");
  }
  ++a.users;
  a.idle_since_ns = 0;
  pids_[pid] = key;
  return Status::Ok();
}

Status GoRuntimeProbe::UpdateConfig(pid_t pid, const gcp_proc_config& config) {
  if (!pids_.count(pid)) return Status::NotFound("pid " + std::to_string(pid) + " not traced");
  __u32 k = static_cast<__u32>(pid);
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &k, &config, BPF_ANY) != 0) {
    return LibbpfError(errno, "updating pid in the BPF filter");
  }
  return Status::Ok();
}

void GoRuntimeProbe::ForgetPidState(pid_t pid) {
  __u32 k = static_cast<__u32>(pid);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.procs), &k);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.last_numgc), &k);
  uint64_t d = 0;
  if (bpf_map_lookup_and_delete_elem(bpf_map__fd(skel_->maps.drops), &k, &d) == 0) {
    untraced_drops_ += d;
  }
}

Status GoRuntimeProbe::Untrace(pid_t pid, bool keep_map_entry) {
  auto it = pids_.find(pid);
  if (it == pids_.end()) return Status::NotFound("pid " + std::to_string(pid) + " not traced");
  if (!keep_map_entry) ForgetPidState(pid);
  auto b = binaries_.find(it->second);
  pids_.erase(it);
  if (b != binaries_.end()) {
    --b->second.users;
    ReleaseIfUnused(b, NowNs(), /*force=*/false);
  }
  return Status::Ok();
}

size_t GoRuntimeProbe::SweepStrayPids() {
  int fd = bpf_map__fd(skel_->maps.procs);
  std::set<pid_t> stray;
  __u32 key = 0, next = 0;
  __u32* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (!pids_.count(static_cast<pid_t>(next))) stray.insert(static_cast<pid_t>(next));
    key = next;
    prev = &key;
  }
  // Only entries stray at two sweeps in a row: one made by the exec probe
  // just now has its exec record still on the way.
  size_t forgotten = 0;
  for (pid_t pid : stray) {
    if (stray_candidates_.count(pid)) {
      ForgetPidState(pid);
      ++forgotten;
    }
  }
  stray_candidates_ = std::move(stray);
  return forgotten;
}

StatusOr<int> GoRuntimeProbe::Poll(int timeout_ms) {
  int n = ring_buffer__poll(ring_, timeout_ms);
  if (n < 0 && n != -EINTR) return LibbpfError(n, "polling the ring buffer");
  return n < 0 ? 0 : n;
}

uint64_t GoRuntimeProbe::drops(pid_t pid) const {
  __u32 k = static_cast<__u32>(pid);
  uint64_t d = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &k, &d) != 0) return 0;
  return d;
}

uint64_t GoRuntimeProbe::total_drops() const {
  int fd = bpf_map__fd(skel_->maps.drops);
  uint64_t total = untraced_drops_;
  __u32 key = 0, next = 0;
  __u32* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    uint64_t d = 0;
    // Key 0: exec notices of processes not traced (yet): not GC data.
    if (next != 0 && bpf_map_lookup_elem(fd, &next, &d) == 0) total += d;
    key = next;
    prev = &key;
  }
  return total;
}

size_t GoRuntimeProbe::uprobe_links() const {
  size_t n = 0;
  for (const auto& [key, a] : binaries_) n += a.links.size();
  return n;
}

}  // namespace gcpilot::ebpf
