// The memory-headroom policy (policy.h), after Uber's GOGC tuner: the heap
// may peak at heap_share (70%) of the cgroup memory limit, so
//   GOGC = (heap_share x limit / live - 1) x 100, bounded 25..500,
// and GOMEMLIMIT = limit_share (90%) of the limit, never below the live
// heap. Near the limit it backs off (GOGC at its floor; past spiral_share
// of the limit no GOMEMLIMIT is set, because one at or under the live heap
// makes the GC run back to back: the death spiral). Hysteresis: moves only
// when the value changes by > 10%, at most every 30 s (backing off is not
// delayed).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tune/pacer_model.h"
#include "tune/policy.h"

namespace gcpilot::tune {
namespace {

std::string Pct(double share) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.0f%%", share * 100);
  return buf;
}

class MemoryHeadroomPolicy final : public TunerPolicy {
 public:
  explicit MemoryHeadroomPolicy(const TunerParams& p) : p_(p) {}
  std::string_view name() const override { return "memory-headroom"; }
  std::string_view summary() const override {
    return "heap peak at a share of the cgroup memory limit (bounded GOGC, GOMEMLIMIT ~90% of "
           "the limit, no oscillation)";
  }

  StatusOr<Recommendation> Recommend(const TuneInput& in, PolicyState* state) const override {
    const std::string pid = std::to_string(in.process.pid);
    if (!in.cgroup) {
      return Status::Unavailable("memory-headroom: the memory cgroup of pid " + pid +
                                 " is unknown" +
                                 (in.cgroup_error.empty() ? "" : " (" + in.cgroup_error + ")") +
                                 "; use --policy node-pressure or pause-deviation");
    }
    if (!in.cgroup->limit_bytes) {
      return Status::Unavailable("memory-headroom: pid " + pid + "'s cgroup " + in.cgroup->path +
                                 " (and its parents) has no memory limit; nothing to keep "
                                 "headroom against (use --policy node-pressure)");
    }
    const WindowStats& w = in.window;
    if (w.heap_live_bytes == 0) {
      return Status::Unavailable("memory-headroom: no GC cycle of pid " + pid +
                                 " seen yet: the live heap is unknown");
    }
    const double limit = static_cast<double>(*in.cgroup->limit_bytes);
    const double live = static_cast<double>(w.heap_live_bytes);
    const double target = p_.heap_share * limit;
    const int64_t memlimit = static_cast<int64_t>(p_.limit_share * limit);
    Recommendation r;
    r.policy = std::string(name());
    int32_t gogc = 0;
    int64_t new_limit = memlimit;
    bool urgent = false;
    std::string why = "Cgroup limit " + FormatBytes(*in.cgroup->limit_bytes) + " (" +
                      in.cgroup->limit_file + "), live heap " + FormatBytes(w.heap_live_bytes) +
                      " (" + Pct(live / limit) + " of the limit). ";
    if (live >= p_.spiral_share * limit) {
      // Death-spiral zone: any limit near the live heap makes the GC run
      // back to back; keep the heap as small as GOGC can, set no limit
      // below the live heap.
      gogc = p_.headroom_gogc_min;
      const int64_t current = CurrentLimit(in);
      new_limit = current != kNoMemoryLimit && static_cast<double>(current) > live * 1.1
                      ? current
                      : kNoMemoryLimit;
      urgent = true;
      why += "The live heap is above " + Pct(p_.spiral_share) +
             " of the limit: a GOMEMLIMIT at or under the live heap would make the GC run back "
             "to back (the death spiral), so none is set below it; GOGC at its floor " +
             std::to_string(gogc) +
             " keeps the heap as small as GOGC can. The real fix is more memory for the "
             "container or less live data.";
    } else {
      const double raw = (target / live - 1.0) * 100.0;
      gogc =
          static_cast<int32_t>(std::clamp(std::lround(raw), static_cast<long>(p_.headroom_gogc_min),
                                          static_cast<long>(p_.headroom_gogc_max)));
      char buf[200];
      std::snprintf(buf, sizeof(buf),
                    "Target heap peak %s = %s of the limit -> GOGC = (%s / %s - 1) x 100 = %.0f, "
                    "bounded %d..%d -> %d. ",
                    FormatBytes(static_cast<uint64_t>(target)).c_str(), Pct(p_.heap_share).c_str(),
                    FormatBytes(static_cast<uint64_t>(target)).c_str(),
                    FormatBytes(w.heap_live_bytes).c_str(), raw, p_.headroom_gogc_min,
                    p_.headroom_gogc_max, gogc);
      why += buf;
      if (raw < p_.headroom_gogc_min) {
        urgent = true;
        why += "Backing off: the live heap leaves less headroom than GOGC " +
               std::to_string(p_.headroom_gogc_min) +
               " needs, so GOGC stays at its floor and GOMEMLIMIT makes the runtime collect "
               "harder only as the total nears the limit (its limiter caps GC CPU at ~50% "
               "instead of spiralling). ";
      }
      why += "GOMEMLIMIT " + FormatBytes(static_cast<uint64_t>(memlimit)) + " = " +
             Pct(p_.limit_share) +
             " of the limit: a soft ceiling under the OOM killer's hard one. Raising GOGC "
             "spends the headroom on fewer GCs (less GC CPU); lowering it buys memory with GC "
             "CPU; pauses do not change.";
    }
    if (urgent && gogc > state->last_gogc) urgent = false;  // Only backing off is urgent.
    std::string held;
    if (HoldBack(in, p_, *state, gogc, new_limit, urgent, &held)) {
      r.held = true;
      why += " Computed GOGC " + GogcText(gogc) + ", GOMEMLIMIT " + LimitText(new_limit) + "; " +
             held + ".";
      gogc = state->last_gogc;
      new_limit = state->last_memory_limit;
    }
    r.reason = why + " Effect: a pacer-model estimate; measured after applying, not assumed.";
    Finish(in, gogc, new_limit, state, &r);
    return r;
  }

 private:
  TunerParams p_;
};

}  // namespace

std::unique_ptr<TunerPolicy> MakeMemoryHeadroomPolicy(const TunerParams& params) {
  return std::make_unique<MemoryHeadroomPolicy>(params);
}

}  // namespace gcpilot::tune
