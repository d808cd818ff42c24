// ServeModel: what `gcpilot serve` knows about every watched process: its
// identity, totals, gauges, sliding windows (1 s / 10 s / 1 min views) and a
// bounded history of cycles and non-GC stops (by age and by count), plus the
// recent completed windows of each view. It is the ModelSink the cycle
// assembler feeds, and it tells ModelListeners (metrics, stream, store) about
// every change, with the process's state at hand.
//
// Bounds: at most `max_processes` processes (more live ones are not tracked
// and counted); an exited process is kept `exited_retention_ns`; per process
// at most `max_cycles` cycles and as many stops, none older than
// `retention_ns`, and `kRecentWindows` windows per view.
//
// Thread-safety: all public methods lock one mutex; listeners are called
// with it held (they must be quick and must not call back into the model).
// Read() runs a function on the state under the lock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "analysis/sliding_windows.h"
#include "model/model_sink.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::serve {

// A cycle as the history keeps it: every GcCycle field the API serves but
// the gctrace-only pacer details (about 170 bytes instead of about 420; the
// eBPF source never fills those).
struct CompactCycle {
  uint64_t number = 0;
  int64_t start_ns = 0;
  int64_t sweep_term_ns = 0;
  int64_t mark_ns = 0;
  int64_t mark_term_ns = 0;
  GcCpuSplit cpu;
  uint64_t heap_start_bytes = 0;
  uint64_t heap_end_bytes = 0;
  uint64_t heap_live_bytes = 0;
  uint64_t heap_goal_bytes = 0;
  uint64_t stacks_bytes = 0;
  uint64_t globals_bytes = 0;
  uint64_t allocated_bytes = 0;
  uint32_t byte_resolution = 1;
  int32_t gomaxprocs = 0;
  int16_t cpu_percent_since_start = -1;
  GcTrigger trigger = GcTrigger::kUnknown;
  EventSource source = EventSource::kUnknown;
  bool has_stacks = false;
  bool has_globals = false;

  static CompactCycle From(const GcCycle& c);
  GcCycle ToGcCycle() const;
  int64_t end_ns() const { return start_ns + sweep_term_ns + mark_ns + mark_term_ns; }
  bool forced() const { return trigger == GcTrigger::kForced; }
};

struct StoredCycle {
  uint64_t seq = 0;
  CompactCycle cycle;
};
struct StoredStop {
  uint64_t seq = 0;
  StwPause stop;
};

struct ProcessTotals {
  uint64_t cycles = 0;
  uint64_t forced_cycles = 0;
  uint64_t stops = 0;
  uint64_t alloc_bytes = 0;
  uint64_t drops = 0;
  int64_t pause_ns = 0;   // GC pauses (sweep + mark termination).
  int64_t gc_cpu_ns = 0;  // Excluding idle marking.
};

enum class Health { kOk, kWarn, kBad, kIdle, kExited };
std::string_view HealthName(Health h);

struct ProcessState {
  ProcessKey key;
  ProcessInfo info;
  EventSource source = EventSource::kUnknown;
  int64_t seen_ns = 0;  // Monotonic.
  bool exited = false;
  ProcessExited exit;
  int64_t exited_ns = 0;
  int64_t last_cycle_end_ns = 0;  // 0: none yet.
  ProcessTotals totals;
  proc::RuntimeGauges gauges;    // Last read (fields absent when unknown).
  uint64_t heap_live_bytes = 0;  // From the last cycle.
  uint64_t heap_goal_bytes = 0;
  int32_t gomaxprocs = 0;
  SlidingWindows windows{DefaultViews()};
  std::deque<StoredCycle> cycles;
  uint64_t next_cycle_seq = 1;
  std::deque<StoredStop> stops;
  uint64_t next_stop_seq = 1;
  std::map<std::string, std::deque<WindowStats>, std::less<>> recent;  // Per view.
};

// Told about every change; called with the model's lock held.
class ModelListener {
 public:
  virtual ~ModelListener() = default;
  virtual void OnProcess(const ProcessState& /*p*/) {}  // Seen or exited.
  virtual void OnCycle(const ProcessState& /*p*/, const StoredCycle& /*c*/) {}
  virtual void OnStop(const ProcessState& /*p*/, const StoredStop& /*s*/) {}
  // Once per Tick per live process: the 10 s window ending now.
  virtual void OnWindow(const ProcessState& /*p*/, const WindowStats& /*w10s*/, Health /*h*/) {}
  // Every completed window of every view ("1s" every 500 ms, "10s" every
  // 1 s, "1m" every 5 s), in time order, as Tick emits them.
  virtual void OnWindowCompleted(const ProcessState& /*p*/, const WindowStats& /*w*/) {}
  virtual void OnEvicted(const ProcessState& /*p*/) {}
};

struct ServeLimits {
  int64_t retention_ns = 3600LL * 1'000'000'000;
  size_t max_cycles = 10000;
  size_t max_processes = 512;
  int64_t exited_retention_ns = 300LL * 1'000'000'000;
  int64_t slo_pause_ns = 5'000'000;
};

struct ModelCounters {
  uint64_t over_limit = 0;  // Processes not tracked: max_processes reached.
  uint64_t evicted = 0;     // Processes removed (exited long enough).
  uint64_t records_of_untracked = 0;
};

class ServeModel final : public ModelSink {
 public:
  static constexpr size_t kRecentWindows = 120;
  static constexpr int64_t kIdleNs = 10'000'000'000;

  explicit ServeModel(ServeLimits limits);

  void AddListener(ModelListener* l) { listeners_.push_back(l); }

  // ModelSink (the ingest thread).
  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;

  // Once a second: advances windows to now_ns, refreshes each live process's
  // gauges with `read_gauges(pid)` and drops with `read_drops(pid)` (called
  // without the lock), tells listeners OnWindow, and applies retention.
  void Tick(int64_t now_ns,
            const std::function<std::optional<proc::RuntimeGauges>(int32_t pid)>& read_gauges,
            const std::function<uint64_t(int32_t pid)>& read_drops);

  // Runs f(processes, counters) under the lock.
  template <typename F>
  auto Read(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(processes_, counters_);
  }

  Health HealthOf(const ProcessState& p, int64_t now_ns) const;
  const ServeLimits& limits() const { return limits_; }

 private:
  ProcessState* Find(const ProcessKey& key);
  void Trim(ProcessState& p, int64_t now_ns);

  const ServeLimits limits_;
  mutable std::mutex mu_;
  std::map<ProcessKey, ProcessState> processes_;
  ModelCounters counters_;
  std::vector<ModelListener*> listeners_;
};

}  // namespace gcpilot::serve
