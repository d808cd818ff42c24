// WindowStats: what the sliding-window engine reports for one window of one
// view of one process (see sliding_windows.h for how windows are formed).
//
// Units are in the names: ns for durations, bytes, per-second rates. Rates and
// shares are computed over covered_ns, the part of the window that lies within
// observed time (== end_ns - start_ns when `complete`). All values are finite
// (no NaN): a share whose denominator is unknown or zero is 0.
// Thread-safety: plain value type.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "analysis/distribution_summary.h"
#include "model/gc_cycle.h"

namespace gcpilot {

struct WindowStats {
  std::string view;      // The view's name, e.g. "1s".
  int64_t start_ns = 0;  // Window is [start_ns, end_ns) on the process's time axis.
  int64_t end_ns = 0;
  int64_t covered_ns = 0;  // Observed wall time in the window; rates use it.
  // The whole window lies in observed time (from the first record or origin up
  // to the latest time seen). Incomplete windows (the first ones, Current())
  // have rates over covered_ns only.
  bool complete = false;

  // Cycles whose end_ns() lies in the window.
  uint64_t gc_cycles = 0;
  uint64_t forced_cycles = 0;
  double gcs_per_sec = 0;
  uint64_t alloc_bytes = 0;  // Sum of GcCycle::allocated_bytes.
  double alloc_bytes_per_sec = 0;

  // GC CPU of those cycles (ns summed over Ps).
  GcCpuSplit gc_cpu;
  // gc_cpu.TotalExcludingIdle() / (covered_ns x gomaxprocs); 0 when gomaxprocs
  // is unknown. Not clamped: a long cycle's CPU all lands in the window where
  // the cycle ended, so short windows can exceed 1.
  double gc_cpu_share = 0;
  // gc_cpu.assist_ns / gc_cpu.TotalExcludingIdle(): how much of the GC work
  // the mutators paid for.
  double assist_share_of_gc_cpu = 0;
  // Concurrent mark (write barrier on) wall time inside the window; a mark
  // phase is spread over the windows it overlaps.
  int64_t mark_wall_ns = 0;
  double mark_wall_share = 0;  // mark_wall_ns / covered_ns, in [0, 1].

  // STW pauses of GC cycles: every sweep termination and mark termination is
  // one sample of gc_pauses.
  DistributionSummary gc_pauses;
  DistributionSummary sweep_term_pauses;
  DistributionSummary mark_term_pauses;

  // Stops of the world that are not part of a GC cycle (StwKind::kOther).
  DistributionSummary other_stops;
  std::array<uint64_t, kStwReasonCount> other_stops_by_reason{};

  // From the last cycle that ended in the window; carried over from earlier
  // windows when no cycle ended in this one (0 when never known).
  uint64_t heap_live_bytes = 0;
  uint64_t heap_goal_bytes = 0;
  int32_t gomaxprocs = 0;
};

}  // namespace gcpilot
