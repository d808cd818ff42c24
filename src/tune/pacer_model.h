// PacerModel: the expected effect of new GC settings, from the Go pacer's
// steady-state model (Go 1.19+):
//   heap goal  = live x (1 + GOGC/100), lowered to the memory limit when one
//                is set (the runtime then collects to stay under it);
//   GC rate    ~ alloc rate / (goal - live)    (each cycle lets the heap grow
//                by goal - live before the next one starts);
//   GC CPU     ~ GC rate x CPU per cycle, where a cycle's cost (marking the
//                live heap) does not depend on GOGC; with a binding memory
//                limit the runtime's limiter caps GC CPU at about 50%.
// "Before" values are the measured ones where the window has them; "after"
// values scale them by the model's ratio, so the model's absolute error
// (stacks, globals, fragmentation) cancels. An estimate, to be checked by
// measuring the process after the change.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "analysis/window_stats.h"
#include "tune/recommendation.h"

namespace gcpilot::tune {

// The heap goal for a live heap under GOGC (-1 = off) and a memory limit
// (kNoMemoryLimit = none). With GOGC off and no limit: UINT64_MAX.
uint64_t HeapGoal(uint64_t live_bytes, int32_t gogc, int64_t memory_limit_bytes);

// The expected effect of moving from (gogc_before, limit_before) to
// (gogc_after, limit_after) for a process whose recent window is `w`.
// effect.known is false when `w` has no cycle or no live heap.
ExpectedEffect EstimateEffect(const WindowStats& w, int32_t gogc_before, int64_t limit_before,
                              int32_t gogc_after, int64_t limit_after);

// "12.3 MB" style (MiB, one decimal under 100).
std::string FormatBytes(uint64_t bytes);

}  // namespace gcpilot::tune
