// RunSummary: whole-run aggregation of one process's GC cycles, stops and
// windows into the RunReport the final report prints.
//
// Definitions (all on the process's time axis, ns):
//  - span: first cycle start to last cycle end;
//  - gcs_per_sec: (cycles - 1) / (last start - first start), i.e. the mean
//    rate between cycle starts (0 with fewer than 2 cycles);
//  - alloc_bytes_per_sec: bytes allocated between the first and last cycle's
//    mark end (every cycle's allocated_bytes but the first one's, which counts
//    from process start) / (last end - first end); 0 with fewer than 2 cycles;
//  - gc_cpu_share: GC CPU excluding idle marking / (span x gomaxprocs), with
//    the latest known GOMAXPROCS (0 when never known);
//  - pause distributions: every sweep termination and mark termination is a
//    sample of all_pauses; cycle_pauses has one sample (their sum) per cycle.
// Quantiles carry the QuantileSketch bound (1% relative); counts, sums and
// extremes are exact. Memory is bounded: sketches, a <= 120-bucket heap series,
// and at most RiskRangeTracker::kMaxRanges risk ranges.
// Thread-safety: not thread-safe; Finish() is const and may be called at any
// time (e.g. for a live report) without disturbing the aggregation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/distribution_summary.h"
#include "analysis/heap_series.h"
#include "analysis/quantile_sketch.h"
#include "analysis/risk_ranges.h"
#include "analysis/window_stats.h"
#include "model/gc_cycle.h"

namespace gcpilot {

struct StopReasonSummary {
  StwReason reason = StwReason::kUnknown;
  uint64_t count = 0;
  double p99_ns = 0;
  double max_ns = 0;
};

// Shares of all GC CPU including idle marking; they sum to 1 (or are all 0).
struct GcCpuShares {
  double assist = 0;
  double background = 0;
  double idle = 0;
  double stw = 0;  // Sweep termination + mark termination.
};

struct RunReport {
  // Cycles.
  uint64_t cycles = 0;
  uint64_t forced_cycles = 0;
  uint64_t time_cycles = 0;  // Periodic (2-minute) GCs.
  uint64_t heap_cycles = 0;
  uint64_t unknown_trigger_cycles = 0;
  int64_t first_cycle_start_ns = 0;
  int64_t last_cycle_start_ns = 0;
  int64_t last_cycle_end_ns = 0;
  int64_t span_ns = 0;
  double gcs_per_sec = 0;

  // Allocation.
  uint64_t allocated_bytes = 0;  // Sum over all cycles (the first counts from process start).
  double alloc_bytes_per_sec = 0;

  // Stop-the-world pauses of GC cycles (ns).
  DistributionSummary sweep_term_pauses;
  DistributionSummary mark_term_pauses;
  DistributionSummary all_pauses;    // Each STW a sample.
  DistributionSummary cycle_pauses;  // Sum of a cycle's two STWs.
  // Concurrent mark wall time per cycle (ns); sum is the total.
  DistributionSummary concurrent_mark;

  // GC CPU (ns summed over Ps).
  GcCpuSplit gc_cpu;
  int64_t gc_cpu_excluding_idle_ns = 0;
  double gc_cpu_share = 0;
  GcCpuShares gc_cpu_split;
  double assist_share_of_gc_cpu = 0;  // assist / GC CPU excluding idle, as in windows.
  int32_t gomaxprocs = 0;             // Latest known; 0 when never known.
  int32_t gomaxprocs_min = 0;         // Over cycles that knew it.
  int32_t gomaxprocs_max = 0;

  // Heap.
  std::vector<HeapPoint> heap_series;  // <= 60 points.
  uint64_t heap_live_min_bytes = 0;
  double heap_live_avg_bytes = 0;
  uint64_t heap_live_max_bytes = 0;
  uint64_t heap_goal_max_bytes = 0;

  // Stops of the world outside GC cycles.
  DistributionSummary other_stops;
  std::vector<StopReasonSummary> other_stops_by_reason;  // Reasons seen, by reason value.

  // Allocation-rate risk ranges from the risk view's complete windows.
  double risk_threshold_bytes_per_sec = 0;
  std::vector<RiskRange> risk_ranges;
  uint64_t risk_ranges_unlisted = 0;

  // Data problems seen here (the CLI adds the input problems it counted).
  uint64_t cycles_out_of_order = 0;     // Started before an earlier-fed cycle.
  uint64_t missing_cycle_numbers = 0;   // Gaps in the runtime's cycle numbers.
  uint64_t repeated_cycle_numbers = 0;  // A number not above the previous one.
  uint64_t windows_out_of_order = 0;
};

class RunSummary {
 public:
  // 50 MiB/s (the seed's "50 MB/s" read as mebibytes).
  static constexpr double kDefaultRiskAllocBytesPerSec = 50.0 * 1024 * 1024;

  explicit RunSummary(double risk_alloc_bytes_per_sec = kDefaultRiskAllocBytesPerSec,
                      std::string risk_view = "1s");

  void AddCycle(const GcCycle& cycle);
  // Only stops of kind StwKind::kOther are counted: GC stops are counted from
  // their cycles, so sources that report both are not double counted.
  void AddPause(const StwPause& pause);
  // Windows of views other than the risk view are ignored; feed them in time
  // order (SlidingWindows::AdvanceTo's order).
  void AddWindow(const WindowStats& window);

  RunReport Finish() const;

 private:
  std::string risk_view_;
  RiskRangeTracker risk_;

  uint64_t cycles_ = 0;
  uint64_t forced_ = 0;
  uint64_t time_ = 0;
  uint64_t heap_ = 0;
  uint64_t unknown_trigger_ = 0;
  int64_t first_start_ns_ = 0;
  int64_t last_start_ns_ = 0;
  int64_t last_end_ns_ = 0;
  int64_t first_end_ns_ = 0;
  uint64_t first_end_alloc_ = 0;  // allocated_bytes of the earliest-ending cycle.
  uint64_t allocated_ = 0;

  QuantileSketch sweep_term_;
  QuantileSketch mark_term_;
  QuantileSketch all_pauses_;
  QuantileSketch cycle_pauses_;
  QuantileSketch mark_;

  GcCpuSplit cpu_;
  int32_t gomaxprocs_ = 0;
  int64_t gomaxprocs_at_ns_ = 0;
  int32_t gomaxprocs_min_ = 0;
  int32_t gomaxprocs_max_ = 0;

  HeapSeries heap_series_;
  uint64_t live_min_ = 0;
  uint64_t live_max_ = 0;
  double live_sum_ = 0;
  uint64_t goal_max_ = 0;

  QuantileSketch other_stops_;
  std::array<QuantileSketch, kStwReasonCount> stops_by_reason_;

  bool has_number_ = false;
  uint64_t last_number_ = 0;
  uint64_t out_of_order_ = 0;
  uint64_t missing_numbers_ = 0;
  uint64_t repeated_numbers_ = 0;
};

}  // namespace gcpilot
