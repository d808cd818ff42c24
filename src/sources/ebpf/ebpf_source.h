// EbpfSource: the zero-intrusion source. Finds the Go processes to watch
// (given pids, every process of given executables, or every Go process on
// the host, including ones that start later: exec events), plans and
// attaches the probes per binary, and turns the probes' records into model
// events (ProcessSeen, GcCycleObserved, StwObserved, TimeTriggerObserved,
// ProcessExited) on CLOCK_MONOTONIC.
//
// Lifecycle: a traced process that exits, or execs another program, gets a
// ProcessExited and is untraced (its binary's probes go with its last
// process); a reused pid is a new process (new generation). Processes that
// cannot be traced are reported once each, with the reason.
// Thread-safety: not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "golang/go_binary_cache.h"
#include "model/events.h"
#include "model/stop_stack.h"
#include "sources/ebpf/go_runtime_probe.h"
#include "sources/ebpf/probe_plan.h"
#include "sources/proc/goroutine_walk.h"
#include "sources/proc/procfs.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::ebpf {

struct EbpfSourceOptions {
  std::vector<pid_t> pids;        // These processes.
  std::vector<std::string> exes;  // Every process running one of these files.
  // Every Go process on the host, now and as they start.
  bool all = false;
};

struct EbpfSourceStats {
  uint64_t cycles = 0;
  uint64_t stops = 0;              // Non-GC stops of the world.
  uint64_t processes_traced = 0;   // Ever.
  uint64_t refused = 0;            // Go processes that could not be traced.
  uint64_t unreadable = 0;         // Processes whose executable could not be read.
  uint64_t drops = 0;              // Records lost (ring buffer full).
  uint64_t bad_records = 0;        // Records too short or of unknown type.
  uint64_t unattributed = 0;       // Records of a process no longer (or not yet) known.
  uint64_t missed = 0;             // Go processes that ended before they could be traced.
  uint64_t stray_entries = 0;      // Kernel filter entries of untraced pids removed.
  uint64_t exec_notice_drops = 0;  // Exec notices lost (ring full): discovery may lag.
  uint64_t stop_stacks = 0;        // Caller stacks of non-GC stops captured.
  uint64_t invalid = 0;            // Processes dropped: memory did not match the layout.
};

class EbpfSource {
 public:
  using Emit = std::function<void(const Event&)>;
  using Notice = std::function<void(const std::string&)>;
  using StopStackHandler = std::function<void(const ProcessKey&, const StopStack&)>;

  // Loads the BPF program. PermissionDenied says which capabilities are
  // missing (CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE).
  static StatusOr<std::unique_ptr<EbpfSource>> Create(EbpfSourceOptions options, Emit emit,
                                                      Notice notice);
  ~EbpfSource();

  // Traces the given pids / scans /proc for matching processes. Returns how
  // many processes are traced; problems go to the notice callback.
  size_t Start();
  // For `gcpilot run`: trace `pid`, a child that is about to exec the Go
  // program `exe_path`, so even its first cycle is seen. The probes are on
  // the binary before it starts; the pid goes live when it execs it.
  Status TraceChild(pid_t pid, const std::string& exe_path);
  // For `gcpilot run`, before the child exists: plans and attaches the
  // probes for the program, so a failure shows before it starts.
  Status PrepareProgram(const std::string& exe_path);

  // Waits up to timeout_ms for records, delivers them, then checks that
  // traced processes are still there (in case an exit record was lost).
  Status Poll(int timeout_ms);
  // Delivers what is left in the ring buffer, then ends every traced
  // process's stream (no ProcessExited: they are still running).
  void Stop();

  // Captured caller stacks of non-GC stops go here (see SetStopStacks).
  void set_stop_stack_handler(StopStackHandler h) { on_stop_stack_ = std::move(h); }
  // Turns capturing the caller stack of each non-GC stop of `pid` on or off
  // (a frame-pointer walk in the stopTheWorld entry probe, before the world
  // stops). NotFound when pid is not traced.
  Status SetStopStacks(pid_t pid, bool on);

  EbpfSourceStats stats() const;
  // GOMAXPROCS, GOGC, GOMEMLIMIT and the heap in use now, read from a traced
  // process's memory (process_vm_readv: no probe, no stop); nullopt when
  // `pid` is not traced.
  std::optional<proc::RuntimeGauges> Gauges(pid_t pid) const;
  // The live goroutines of a traced process by creation site, read from
  // its memory (proc::WalkGoroutines); NotFound when pid is not traced.
  StatusOr<proc::GoroutineWalk> WalkGoroutines(pid_t pid,
                                               const proc::GoroutineWalkLimits& limits) const;
  size_t traced() const { return traced_.size(); }
  // Records lost for `pid` (ring buffer full).
  uint64_t drops(pid_t pid) const { return probe_->drops(pid); }
  size_t attached_binaries() const { return probe_->attached_binaries(); }
  size_t uprobe_links() const { return probe_->uprobe_links(); }

 private:
  struct Traced {
    ProcessKey key;
    std::shared_ptr<const ProbePlan> plan;
    std::shared_ptr<const golang::GoBinary> binary;
    uint64_t start_time = 0;   // /proc/PID/stat starttime: tells pid reuse.
    int64_t traced_at_ns = 0;  // Records from before this are another process's.
    gcp_inode_key exe{};       // awaiting_exec: the binary, as exec records name it.
    bool awaiting_exec = false;
    bool stop_stacks = false;  // GCP_CFG_STOP_STACKS is set for it.
    uint64_t load_bias = 0;    // Known once stop_stacks was turned on.
    // Its memory was checked against the layout (ValidateRuntime): a
    // process found running is checked before it is traced, one traced
    // from its exec at its first cycle (its rings are empty before).
    bool validated = false;
  };

  EbpfSource(EbpfSourceOptions options, Emit emit, Notice notice);
  void OnRecord(const void* data, size_t size);
  void OnStopStack(const gcp_stack_event& e);
  // Emits ProcessSeen for a traced process: from `known` when the caller
  // already read /proc, else read now (`comm` when /proc has no more to
  // say: the process may be gone already).
  void AnnounceProcess(pid_t pid, const std::string& comm = "",
                       const proc::ProcessIdentity* known = nullptr);
  void OnExec(const gcp_mark_event& e);
  // A process the exec probe started tracing in the kernel (see
  // GoRuntimeProbe::WatchBinary): take it over.
  void Adopt(pid_t pid, const gcp_mark_event& e);
  // Lets the exec probe trace new processes of this binary itself.
  void WatchBinary(const std::string& exe_path,
                   const std::shared_ptr<const golang::GoBinary>& binary,
                   const std::shared_ptr<const ProbePlan>& plan, bool keep);
  void OnExit(const gcp_mark_event& e);
  // Traces pid if it matches the options and is a traceable Go process.
  // `explicit_pid`: the user named it, so say why when it is not traced.
  bool Consider(pid_t pid, bool explicit_pid);
  Status TraceProcess(pid_t pid, const std::string& exe_open,
                      std::shared_ptr<const golang::GoBinary> binary, bool awaiting_exec,
                      const proc::ProcessIdentity* known = nullptr);
  void EndProcess(pid_t pid, std::optional<ProcessExited> exit, int64_t ts_ns,
                  bool keep_map_entry = false);
  // Registers a traced pid (the probe already counts it) and announces it.
  void AddTraced(pid_t pid, std::shared_ptr<const golang::GoBinary> binary,
                 std::shared_ptr<const ProbePlan> plan, bool awaiting_exec, const std::string& comm,
                 const proc::ProcessIdentity* known = nullptr);
  // Forgets plans and binaries nothing uses any more.
  void PruneCaches();
  StatusOr<std::shared_ptr<const ProbePlan>> PlanFor(
      const std::shared_ptr<const golang::GoBinary>& binary);
  bool MatchesExe(pid_t pid) const;
  void CheckLiveness();
  // Checks that the process's pause rings, read from its memory at the
  // layout's addresses, hold what a Go runtime keeps there (numbers from a
  // wrongly located field are never reported). DataLoss says what failed.
  Status ValidateRuntime(pid_t pid, const golang::GoBinary& binary, const ProbePlan& plan,
                         std::optional<uint64_t> bias = std::nullopt) const;
  // A traced process whose memory failed ValidateRuntime: dropped, with
  // the reason, and counted.
  void DropInvalid(pid_t pid, const Status& why);

  EbpfSourceOptions options_;
  bool discover_ = false;
  Emit emit_;
  Notice notice_;
  StopStackHandler on_stop_stack_;
  MonotonicClock clock_;
  std::unique_ptr<GoRuntimeProbe> probe_;
  golang::GoBinaryCache binaries_;
  // Plans per binary; the binary is held so its address stays unique.
  using BinaryRef = std::shared_ptr<const golang::GoBinary>;
  std::map<const golang::GoBinary*, std::pair<BinaryRef, std::shared_ptr<const ProbePlan>>> plans_;
  std::map<const golang::GoBinary*, std::pair<BinaryRef, std::string>> plan_errors_;
  std::set<std::pair<uint64_t, uint64_t>> exe_inodes_;  // --exe targets (kernel keys).
  struct Watched {
    BinaryRef binary;
    std::shared_ptr<const ProbePlan> plan;
  };
  std::map<std::pair<uint64_t, uint64_t>, Watched> watched_;  // Kernel inode key.
  std::map<pid_t, Traced> traced_;
  uint32_t next_generation_ = 0;       // Unique per traced process.
  std::map<pid_t, uint64_t> refused_;  // pid -> start time, reported once.
  // Binaries (build ID, else path) whose plan failed and whose refusal was
  // said already: once per binary for the life of the source.
  std::set<std::string> refusal_noticed_;
  bool adoption_mismatch_noted_ = false;
  int64_t last_liveness_ns_ = 0;
  int64_t last_rescan_ns_ = 0;
  EbpfSourceStats stats_;
};

}  // namespace gcpilot::ebpf
