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
  // Stops tracing `pid`; detaches from its binary when no pid uses it and
  // the binary is not watched with `keep`.
  Status Untrace(pid_t pid);
  // Makes the exec probe trace every new process of the (non-PIE) binary at
  // `exe_path` from its exec on, in the kernel, with `config`; attaches the
  // binary's probes if needed. With `keep` they stay while gcpilot runs
  // (--exe); otherwise they go with the binary's last traced process.
  // Returns the binary's key as exec records carry it.
  StatusOr<gcp_inode_key> WatchBinary(const std::string& exe_path, const ProbeSites& sites,
                                      const gcp_proc_config& config, bool keep);
  // Counts `pid`, which the exec probe started tracing as a new process of
  // the watched binary `exe`, as traced (as Trace() would).
  Status Adopt(pid_t pid, const gcp_inode_key& exe);
  // The key exec records use for the file at `path`.
  static StatusOr<gcp_inode_key> KernelInodeKey(const std::string& path);
  // True when probes attach as one uprobe_multi link per program and
  // binary (kernel 6.6+: needs only CAP_BPF + CAP_PERFMON), false for
  // perf-event uprobes (older kernels; also needs CAP_SYS_ADMIN).
  bool multi_uprobes() const { return multi_; }
  bool Traced(pid_t pid) const { return pids_.count(pid) > 0; }

  // Waits up to timeout_ms for records and delivers them. Returns the
  // number of records, or an error.
  StatusOr<int> Poll(int timeout_ms);
  // Records lost because the ring buffer was full (never silent): for one
  // process, and in total (including exec notices, counted under pid 0).
  uint64_t drops(pid_t pid) const;
  uint64_t total_drops() const;
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
    bool watched = false;  // Has a bin_configs entry.
    gcp_inode_key kernel_key{};
  };
  void ReleaseIfUnused(std::map<std::pair<uint64_t, uint64_t>, Attachment>::iterator it);
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
};

}  // namespace gcpilot::ebpf
