// Helpers shared by the sliding-window tests: synthetic cycles and picking
// one view's windows out of an AdvanceTo result.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/window_stats.h"
#include "model/gc_cycle.h"

namespace gcpilot::testing_util {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;

// A cycle ending at end_ns with small pauses and the given allocation.
inline GcCycle CycleEndingAt(int64_t end_ns, uint64_t alloc_bytes = 0, int32_t procs = 4) {
  GcCycle c;
  c.sweep_term_ns = 50'000;
  c.mark_ns = 2 * kMs;
  c.mark_term_ns = 100'000;
  c.start_ns = end_ns - c.sweep_term_ns - c.mark_ns - c.mark_term_ns;
  c.allocated_bytes = alloc_bytes;
  c.gomaxprocs = procs;
  c.trigger = GcTrigger::kHeap;
  return c;
}

inline std::vector<WindowStats> OfView(const std::vector<WindowStats>& ws,
                                       const std::string& view) {
  std::vector<WindowStats> out;
  for (const WindowStats& w : ws) {
    if (w.view == view) out.push_back(w);
  }
  return out;
}

}  // namespace gcpilot::testing_util
