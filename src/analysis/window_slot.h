// WindowSlot: what the sliding-window engine accumulates for one slot (a
// fixed step of time), and, merged over consecutive slots, for one window.
// FillWindowStats turns a merged slot into the rates and shares of a
// WindowStats.
// Thread-safety: not thread-safe (plain data with helpers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "analysis/quantile_sketch.h"
#include "analysis/window_stats.h"
#include "model/gc_cycle.h"

namespace gcpilot {

// Heap state after the latest cycle seen (by end time).
struct HeapState {
  int64_t at_ns = std::numeric_limits<int64_t>::min();  // Cycle end; min() when none.
  uint64_t live_bytes = 0;
  uint64_t goal_bytes = 0;
  int32_t gomaxprocs = 0;  // Latest known (> 0) value; 0 when never known.

  bool valid() const { return at_ns != std::numeric_limits<int64_t>::min(); }
  // Keeps the later of the two states; gomaxprocs falls back to the other
  // state's when the later one does not know it.
  void MergeFrom(const HeapState& other);
};

struct WindowSlot {
  static constexpr int64_t kNoIndex = std::numeric_limits<int64_t>::min();
  // A reset slot keeps sketch arrays up to this many counters for reuse.
  static constexpr size_t kRetainedBuckets = 256;

  int64_t index = kNoIndex;  // Which slot of the time axis this holds.
  bool has_data = false;

  uint64_t gc_cycles = 0;
  uint64_t forced_cycles = 0;
  uint64_t alloc_bytes = 0;
  GcCpuSplit gc_cpu;
  int64_t mark_wall_ns = 0;
  QuantileSketch gc_pauses;
  QuantileSketch sweep_term_pauses;
  QuantileSketch mark_term_pauses;
  QuantileSketch other_stops;
  std::array<uint64_t, kStwReasonCount> other_stops_by_reason{};
  HeapState heap;

  // Empties the slot and makes it hold `new_index` (keeps small sketch
  // arrays for reuse).
  void Reset(int64_t new_index);
  // Counts the cycle, its pauses, CPU and heap state (not its mark wall time,
  // which the engine spreads over slots with AddMarkWall).
  void AddCycle(const GcCycle& cycle);
  void AddMarkWall(int64_t ns);
  // Counts a non-GC stop (the caller filters on StwKind::kOther).
  void AddOtherStop(const StwPause& pause);
  // Adds everything `other` holds (the index is left alone).
  void MergeFrom(const WindowSlot& other);
};

// Fills the counts, rates, shares and distributions of `out` from `merged`
// (the merge of the window's slots). Uses out->covered_ns as the wall time;
// `carry` supplies heap state and gomaxprocs when no cycle ended in the window.
void FillWindowStats(const WindowSlot& merged, const HeapState& carry, WindowStats* out);

}  // namespace gcpilot
