// DetectorConfig: every detector threshold, with the defaults SPEC.md and
// docs/serve.md ("Detectors") give. Rates are per second, shares in [0, 1].
// Thread-safety: plain value type.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace gcpilot::detect {

struct DetectorConfig {
  // Allocation storm ("1s" windows, every 500 ms).
  double storm_alloc_bytes_per_sec = 50e6;   // The seed's 50 MB/s.
  int storm_sustained_windows = 4;           // Consecutive 1 s windows (~2 s).
  uint64_t storm_gcs_per_10s = 8;            // Or this many GCs in 10 s ...
  int64_t storm_short_pause_ns = 1'000'000;  // ... with pause P99 below this.

  // Pause spike ("1s" windows).
  double spike_factor = 3.0;              // Window max > factor x own P95 ...
  int64_t spike_floor_ns = 1'000'000;     // ... and at least this long.
  size_t spike_min_baseline_pauses = 20;  // Pauses needed before judging.
  // A single spike below the SLO is confirmed by a second one within this
  // time (one sub-SLO hiccup on a busy host is not a pattern).
  int spike_confirm_pauses = 2;
  int64_t spike_confirm_window_ns = 30'000'000'000;
  int64_t slo_pause_ns = 5'000'000;  // Critical at or above.

  // Mark-assist stall ("10s" windows).
  double assist_share = 0.25;       // Assist share of GC CPU above this ...
  double assist_min_gc_cpu = 0.05;  // ... while GC takes this share of CPU.

  // Long write-barrier window ("10s").
  double mark_wall_share = 0.30;

  // Observer-induced stops ("1m" windows, every 5 s).
  double observer_stops_per_sec = 0.2;  // Per non-GC reason.
  int64_t observer_min_covered_ns = 20'000'000'000;

  // Memory-limit thrash ("10s").
  double memlimit_live_share = 0.90;  // Live heap / GOMEMLIMIT at or above.
  double memlimit_gc_cpu = 0.20;      // With GC CPU share at or above ...
  double memlimit_gcs_per_sec = 2.0;  // ... or this GC frequency.

  // Goroutine leak / heap surge (fit over gauge samples, every 5 s).
  int64_t trend_window_ns = 300'000'000'000;   // Fit the last 5 min ...
  int64_t trend_min_span_ns = 60'000'000'000;  // ... once 1 min is covered.
  double trend_min_r2 = 0.9;
  double leak_min_added = 100;          // Goroutines added over the span ...
  double leak_min_growth = 0.5;         // ... and this share of the start.
  double surge_min_added_bytes = 16e6;  // Live heap added over the span ...
  double surge_min_growth = 0.25;       // ... and this share of the start.

  // Goroutine creation-site tracking, switched on while goroutine_leak or
  // heap_surge suspects something (hold or fire): a walk of the process's
  // goroutines every sites_interval_ns for sites_duration_ns, then not again
  // for sites_cooldown_ns (the last result stays in the findings).
  int64_t sites_duration_ns = 60'000'000'000;
  int64_t sites_interval_ns = 5'000'000'000;
  int64_t sites_cooldown_ns = 600'000'000'000;
  int64_t sites_max_goroutines = 100'000;  // allgs entries read per walk.
  int64_t sites_top = 5;                   // Sites named in the evidence.

  // Fragmentation ("10s" windows, over the per-second samples): the heap in
  // use (mheap_.pagesInUse x 8 KiB) stayed, at its lowest over the last
  // frag_window_ns, >= frag_ratio x the live heap marked by the last cycle,
  // at or above the heap goal, and >= frag_min_excess_bytes above the live
  // heap.
  double frag_ratio = 2.0;
  double frag_min_excess_bytes = 32.0 * (1 << 20);
  int64_t frag_window_ns = 30'000'000'000;

  // Finalizer backlog ("10s"): finalizers queued and not yet finished grow
  // linearly (least squares over fin_window_ns, >= fin_min_span_ns covered,
  // R^2 >= fin_min_r2) by >= fin_min_added, and are >= fin_min_backlog now.
  double fin_min_backlog = 1000;
  double fin_min_added = 1000;
  double fin_min_r2 = 0.8;
  int64_t fin_window_ns = 60'000'000'000;
  int64_t fin_min_span_ns = 20'000'000'000;
};

// OK when every threshold is in range; InvalidArgument naming the first
// that is not.
Status ValidateDetectorConfig(const DetectorConfig& c);

}  // namespace gcpilot::detect
