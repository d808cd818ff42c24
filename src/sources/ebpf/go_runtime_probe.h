// GoRuntimeProbe: the Go-runtime BPF program (bpf/gc_cycle.bpf.c) from user
// space: owns every kernel handle (skeleton, uprobe links, tracepoint links,
// ring buffer) and releases them in its destructor, so no probe outlives it.
//
// Uprobes are attached once per binary (inode) at the sites of its
// ProbePlan; traced processes are chosen by pid in a BPF map, so N replicas
// of one binary cost one set of probes. The exec tracepoint reports every
// exec on the host when discovery is on (else only execs of traced
// processes); the exit tracepoint reports traced processes that end.
// Needs root, or CAP_BPF + CAP_PERFMON; Create() says which is missing.
// Thread-safety: not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "gcpilot/abi/gc_cycle_event.h"
#include "sources/ebpf/probe_plan.h"

struct gc_cycle;
struct ring_buffer;
struct bpf_link;
struct bpf_program;

namespace gcpilot::ebpf {

class GoRuntimeProbe {
 public:
  // Called with each raw record (gcp_*_event; the first u32 is the type).
  using Handler = std::function<void(const void* data, size_t size)>;

  static StatusOr<std::unique_ptr<GoRuntimeProbe>> Create(bool report_exec, Handler handler);
  ~GoRuntimeProbe();
  GoRuntimeProbe(const GoRuntimeProbe&) = delete;
  GoRuntimeProbe& operator=(const GoRuntimeProbe&) = delete;

  // Starts tracing `pid`: attaches the plan's probes to the binary at
  // `exe_path` (normally /proc/PID/exe) unless that inode already has them,
  // then adds pid with `config` to the filter. Idempotent per pid.
  Status Trace(pid_t pid, const std::string& exe_path, const ProbeSites& sites,
               const gcp_proc_config& config);
  // Replaces a traced pid's config (e.g. its PIE load bias became known).
  Status UpdateConfig(pid_t pid, const gcp_proc_config& config);
  // Stops tracing `pid` (and forgets its BPF state unless keep_map_entry:
  // the exec probe may have written a fresh entry for a new program). When
  // no pid uses the binary any more its probes are released, at once or
  // after the linger time (set_linger_ns), unless kept.
  Status Untrace(pid_t pid, bool keep_map_entry = false);
  bool Traced(pid_t pid) const { return pids_.count(pid) > 0; }

  // Attaches the binary's probes now and keeps them while gcpilot runs
  // (`run`: fail before the program starts, not after).
  Status Attach(const std::string& exe_path, const ProbeSites& sites);
  // Makes the exec probe trace every new process of the (non-PIE) binary at
  // `exe_path` from its exec on, in the kernel, with `config`; attaches the
  // binary's probes if needed. With `keep` they stay while gcpilot runs
  // (--exe); otherwise they go with the binary's last traced process.
  // Returns the binary's key as exec records carry it.
  StatusOr<gcp_inode_key> WatchBinary(const std::string& exe_path, const ProbeSites& sites,
                                      const gcp_proc_config& config, bool keep);
  // Counts `pid`, which the exec probe started tracing as a new process of
  // the watched binary `exe`, as traced (moving it from its previous
  // binary if it was traced: an exec). NotFound when `exe` is not watched.
  Status Adopt(pid_t pid, const gcp_inode_key& exe);
  // How long probes of a binary with no traced process stay (0: none).
  void set_linger_ns(int64_t ns) { linger_ns_ = ns; }
  // Releases binaries idle for longer than the linger time; returns the
  // keys of those that were watched.
  std::vector<gcp_inode_key> ReleaseIdle();
  // Deletes BPF filter entries of pids not traced by user space (their
  // exec record was lost, or their adoption failed) that were already
  // stray at the previous sweep. Returns how many.
  size_t SweepStrayPids();
  // The key exec records use for the file at `path`.
  static StatusOr<gcp_inode_key> KernelInodeKey(const std::string& path);
  // True when probes attach as one uprobe_multi link per program and
  // binary (kernel 6.6+: needs only CAP_BPF + CAP_PERFMON), false for
  // perf-event uprobes (older kernels; also needs CAP_SYS_ADMIN).
  bool multi_uprobes() const { return multi_; }

  // Waits up to timeout_ms for records and delivers them. Returns the
  // number of records, or an error.
  StatusOr<int> Poll(int timeout_ms);
  // Records lost because the ring buffer was full (never silent): for one
  // process, in total (GC data), and exec notices of untraced processes.
  uint64_t drops(pid_t pid) const;
  uint64_t total_drops() const;
  uint64_t exec_notice_drops() const { return drops(0); }
  size_t attached_binaries() const { return binaries_.size(); }
  size_t uprobe_links() const;

 private:
  explicit GoRuntimeProbe(Handler handler) : handler_(std::move(handler)) {}
  static int OnRecord(void* ctx, void* data, size_t size);
  Status AttachAll(const std::string& exe_path, const ProbeSites& sites,
                   std::vector<bpf_link*>* links);
  Status AttachUprobes(bpf_program* prog, const std::string& exe_path,
                       const std::vector<uint64_t>& offsets, const char* what,
                       std::vector<bpf_link*>* links);

  struct Attachment {
    std::vector<bpf_link*> links;
    int users = 0;
    bool keep = false;
    bool watched = false;  // Has a bin_configs entry (then kernel_key, config).
    gcp_inode_key kernel_key{};
    gcp_proc_config config{};
    int64_t idle_since_ns = 0;  // When users dropped to 0 (lingering).
  };
  // Releases the binary's probes when no pid uses it and it is not kept:
  // at once with `force` or without a linger time, else marks it idle.
  void ReleaseIfUnused(std::map<std::pair<uint64_t, uint64_t>, Attachment>::iterator it,
                       int64_t now_ns, bool force);
  void ForgetPidState(pid_t pid);
  // The binary's attachment, its probes attached if they were not yet.
  StatusOr<std::map<std::pair<uint64_t, uint64_t>, Attachment>::iterator> AttachmentFor(
      const std::string& exe_path, const ProbeSites& sites);
  using InodeKey = std::pair<uint64_t, uint64_t>;  // (dev, ino)

  Handler handler_;
  gc_cycle* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  bpf_link* exec_link_ = nullptr;
  bpf_link* exit_link_ = nullptr;
  std::map<InodeKey, Attachment> binaries_;
  std::map<pid_t, InodeKey> pids_;
  uint64_t untraced_drops_ = 0;  // Drops of pids no longer traced.
  bool multi_ = false;
  int64_t linger_ns_ = 0;
  std::set<pid_t> stray_candidates_;
};

}  // namespace gcpilot::ebpf
