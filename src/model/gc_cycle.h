// GcCycle and StwPause: the records every source ends up producing, and the
// only thing analysis, reports and detectors consume.
//
// A GC cycle in Go has three phases: sweep termination (stop-the-world),
// concurrent mark (write barrier on) and mark termination (stop-the-world).
// Times are nanoseconds. `start_ns` is on the time axis of the process's
// events: CLOCK_MONOTONIC for live sources, time since process start for logs.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gcpilot {

// Where a record came from. Analysis never branches on it; reports show it.
enum class EventSource : uint8_t { kUnknown = 0, kGctrace, kEbpf, kScrape, kReplay };

// Why a cycle started. kForced is runtime.GC() (what Go counts in
// /gc/cycles/forced:gc-cycles); kTime is the 2-minute periodic GC.
enum class GcTrigger : uint8_t { kUnknown = 0, kHeap, kTime, kForced };

enum class StwKind : uint8_t { kSweepTermination = 0, kMarkTermination, kOther };

// Why the world was stopped. Numbering matches the Go runtime's stwReason
// (1.21+), so an eBPF source can pass the runtime's value through.
enum class StwReason : uint8_t {
  kUnknown = 0,
  kGcMarkTermination = 1,
  kGcSweepTermination = 2,
  kWriteHeapDump = 3,
  kGoroutineProfile = 4,
  kGoroutineProfileCleanup = 5,
  kAllGoroutinesStack = 6,
  kReadMemStats = 7,
  kAllThreadsSyscall = 8,
  kGomaxprocs = 9,
  kStartTrace = 10,
  kStopTrace = 11,
};
inline constexpr int kStwReasonCount = 12;

// CPU time the cycle cost, summed over all Ps, as the runtime accounts it.
struct GcCpuSplit {
  int64_t sweep_term_ns = 0;  // STW sweep termination x Ps stopped.
  int64_t assist_ns = 0;      // Mutator assists during mark.
  int64_t background_ns = 0;  // Dedicated + fractional mark workers.
  int64_t idle_ns = 0;        // Idle-priority mark workers (free CPU).
  int64_t mark_term_ns = 0;   // STW mark termination x Ps stopped.

  // GC CPU that competed with the program (idle marking excluded, as the
  // runtime does for /cpu/classes/gc/total minus idle).
  int64_t TotalExcludingIdle() const {
    return sweep_term_ns + assist_ns + background_ns + mark_term_ns;
  }
};

// From `gcpacertrace=1`: printed when the cycle starts.
struct PacerStart {
  double assist_ratio = 0;       // Scan work per allocated byte.
  uint64_t heap_scan_bytes = 0;  // Scannable heap (MB resolution).
  uint64_t heap_live_start_bytes = 0;
  uint64_t heap_goal_bytes = 0;
  int64_t dedicated_workers = 0;
  double fractional_utilization_goal = 0;
};

// From `gcpacertrace=1`: printed when mark ends, before the `gc N` line.
struct PacerEnd {
  int64_t utilization_percent = 0;  // Actual GC CPU utilization during mark.
  int64_t goal_utilization_percent = 0;
  uint64_t heap_scan_work_bytes = 0;
  uint64_t stack_scan_work_bytes = 0;
  uint64_t globals_scan_work_bytes = 0;
  uint64_t expected_scan_work_bytes = 0;
  uint64_t trigger_heap_bytes = 0;  // Heap size when the cycle was triggered.
  uint64_t heap_live_bytes = 0;     // Heap size when mark ended.
  int64_t goal_delta_bytes = 0;     // heap_live - goal: > 0 means overshoot.
  double cons_mark = 0;             // Allocation rate / scan rate estimate.
  bool controller_reset = false;    // Go 1.19 only.
};

// From `gcpacertrace=1`: sweeping of the previous cycle finished.
struct PacerSweepDone {
  uint64_t heap_bytes = 0;  // MB resolution.
  uint64_t allocated_during_sweep_bytes = 0;
  uint64_t pages_swept = 0;
  double pages_per_byte = 0;
};

struct GcCycle {
  uint64_t number = 0;        // The runtime's own cycle number (gc N).
  int64_t start_ns = 0;       // Sweep termination began.
  int64_t sweep_term_ns = 0;  // STW: sweep termination.
  int64_t mark_ns = 0;        // Concurrent mark, write barrier on.
  int64_t mark_term_ns = 0;   // STW: mark termination.
  GcCpuSplit cpu;
  uint64_t heap_start_bytes = 0;  // Heap when the cycle started.
  uint64_t heap_end_bytes = 0;    // Heap when mark ended.
  uint64_t heap_live_bytes = 0;   // Marked (live) heap.
  uint64_t heap_goal_bytes = 0;
  std::optional<uint64_t> stacks_bytes;   // Scannable stacks (Go 1.18+).
  std::optional<uint64_t> globals_bytes;  // Scannable globals (Go 1.18+).
  // Bytes allocated between the previous cycle's mark end and this one's
  // (heap_end - previous heap_live; the first cycle counts from zero). Set by
  // the CycleAssembler, so every source gets the same estimate.
  uint64_t allocated_bytes = 0;
  uint64_t byte_resolution = 1;  // 1<<20 when sizes were printed in MB.
  int32_t gomaxprocs = 0;
  GcTrigger trigger = GcTrigger::kUnknown;
  int32_t cpu_percent_since_start = -1;  // gctrace's P% (-1: unknown).
  std::optional<PacerStart> pacer_start;
  std::optional<PacerEnd> pacer_end;
  std::optional<PacerSweepDone> prev_sweep_done;
  EventSource source = EventSource::kUnknown;

  int64_t end_ns() const { return start_ns + sweep_term_ns + mark_ns + mark_term_ns; }
  int64_t pause_ns() const { return sweep_term_ns + mark_term_ns; }
  bool forced() const { return trigger == GcTrigger::kForced; }
};

// A single stop of the world that is not part of a GC cycle record (or, for
// sources that see individual stops, any stop).
struct StwPause {
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
  StwKind kind = StwKind::kOther;
  StwReason reason = StwReason::kUnknown;
  uint64_t gc_number = 0;  // 0 when not part of a GC cycle.
};

std::string_view GcTriggerName(GcTrigger t);
std::string_view StwKindName(StwKind k);
std::string_view StwReasonName(StwReason r);
std::string_view EventSourceName(EventSource s);
// Inverse of the *Name functions; nullopt for an unknown name.
std::optional<GcTrigger> GcTriggerFromName(std::string_view name);
std::optional<StwKind> StwKindFromName(std::string_view name);
std::optional<StwReason> StwReasonFromName(std::string_view name);
std::optional<EventSource> EventSourceFromName(std::string_view name);

}  // namespace gcpilot
