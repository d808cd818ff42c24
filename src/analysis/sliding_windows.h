// SlidingWindows: the per-process sliding-window engine. It turns a process's
// GcCycle and StwPause records into WindowStats for several views (window
// length + step), e.g. "1s" windows every 500 ms.
//
// Time: records carry times on the process's own axis (CLOCK_MONOTONIC for
// live sources, time since process start for logs); the engine assumes
// neither and never reads a clock: the caller passes "now" to AdvanceTo and
// Current (from a gcpilot::Clock, or the replay position).
//
// Slots: the axis is cut into slots of slot_ns() = the gcd of every view's
// window and step (500 ms for the defaults), aligned to multiples of slot_ns().
// All views share ONE ring of slots covering the longest window plus a reorder
// slack of max(2 s, longest step), so memory is bounded whatever the input:
// 131 slots with the defaults, ~110 KB of fixed state plus the counter arrays
// of the slots' four quantile sketches (typically < 1 KB per slot with data;
// reused slots keep at most 4 x 256 counters; the pathological worst case,
// every slot holding pauses spread over many decades, is ~9 MB).
// A cycle belongs to the slot of its end_ns() (its concurrent-mark wall time
// is spread over the slots it overlaps); a non-GC stop belongs to the slot of
// its start_ns.
//
// Windows: a view's windows end on multiples of its step and are
// [end - window, end). Emitting one costs O(ring slots).
//
// Late and out-of-order records: a record for a slot still in the ring is
// counted, whatever the order. A record older than the ring is dropped and
// counted in late_dropped(); a record that lands in time a view has already
// emitted a window for is still counted (later and longer windows include it)
// and counted in late_after_emit(). Nothing is lost silently. A source that
// reorders should advance to (now - its reorder delay).
//
// Thread-safety: not thread-safe; one instance per process, fed from one
// thread. Const methods may be called concurrently with each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/window_slot.h"
#include "analysis/window_stats.h"
#include "core/status.h"
#include "model/gc_cycle.h"

namespace gcpilot {

struct ViewSpec {
  std::string name;
  int64_t window_ns = 0;
  int64_t step_ns = 0;
};

// "1s": 1 s windows every 500 ms (the seed's window), "10s": 10 s every 1 s,
// "1m": 60 s every 5 s.
std::vector<ViewSpec> DefaultViews();

class SlidingWindows {
 public:
  // The most slots the ring may hold (the views are rejected beyond it).
  static constexpr int64_t kMaxRingSlots = 1 << 14;
  // Least reorder slack the ring keeps beyond the longest window.
  static constexpr int64_t kMinReorderSlackNs = 2'000'000'000;

  // OK when `views` is non-empty, names are non-empty and unique, windows and
  // steps are positive, and the ring they need has at most kMaxRingSlots
  // slots; InvalidArgument naming the problem otherwise.
  static Status ValidateViews(const std::vector<ViewSpec>& views);
  // An engine for `views`, or the ValidateViews error.
  static StatusOr<SlidingWindows> Create(std::vector<ViewSpec> views);

  // An engine for `views`. Views that fail ValidateViews are replaced by
  // DefaultViews() (use Create() to get the error instead).
  explicit SlidingWindows(std::vector<ViewSpec> views = DefaultViews());

  // Declares that observation started at origin_ns (e.g. 0 for a log, the
  // attach time for a live process). Without it the origin is the earliest
  // time seen (records and AdvanceTo). Windows starting before the origin are
  // incomplete; windows ending at or before it are never emitted. May only
  // move the origin earlier.
  void SetOrigin(int64_t origin_ns);

  void AddCycle(const GcCycle& cycle);
  // Only stops of kind StwKind::kOther are counted: GC stops (sweep / mark
  // termination) are counted from their GcCycle, so sources that report both
  // are not double counted.
  void AddPause(const StwPause& pause);

  // Returns every window whose end is in (previous now, now_ns] for every
  // view, ordered by end time (views in their given order on ties), plus any
  // windows records forced out early (see below). Calls with a time earlier
  // than a previous one only return such forced windows.
  //
  // Forced windows: a record far ahead of now moves the ring forward; windows
  // whose slots would leave the ring are computed first and returned by the
  // next AdvanceTo, so feeding a whole log and then calling AdvanceTo once
  // still yields every window.
  //
  // Time jumps: when a run of consecutive due windows of a view holds no
  // data (no slot in their range has a record) and the run is longer than the
  // ring span, only the first window of the run is emitted and the rest are
  // skipped; so a jump of hours emits the windows that can hold data plus one
  // empty window per gap, not millions. Shorter gaps (e.g. a caller that
  // polls every few seconds, or an idle process) are emitted window by window.
  std::vector<WindowStats> AdvanceTo(int64_t now_ns);

  // The window of `view` ending at now_ns: the slots from now_ns - window up
  // to now_ns, the last one partial (start_ns is slot aligned, end_ns is
  // now_ns). Rates use the covered part. nullopt for an unknown view.
  std::optional<WindowStats> Current(std::string_view view, int64_t now_ns) const;

  const std::vector<ViewSpec>& views() const { return specs_; }
  int64_t slot_ns() const { return slot_ns_; }
  int64_t ring_slots() const { return static_cast<int64_t>(ring_.size()); }
  uint64_t late_dropped() const { return late_dropped_; }
  uint64_t late_after_emit() const { return late_after_emit_; }

 private:
  struct View {
    ViewSpec spec;
    int64_t window_slots = 0;
    int64_t empty_run_limit = 0;  // Windows that fit in the ring span.
    bool started = false;
    int64_t next_end_ns = 0;  // End of the next window to emit.
    HeapState carry;          // Heap state as of the last emitted window.
  };

  // Returns the slot for a record at time t that covers [seen_start,
  // seen_end], or nullptr when t is older than the ring (counted as a late
  // drop). Moves the ring forward when t is ahead.
  WindowSlot* SlotForRecord(int64_t t, int64_t seen_start, int64_t seen_end);
  const WindowSlot* FindSlot(int64_t index) const;
  void SeeTime(int64_t start_ns, int64_t end_ns);
  // Moves the ring head to `index`, first emitting into pending_ every window
  // that needs a slot about to leave the ring.
  void AdvanceHead(int64_t index);
  // Emits windows of `view` in order while end <= limit_end and start <
  // start_limit.
  void EmitView(View& view, int64_t limit_end, int64_t start_limit, std::vector<WindowStats>* out);
  // The window [start_ns, end_ns) made of slots [first_slot, last_slot];
  // *last receives the heap state as of its end.
  WindowStats Compute(const View& view, int64_t first_slot, int64_t last_slot, int64_t start_ns,
                      int64_t end_ns, const HeapState& carry, HeapState* last) const;
  // The lowest slot index >= from that holds data, or INT64_MAX. O(ring).
  int64_t NextDataSlot(int64_t from) const;

  std::vector<ViewSpec> specs_;
  std::vector<View> views_;
  int64_t slot_ns_ = 0;
  std::vector<WindowSlot> ring_;

  bool has_head_ = false;
  int64_t head_ = 0;  // Highest slot index time has reached.
  bool has_origin_ = false;
  int64_t origin_ns_ = 0;
  bool has_seen_ = false;
  int64_t seen_until_ns_ = 0;  // Latest time seen (records and AdvanceTo).
  bool has_now_ = false;
  int64_t now_ns_ = 0;  // Latest AdvanceTo time.
  bool has_emitted_ = false;
  int64_t max_emitted_end_ns_ = 0;

  std::vector<WindowStats> pending_;
  uint64_t late_dropped_ = 0;
  uint64_t late_after_emit_ = 0;
};

}  // namespace gcpilot
