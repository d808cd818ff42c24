// SlidingWindows implementation: the slot ring, window emission (including
// forced emission before slots leave the ring and the time-jump rule) and
// the Current() view.
// Thread-safety: see sliding_windows.h.
#include "analysis/sliding_windows.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

namespace gcpilot {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

struct RingShape {
  int64_t slot_ns = 0;
  int64_t slots = 0;
};

// Slot length and ring size for already validated views.
RingShape ShapeFor(const std::vector<ViewSpec>& views) {
  int64_t slot = 0;
  int64_t max_window = 0;
  int64_t max_step = 0;
  for (const ViewSpec& v : views) {
    slot = std::gcd(slot, std::gcd(v.window_ns, v.step_ns));
    max_window = std::max(max_window, v.window_ns);
    max_step = std::max(max_step, v.step_ns);
  }
  const int64_t slack = std::max(SlidingWindows::kMinReorderSlackNs, max_step);
  RingShape shape;
  shape.slot_ns = slot;
  shape.slots = max_window / slot + (slack + slot - 1) / slot + 1;
  return shape;
}

}  // namespace

std::vector<ViewSpec> DefaultViews() {
  return {
      {"1s", 1'000'000'000, 500'000'000},
      {"10s", 10'000'000'000, 1'000'000'000},
      {"1m", 60'000'000'000, 5'000'000'000},
  };
}

Status SlidingWindows::ValidateViews(const std::vector<ViewSpec>& views) {
  if (views.empty()) return Status::InvalidArgument("no window views given");
  std::set<std::string> names;
  int64_t slot = 0;
  int64_t max_window = 0;
  int64_t max_step = 0;
  for (const ViewSpec& v : views) {
    if (v.name.empty()) return Status::InvalidArgument("a window view has an empty name");
    if (!names.insert(v.name).second) {
      return Status::InvalidArgument("window view \"" + v.name + "\" is given twice");
    }
    if (v.window_ns <= 0 || v.step_ns <= 0) {
      return Status::InvalidArgument("window view \"" + v.name +
                                     "\" needs a positive window and step");
    }
    slot = std::gcd(slot, std::gcd(v.window_ns, v.step_ns));
    max_window = std::max(max_window, v.window_ns);
    max_step = std::max(max_step, v.step_ns);
  }
  // Check the parts before adding them up, so huge values cannot overflow.
  const int64_t slack_slots = (std::max(kMinReorderSlackNs, max_step) + slot - 1) / slot;
  if (max_window / slot > kMaxRingSlots || slack_slots > kMaxRingSlots ||
      ShapeFor(views).slots > kMaxRingSlots) {
    return Status::InvalidArgument(
        "window views need a ring of more than " + std::to_string(kMaxRingSlots) + " slots of " +
        std::to_string(slot) + " ns (use windows and steps with a larger common divisor)");
  }
  return Status::Ok();
}

StatusOr<SlidingWindows> SlidingWindows::Create(std::vector<ViewSpec> views) {
  GCPILOT_RETURN_IF_ERROR(ValidateViews(views));
  return SlidingWindows(std::move(views));
}

SlidingWindows::SlidingWindows(std::vector<ViewSpec> views) {
  if (!ValidateViews(views).ok()) views = DefaultViews();
  specs_ = std::move(views);
  const RingShape shape = ShapeFor(specs_);
  slot_ns_ = shape.slot_ns;
  ring_.resize(static_cast<size_t>(shape.slots));
  for (const ViewSpec& spec : specs_) {
    View v;
    v.spec = spec;
    v.window_slots = spec.window_ns / slot_ns_;
    v.empty_run_limit = std::max<int64_t>(1, shape.slots * slot_ns_ / spec.step_ns);
    views_.push_back(std::move(v));
  }
}

void SlidingWindows::SetOrigin(int64_t origin_ns) {
  if (!has_origin_ || origin_ns < origin_ns_) origin_ns_ = origin_ns;
  has_origin_ = true;
}

void SlidingWindows::SeeTime(int64_t start_ns, int64_t end_ns) {
  SetOrigin(start_ns);
  if (!has_seen_ || end_ns > seen_until_ns_) seen_until_ns_ = end_ns;
  has_seen_ = true;
}

WindowSlot* SlidingWindows::SlotForRecord(int64_t t, int64_t seen_start, int64_t seen_end) {
  const int64_t n = static_cast<int64_t>(ring_.size());
  const int64_t index = FloorDiv(t, slot_ns_);
  if (has_head_ && index < head_ - n + 1) {
    ++late_dropped_;
    return nullptr;
  }
  if (has_emitted_ && t < max_emitted_end_ns_) ++late_after_emit_;
  SeeTime(seen_start, seen_end);
  AdvanceHead(index);
  WindowSlot& slot = ring_[static_cast<size_t>(FloorMod(index, n))];
  if (slot.index != index) slot.Reset(index);
  return &slot;
}

const WindowSlot* SlidingWindows::FindSlot(int64_t index) const {
  const WindowSlot& slot =
      ring_[static_cast<size_t>(FloorMod(index, static_cast<int64_t>(ring_.size())))];
  return slot.index == index && slot.has_data ? &slot : nullptr;
}

void SlidingWindows::AddCycle(const GcCycle& cycle) {
  const int64_t end = cycle.end_ns();
  WindowSlot* slot = SlotForRecord(end, cycle.start_ns, end);
  if (slot == nullptr) return;
  slot->AddCycle(cycle);

  // Spread the concurrent-mark wall time over the slots it overlaps (those
  // still in the ring).
  if (cycle.mark_ns <= 0) return;
  const int64_t n = static_cast<int64_t>(ring_.size());
  const int64_t mark_start = cycle.start_ns + cycle.sweep_term_ns;
  const int64_t mark_end = mark_start + cycle.mark_ns;
  const int64_t first = std::max(FloorDiv(mark_start, slot_ns_), head_ - n + 1);
  const int64_t last = std::min(FloorDiv(mark_end - 1, slot_ns_), head_);
  for (int64_t s = first; s <= last; ++s) {
    const int64_t overlap =
        std::min(mark_end, (s + 1) * slot_ns_) - std::max(mark_start, s * slot_ns_);
    if (overlap <= 0) continue;
    WindowSlot& target = ring_[static_cast<size_t>(FloorMod(s, n))];
    if (target.index != s) target.Reset(s);
    target.AddMarkWall(overlap);
  }
}

void SlidingWindows::AddPause(const StwPause& pause) {
  if (pause.kind != StwKind::kOther) return;
  WindowSlot* slot = SlotForRecord(pause.start_ns, pause.start_ns,
                                   pause.start_ns + std::max<int64_t>(pause.duration_ns, 0));
  if (slot != nullptr) slot->AddOtherStop(pause);
}

void SlidingWindows::AdvanceHead(int64_t index) {
  if (has_head_ && index <= head_) return;
  if (has_head_) {
    const int64_t n = static_cast<int64_t>(ring_.size());
    const int64_t new_base = index - n + 1;
    if (new_base > head_ - n + 1) {
      for (View& v : views_) EmitView(v, kInt64Max, new_base * slot_ns_, &pending_);
    }
  }
  has_head_ = true;
  head_ = index;
}

int64_t SlidingWindows::NextDataSlot(int64_t from) const {
  int64_t best = kInt64Max;
  for (const WindowSlot& slot : ring_) {
    if (slot.has_data && slot.index >= from && slot.index < best) best = slot.index;
  }
  return best;
}

void SlidingWindows::EmitView(View& view, int64_t limit_end, int64_t start_limit,
                              std::vector<WindowStats>* out) {
  if (!view.started) {
    if (!has_origin_) return;
    view.started = true;
    view.next_end_ns =
        FloorDiv(origin_ns_, view.spec.step_ns) * view.spec.step_ns + view.spec.step_ns;
  }
  const int64_t step = view.spec.step_ns;
  const int64_t window = view.spec.window_ns;
  // The last window end the limits allow.
  int64_t last_allowed = FloorDiv(limit_end, step) * step;
  if (start_limit != kInt64Max) {
    last_allowed = std::min(last_allowed, FloorDiv(start_limit + window - 1, step) * step);
  }
  while (view.next_end_ns <= last_allowed) {
    const int64_t end = view.next_end_ns;
    const int64_t start = end - window;
    // When this window holds no data, neither does any later one that ends
    // by the next slot with data: that run of empty windows is a time jump
    // if it is longer than the ring span.
    int64_t next_end = end + step;
    const int64_t data_slot = NextDataSlot(FloorDiv(start, slot_ns_));
    const int64_t data_ns = data_slot == kInt64Max ? kInt64Max : data_slot * slot_ns_;
    if (data_ns >= end) {
      const int64_t run_last = data_ns == kInt64Max
                                   ? last_allowed
                                   : std::min(last_allowed, FloorDiv(data_ns, step) * step);
      if ((run_last - end) / step + 1 > view.empty_run_limit) next_end = run_last + step;
    }
    HeapState heap;
    out->push_back(Compute(view, FloorDiv(start, slot_ns_), FloorDiv(end, slot_ns_) - 1, start, end,
                           view.carry, &heap));
    view.carry = heap;
    view.next_end_ns = next_end;
    const int64_t emitted_until = next_end - step;
    if (!has_emitted_ || emitted_until > max_emitted_end_ns_) max_emitted_end_ns_ = emitted_until;
    has_emitted_ = true;
  }
}

WindowStats SlidingWindows::Compute(const View& view, int64_t first_slot, int64_t last_slot,
                                    int64_t start_ns, int64_t end_ns, const HeapState& carry,
                                    HeapState* last) const {
  WindowSlot merged;
  for (int64_t s = first_slot; s <= last_slot; ++s) {
    if (const WindowSlot* slot = FindSlot(s)) merged.MergeFrom(*slot);
  }
  WindowStats w;
  w.view = view.spec.name;
  w.start_ns = start_ns;
  w.end_ns = end_ns;
  if (has_origin_) {
    w.covered_ns = std::max<int64_t>(0, end_ns - std::max(start_ns, origin_ns_));
    w.complete = start_ns >= origin_ns_;
  }
  FillWindowStats(merged, carry, &w);
  *last = carry;
  last->MergeFrom(merged.heap);
  return w;
}

std::vector<WindowStats> SlidingWindows::AdvanceTo(int64_t now_ns) {
  std::vector<WindowStats> out = std::move(pending_);
  pending_.clear();
  if (!has_now_ || now_ns > now_ns_) {
    has_now_ = true;
    now_ns_ = now_ns;
    SeeTime(now_ns, now_ns);
    for (View& v : views_) EmitView(v, now_ns, kInt64Max, &out);
    // Every window using a slot that leaves the ring has just been emitted,
    // so this emits nothing more; kept for safety.
    AdvanceHead(FloorDiv(now_ns, slot_ns_));
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
  }
  auto view_index = [this](const std::string& name) {
    for (size_t i = 0; i < specs_.size(); ++i) {
      if (specs_[i].name == name) return i;
    }
    return specs_.size();
  };
  std::stable_sort(out.begin(), out.end(), [&](const WindowStats& a, const WindowStats& b) {
    if (a.end_ns != b.end_ns) return a.end_ns < b.end_ns;
    return view_index(a.view) < view_index(b.view);
  });
  return out;
}

std::optional<WindowStats> SlidingWindows::Current(std::string_view view, int64_t now_ns) const {
  for (const View& v : views_) {
    if (v.spec.name != view) continue;
    const int64_t last_slot = FloorDiv(now_ns - 1, slot_ns_);
    const int64_t first_slot = last_slot - v.window_slots + 1;
    HeapState unused;
    return Compute(v, first_slot, last_slot, first_slot * slot_ns_, now_ns, v.carry, &unused);
  }
  return std::nullopt;
}

}  // namespace gcpilot
