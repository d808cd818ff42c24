// GcCycleProbe: the eBPF GC-cycle probe (bpf/gc_cycle.bpf.c) from user space.
// One uprobe per binary (inode) at the entry of runtime.mProf_Flush, which
// runs once per GC cycle just after the world restarted; traced processes
// are chosen by pid in a BPF map, so N replicas of one binary cost one probe.
// Each event carries the runtime's own numbers for the cycle (numgc and
// memstats.pause_ns: both stops, to the nanosecond).
//
// Owns every kernel handle (skeleton, links, ring buffer) and releases them
// in its destructor, so no probe outlives gcpilot.
// Needs root or CAP_BPF + CAP_PERFMON; Create() says so when it fails.
// Thread-safety: not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "gcpilot/abi/gc_cycle_event.h"
#include "golang/go_binary.h"

struct gc_cycle;
struct ring_buffer;
struct bpf_link;

namespace gcpilot::ebpf {

class GcCycleProbe {
 public:
  using Handler = std::function<void(const gcp_cycle_event&)>;

  static StatusOr<std::unique_ptr<GcCycleProbe>> Create(Handler handler);
  ~GcCycleProbe();
  GcCycleProbe(const GcCycleProbe&) = delete;
  GcCycleProbe& operator=(const GcCycleProbe&) = delete;

  // Starts tracing `pid`, whose executable is `binary`: resolves where its
  // runtime keeps memstats (symbols + DWARF; stripped or -w binaries are
  // refused with the reason), attaches to its binary if not yet attached,
  // and adds the pid to the filter.
  Status Trace(pid_t pid, const golang::GoBinary& binary);
  // Stops tracing `pid`; detaches from its binary when no pid uses it.
  Status Untrace(pid_t pid);

  // Waits up to timeout_ms for events and delivers them. Returns the number
  // of events, or an error.
  StatusOr<int> Poll(int timeout_ms);
  // Events lost because the ring buffer was full (never silent).
  uint64_t drops() const;
  size_t attached_binaries() const { return binaries_.size(); }

 private:
  explicit GcCycleProbe(Handler handler) : handler_(std::move(handler)) {}
  static int OnEvent(void* ctx, void* data, size_t size);

  struct Attachment {
    bpf_link* link = nullptr;
    int users = 0;
  };
  using InodeKey = std::pair<uint64_t, uint64_t>;  // (dev, ino)

  Handler handler_;
  gc_cycle* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::map<InodeKey, Attachment> binaries_;
  std::map<pid_t, InodeKey> pids_;
};

}  // namespace gcpilot::ebpf
