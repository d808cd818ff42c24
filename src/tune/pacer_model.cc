// PacerModel (see pacer_model.h): heap goal, GC rate and GC CPU estimates.
#include "tune/pacer_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tune/tune_input.h"

namespace gcpilot::tune {
namespace {

// The least heap growth a cycle is modelled to allow (the runtime's heap
// minimum is 4 MB x GOGC/100; below ~1 MB of room it collects back to back).
constexpr double kMinRoomBytes = 1 << 20;
// The runtime's GC CPU limiter (Go 1.19+): at most ~50% of CPU for GC when
// the memory limit forces collections.
constexpr double kLimiterShare = 0.5;

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), share < 0.1 ? "%.1f%%" : "%.0f%%", share * 100);
  return buf;
}

std::string Rate(double per_sec) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), per_sec < 10 ? "%.2f/s" : "%.0f/s", per_sec);
  return buf;
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  double mb = static_cast<double>(bytes) / (1 << 20);
  std::snprintf(buf, sizeof(buf), mb < 100 ? "%.1f MB" : "%.0f MB", mb);
  return buf;
}

uint64_t HeapGoal(uint64_t live_bytes, int32_t gogc, int64_t memory_limit_bytes) {
  double goal = gogc < 0 ? std::numeric_limits<double>::infinity()
                         : static_cast<double>(live_bytes) * (1.0 + gogc / 100.0);
  if (memory_limit_bytes != kNoMemoryLimit && memory_limit_bytes > 0) {
    // The runtime keeps the total under the limit; the heap gets what is
    // left, but never less than the live heap (it cannot free live data).
    goal = std::min(
        goal, std::max(static_cast<double>(memory_limit_bytes), static_cast<double>(live_bytes)));
  }
  if (!std::isfinite(goal) || goal >= 1.8e19) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(goal);
}

ExpectedEffect EstimateEffect(const WindowStats& w, int32_t gogc_before, int64_t limit_before,
                              int32_t gogc_after, int64_t limit_after) {
  ExpectedEffect e;
  const double live = static_cast<double>(w.heap_live_bytes);
  if (w.gc_cycles == 0 || w.heap_live_bytes == 0 || w.covered_ns <= 0) {
    e.text = "no GC cycle in the window: no effect to estimate";
    return e;
  }
  e.known = true;
  auto room = [&](uint64_t goal) {
    if (goal == std::numeric_limits<uint64_t>::max())
      return std::numeric_limits<double>::infinity();
    return std::max(static_cast<double>(goal) - live, kMinRoomBytes);
  };
  const uint64_t goal_before = HeapGoal(w.heap_live_bytes, gogc_before, limit_before);
  const uint64_t goal_after = HeapGoal(w.heap_live_bytes, gogc_after, limit_after);
  const double room_before = room(goal_before);
  const double room_after = room(goal_after);
  // Measured before; after scaled by the room ratio (GC rate ~ 1/room).
  e.gcs_per_sec_before = w.gcs_per_sec;
  e.gc_cpu_share_before = w.gc_cpu_share;
  const double ratio = std::isinf(room_after) ? 0 : room_before / room_after;
  e.gcs_per_sec_after = std::isinf(room_before) ? w.gcs_per_sec : w.gcs_per_sec * ratio;
  e.gc_cpu_share_after = std::isinf(room_before) ? w.gc_cpu_share : w.gc_cpu_share * ratio;
  e.limit_bound_after = limit_after != kNoMemoryLimit &&
                        goal_after < HeapGoal(w.heap_live_bytes, gogc_after, kNoMemoryLimit);
  if (e.limit_bound_after) e.gc_cpu_share_after = std::min(e.gc_cpu_share_after, kLimiterShare);
  e.heap_peak_bytes_before = w.heap_goal_bytes > 0 ? w.heap_goal_bytes : goal_before;
  if (goal_after == std::numeric_limits<uint64_t>::max()) {
    e.heap_peak_bytes_after = goal_after;
  } else if (w.heap_goal_bytes > 0 && goal_before != std::numeric_limits<uint64_t>::max() &&
             goal_before > 0) {
    // The measured goal carries what the model leaves out (stacks, globals).
    e.heap_peak_bytes_after = static_cast<uint64_t>(static_cast<double>(w.heap_goal_bytes) *
                                                    static_cast<double>(goal_after) / goal_before);
  } else {
    e.heap_peak_bytes_after = goal_after;
  }
  std::string peak_after = e.heap_peak_bytes_after == std::numeric_limits<uint64_t>::max()
                               ? "unbounded"
                               : "~" + FormatBytes(e.heap_peak_bytes_after);
  e.text = "GC CPU ~" + Percent(e.gc_cpu_share_before) + " -> ~" + Percent(e.gc_cpu_share_after) +
           ", GCs ~" + Rate(e.gcs_per_sec_before) + " -> ~" + Rate(e.gcs_per_sec_after) +
           ", heap peak ~" + FormatBytes(e.heap_peak_bytes_before) + " -> " + peak_after;
  if (e.limit_bound_after) e.text += " (the memory limit sets the goal; GC CPU capped ~50%)";
  e.text += " (pacer model, live heap " + FormatBytes(w.heap_live_bytes) + "; measure to confirm)";
  return e;
}

}  // namespace gcpilot::tune
