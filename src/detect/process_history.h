// ProcessHistory: the bounded per-process memory the detectors look at: the
// latest completed window of each view, the last kMaxCycles cycles (pauses,
// heap, numbers), one gauge sample per second for kMaxSamples seconds, and
// the runtime gauges last read. Plus the small statistics helpers detectors
// share (pause percentile of a baseline, cycles in a time range, a
// least-squares line). Investigations that ran for the process (e.g. the
// caller stacks of its non-GC stops) leave their summary here too.
// Thread-safety: plain value type, owned by the DetectorEngine.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/window_stats.h"
#include "detect/creation_sites.h"
#include "model/gc_cycle.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::detect {

// What a detector needs of one cycle.
struct CycleBrief {
  uint64_t number = 0;
  int64_t end_ns = 0;
  int64_t sweep_term_ns = 0;
  int64_t mark_ns = 0;
  int64_t mark_term_ns = 0;
  uint64_t heap_live_bytes = 0;
  uint64_t heap_goal_bytes = 0;

  static CycleBrief From(const GcCycle& c);
};

// One sample per second: what trend detectors fit lines through.
struct GaugeSample {
  int64_t t_ns = 0;
  std::optional<int64_t> goroutines;
  uint64_t heap_live_bytes = 0;              // Marked live by the last cycle (0: none yet).
  uint64_t heap_goal_bytes = 0;              // The last cycle's heap goal (0: none yet).
  std::optional<uint64_t> heap_inuse_bytes;  // Pages of heap spans in use.
  std::optional<int64_t> finalizer_backlog;  // Queued and not finished.
};

// The runtime gauges a detector may use (absent when unknown).
struct GaugeValues {
  std::optional<int32_t> gogc;
  std::optional<int64_t> memory_limit_bytes;  // INT64_MAX: none.
  std::optional<int64_t> goroutines;
  std::optional<uint64_t> heap_in_use_bytes;       // Pacer's heapLive (not marked live).
  std::optional<uint64_t> heap_inuse_pages_bytes;  // mheap_.pagesInUse x 8 KiB.
  std::optional<int64_t> finalizer_backlog;        // Sum of finblock.cnt.
  bool finalizer_backlog_truncated = false;

  // From the gauges read from the process's memory.
  static GaugeValues From(const proc::RuntimeGauges& g);
};

struct ProcessHistory {
  static constexpr size_t kMaxCycles = 1024;
  static constexpr size_t kMaxSamples = 900;  // 15 min at one per second.

  std::map<std::string, WindowStats, std::less<>> latest;  // Per view.
  std::deque<CycleBrief> cycles;                           // Oldest first.
  std::deque<GaugeSample> samples;                         // Oldest first.
  GaugeValues gauges;
  // StopCallerCapture's summary (stop_callers.h); null when none ran.
  nlohmann::json stop_callers;
  // Goroutine creation sites of the latest tracking session (none yet:
  // nullopt); kept after the session ends, so findings keep citing them.
  std::optional<CreationSiteTracking> sites;

  void AddCycle(const CycleBrief& c);
  void AddSample(const GaugeSample& s);
  const WindowStats* Latest(std::string_view view) const;
};

// Cycles (of those kept) whose end lies in [start_ns, end_ns).
struct CycleRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count = 0;
};
CycleRange CyclesIn(const ProcessHistory& h, int64_t start_ns, int64_t end_ns);

// The q-quantile (0..1, nearest rank) of the GC pauses (each sweep and mark
// termination a sample) of kept cycles that ended before `before_ns`, using
// at most the last `max_samples`; nullopt with fewer than `min_samples`.
std::optional<int64_t> PauseQuantileBefore(const ProcessHistory& h, int64_t before_ns, double q,
                                           size_t min_samples, size_t max_samples);

// y = intercept + slope * x, fitted by least squares; r2 is the share of
// y's variance the line explains (0 when y is constant).
struct LineFit {
  double slope = 0;
  double intercept = 0;
  double r2 = 0;
  size_t n = 0;
};
std::optional<LineFit> FitLine(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace gcpilot::detect
