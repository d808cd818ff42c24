// WindowSlot accumulation and the window-level rate/share arithmetic.
// Thread-safety: see window_slot.h.
#include "analysis/window_slot.h"

#include <algorithm>
#include <cassert>

namespace gcpilot {
namespace {

void MergeSketch(const QuantileSketch& from, QuantileSketch* into) {
  if (from.empty() && from.rejected_count() == 0) return;
  [[maybe_unused]] const Status st = into->Merge(from);
  assert(st.ok());  // Every slot sketch uses the same parameters.
}

void AddCpu(const GcCpuSplit& from, GcCpuSplit* into) {
  into->sweep_term_ns += from.sweep_term_ns;
  into->assist_ns += from.assist_ns;
  into->background_ns += from.background_ns;
  into->idle_ns += from.idle_ns;
  into->mark_term_ns += from.mark_term_ns;
}

double Ratio(double num, double den) { return den > 0 ? num / den : 0; }

}  // namespace

void HeapState::MergeFrom(const HeapState& other) {
  if (!other.valid()) return;
  if (!valid() || other.at_ns >= at_ns) {
    const int32_t previous_procs = gomaxprocs;
    *this = other;
    if (gomaxprocs <= 0) gomaxprocs = previous_procs;
  } else if (gomaxprocs <= 0) {
    gomaxprocs = other.gomaxprocs;
  }
}

namespace {

// Clears a reused slot's sketch; one that grew wide (unusual) gives its memory
// back, so a ring keeps only what typical slots need.
void ResetSketch(QuantileSketch* sketch) {
  if (sketch->allocated_buckets() > WindowSlot::kRetainedBuckets) {
    *sketch = QuantileSketch();
  } else {
    sketch->Clear();
  }
}

}  // namespace

void WindowSlot::Reset(int64_t new_index) {
  index = new_index;
  has_data = false;
  gc_cycles = forced_cycles = alloc_bytes = 0;
  gc_cpu = GcCpuSplit{};
  mark_wall_ns = 0;
  ResetSketch(&gc_pauses);
  ResetSketch(&sweep_term_pauses);
  ResetSketch(&mark_term_pauses);
  ResetSketch(&other_stops);
  other_stops_by_reason.fill(0);
  heap = HeapState{};
}

void WindowSlot::AddCycle(const GcCycle& cycle) {
  has_data = true;
  ++gc_cycles;
  if (cycle.forced()) ++forced_cycles;
  alloc_bytes += cycle.allocated_bytes;
  AddCpu(cycle.cpu, &gc_cpu);
  const auto sweep = static_cast<double>(cycle.sweep_term_ns);
  const auto mark_term = static_cast<double>(cycle.mark_term_ns);
  gc_pauses.Add(sweep);
  gc_pauses.Add(mark_term);
  sweep_term_pauses.Add(sweep);
  mark_term_pauses.Add(mark_term);
  HeapState state;
  state.at_ns = cycle.end_ns();
  state.live_bytes = cycle.heap_live_bytes;
  state.goal_bytes = cycle.heap_goal_bytes;
  state.gomaxprocs = cycle.gomaxprocs;
  heap.MergeFrom(state);
}

void WindowSlot::AddMarkWall(int64_t ns) {
  if (ns <= 0) return;
  has_data = true;
  mark_wall_ns += ns;
}

void WindowSlot::AddOtherStop(const StwPause& pause) {
  has_data = true;
  other_stops.Add(static_cast<double>(pause.duration_ns));
  auto reason = static_cast<size_t>(pause.reason);
  if (reason >= other_stops_by_reason.size()) reason = 0;  // kUnknown.
  ++other_stops_by_reason[reason];
}

void WindowSlot::MergeFrom(const WindowSlot& other) {
  if (!other.has_data) return;
  has_data = true;
  gc_cycles += other.gc_cycles;
  forced_cycles += other.forced_cycles;
  alloc_bytes += other.alloc_bytes;
  AddCpu(other.gc_cpu, &gc_cpu);
  mark_wall_ns += other.mark_wall_ns;
  MergeSketch(other.gc_pauses, &gc_pauses);
  MergeSketch(other.sweep_term_pauses, &sweep_term_pauses);
  MergeSketch(other.mark_term_pauses, &mark_term_pauses);
  MergeSketch(other.other_stops, &other_stops);
  for (size_t i = 0; i < other_stops_by_reason.size(); ++i) {
    other_stops_by_reason[i] += other.other_stops_by_reason[i];
  }
  heap.MergeFrom(other.heap);
}

void FillWindowStats(const WindowSlot& merged, const HeapState& carry, WindowStats* out) {
  const double wall_s = static_cast<double>(out->covered_ns) / 1e9;
  out->gc_cycles = merged.gc_cycles;
  out->forced_cycles = merged.forced_cycles;
  out->gcs_per_sec = Ratio(static_cast<double>(merged.gc_cycles), wall_s);
  out->alloc_bytes = merged.alloc_bytes;
  out->alloc_bytes_per_sec = Ratio(static_cast<double>(merged.alloc_bytes), wall_s);

  HeapState heap = carry;
  heap.MergeFrom(merged.heap);
  out->heap_live_bytes = heap.live_bytes;
  out->heap_goal_bytes = heap.goal_bytes;
  out->gomaxprocs = heap.gomaxprocs;

  out->gc_cpu = merged.gc_cpu;
  const auto gc_cpu = static_cast<double>(merged.gc_cpu.TotalExcludingIdle());
  out->gc_cpu_share =
      Ratio(gc_cpu, static_cast<double>(out->covered_ns) * static_cast<double>(heap.gomaxprocs));
  out->assist_share_of_gc_cpu = Ratio(static_cast<double>(merged.gc_cpu.assist_ns), gc_cpu);
  out->mark_wall_ns = merged.mark_wall_ns;
  out->mark_wall_share = std::clamp(
      Ratio(static_cast<double>(merged.mark_wall_ns), static_cast<double>(out->covered_ns)), 0.0,
      1.0);

  out->gc_pauses = SummarizeSketch(merged.gc_pauses);
  out->sweep_term_pauses = SummarizeSketch(merged.sweep_term_pauses);
  out->mark_term_pauses = SummarizeSketch(merged.mark_term_pauses);
  out->other_stops = SummarizeSketch(merged.other_stops);
  out->other_stops_by_reason = merged.other_stops_by_reason;
}

}  // namespace gcpilot
