// User-space side of the GC-cycle probe (see the header).
#include "sources/ebpf/gc_cycle_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gc_cycle.skel.h"
#include "sources/proc/runtime_gauges.h"

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

}  // namespace

StatusOr<std::unique_ptr<GcCycleProbe>> GcCycleProbe::Create(Handler handler) {
  std::unique_ptr<GcCycleProbe> p(new GcCycleProbe(std::move(handler)));
  p->skel_ = gc_cycle__open();
  if (!p->skel_) return LibbpfError(errno, "opening the BPF program");
  int err = gc_cycle__load(p->skel_);
  if (err) return LibbpfError(err, "loading the BPF program");
  p->ring_ = ring_buffer__new(bpf_map__fd(p->skel_->maps.events), &GcCycleProbe::OnEvent, p.get(),
                              nullptr);
  if (!p->ring_) return LibbpfError(errno, "creating the ring buffer");
  return p;
}

GcCycleProbe::~GcCycleProbe() {
  for (auto& [key, a] : binaries_) bpf_link__destroy(a.link);
  if (ring_) ring_buffer__free(ring_);
  if (skel_) gc_cycle__destroy(skel_);
}

int GcCycleProbe::OnEvent(void* ctx, void* data, size_t size) {
  if (size < sizeof(gcp_cycle_event)) return 0;
  gcp_cycle_event e;
  std::memcpy(&e, data, sizeof(e));
  static_cast<GcCycleProbe*>(ctx)->handler_(e);
  return 0;
}

Status GcCycleProbe::Trace(pid_t pid, const golang::GoBinary& binary) {
  if (pids_.count(pid)) return Status::Ok();
  if (binary.stripped()) {
    return Status::Unavailable("stripped binary: runtime.memstats has no symbol");
  }
  StatusOr<golang::GlobalInfo> memstats = binary.FindGlobal("runtime.memstats");
  if (!memstats.ok()) return memstats.status();
  if (!binary.has_dwarf()) return Status::Unavailable("no DWARF (-w): memstats layout unknown");
  gcp_proc_config cfg{};
  for (auto [member, out] : {std::pair<const char*, gcp_u32*>{"numgc", &cfg.numgc_offset},
                             {"pause_ns", &cfg.pause_ns_offset},
                             {"pause_end", &cfg.pause_end_offset}}) {
    StatusOr<golang::DwarfMember> m = binary.FindStructMember("runtime.mstats", member);
    if (!m.ok()) return m.status();
    *out = static_cast<gcp_u32>(m->offset);
  }
  if (binary.pie()) return Status::Unavailable("PIE Go binaries are not supported yet");
  cfg.memstats_addr = memstats->address;
  StatusOr<golang::FunctionInfo> fn = binary.FindFunction("runtime.mProf_Flush");
  if (!fn.ok()) return fn.status();

  const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  struct stat st;
  if (stat(exe.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + exe);
  InodeKey key{st.st_dev, st.st_ino};
  Attachment& a = binaries_[key];
  if (!a.link) {
    bpf_link* link = bpf_program__attach_uprobe(skel_->progs.on_mprof_flush, false, -1, exe.c_str(),
                                                fn->file_offset);
    if (!link) {
      int err = errno;
      binaries_.erase(key);
      return LibbpfError(err, "attaching a uprobe to " + binary.path());
    }
    a.link = link;
  }
  __u32 k = static_cast<__u32>(pid);
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &k, &cfg, BPF_ANY) != 0) {
    int err = errno;
    if (a.users == 0) {
      bpf_link__destroy(a.link);
      binaries_.erase(key);
    }
    return LibbpfError(err, "adding pid to the BPF filter");
  }
  ++a.users;
  pids_[pid] = key;
  return Status::Ok();
}

Status GcCycleProbe::Untrace(pid_t pid) {
  auto it = pids_.find(pid);
  if (it == pids_.end()) return Status::NotFound("pid " + std::to_string(pid) + " not traced");
  __u32 k = static_cast<__u32>(pid);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.procs), &k);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.last_numgc), &k);
  auto b = binaries_.find(it->second);
  if (b != binaries_.end() && --b->second.users <= 0) {
    bpf_link__destroy(b->second.link);
    binaries_.erase(b);
  }
  pids_.erase(it);
  return Status::Ok();
}

StatusOr<int> GcCycleProbe::Poll(int timeout_ms) {
  int n = ring_buffer__poll(ring_, timeout_ms);
  if (n < 0 && n != -EINTR) return LibbpfError(n, "polling the ring buffer");
  return n < 0 ? 0 : n;
}

uint64_t GcCycleProbe::drops() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> values(static_cast<size_t>(ncpu));
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (uint64_t v : values) total += v;
  return total;
}

}  // namespace gcpilot::ebpf
