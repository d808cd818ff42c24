// The seed's pause-deviation policy (policy.h), kept faithfully: every 5 s,
// factor = clamp(mean GC pause / 5 ms, 0.5, 2), GOGC = GOGC / factor,
// clamped to 25..200; in an allocation storm GOGC x 0.8 (floor 25); a heap
// under 16 MB keeps GOGC 100. GOGC does not set how long a stop of the world
// lasts, so the reasoning states what the change really trades.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tune/pacer_model.h"
#include "tune/policy.h"

namespace gcpilot::tune {
namespace {

std::string Ms(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f ms", ns / 1e6);
  return buf;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

class PauseDeviationPolicy final : public TunerPolicy {
 public:
  explicit PauseDeviationPolicy(const TunerParams& p) : p_(p) {}
  std::string_view name() const override { return "pause-deviation"; }
  std::string_view summary() const override {
    return "the seed's policy: GOGC moved by the mean pause's deviation from the target pause";
  }

  StatusOr<Recommendation> Recommend(const TuneInput& in, PolicyState* state) const override {
    const WindowStats& w = in.window;
    if (w.gc_cycles == 0 || w.gc_pauses.count == 0) {
      return Status::Unavailable("pause-deviation: no GC cycle of pid " +
                                 std::to_string(in.process.pid) + " in the last " +
                                 std::to_string(w.covered_ns / 1'000'000'000) +
                                 " s: no pause to measure");
    }
    Recommendation r;
    r.policy = std::string(name());
    int32_t base = CurrentGogc(in);
    std::string why;
    if (base < 0) {
      why += "GOGC is off; the policy starts from 100. ";
      base = 100;
    }
    int32_t gogc = base;
    const double pause_per_gc = w.gc_pauses.sum / static_cast<double>(w.gc_cycles);
    const bool storm = w.alloc_bytes_per_sec > p_.storm_alloc_bytes_per_sec ||
                       w.gcs_per_sec * 10 >= p_.storm_gcs_per_10s;
    if (w.heap_live_bytes < p_.small_heap_bytes) {
      gogc = 100;
      why += "Live heap " + FormatBytes(w.heap_live_bytes) + " is under " +
             FormatBytes(p_.small_heap_bytes) + ": the seed keeps GOGC 100 for small heaps.";
    } else {
      const double raw = pause_per_gc / static_cast<double>(p_.target_pause_ns);
      const double factor = std::clamp(raw, p_.min_factor, p_.max_factor);
      gogc = std::clamp(static_cast<int32_t>(std::lround(base / factor)), p_.pause_gogc_min,
                        p_.pause_gogc_max);
      why += "Seed's rule: mean STW pause per GC " + Ms(pause_per_gc) + " over " +
             std::to_string(w.gc_cycles) + " cycles vs target " +
             Ms(static_cast<double>(p_.target_pause_ns)) + " -> factor clamp(" + Num(raw) + ", " +
             Num(p_.min_factor) + ", " + Num(p_.max_factor) + ") = " + Num(factor) + " -> GOGC " +
             std::to_string(base) + " / " + Num(factor) + " = " + std::to_string(gogc) +
             " (bounded " + std::to_string(p_.pause_gogc_min) + ".." +
             std::to_string(p_.pause_gogc_max) + ").";
      if (storm) {
        int32_t before = gogc;
        gogc =
            std::max(p_.pause_gogc_min, static_cast<int32_t>(std::lround(gogc * p_.storm_factor)));
        char buf[160];
        std::snprintf(buf, sizeof(buf),
                      " Allocation storm (%.1f MB/s, %.1f GCs per 10 s): storm mode GOGC %d x "
                      "%.2f = %d.",
                      w.alloc_bytes_per_sec / (1 << 20), w.gcs_per_sec * 10, before,
                      p_.storm_factor, gogc);
        why += buf;
      }
    }
    why +=
        " What this really does: GOGC does not shorten stop-the-world pauses (their length is "
        "set by stopping the goroutines and finishing the mark, not by the heap size); it "
        "trades GC CPU for memory: " +
        std::string(gogc > base   ? "raising GOGC makes GCs rarer (less GC CPU) and the heap "
                                    "peak larger"
                    : gogc < base ? "lowering GOGC makes GCs more frequent (more GC CPU) and the "
                                    "heap peak smaller"
                                  : "GOGC stays, nothing changes") +
        ". The effect below is a pacer-model estimate; it is measured, not assumed (watch the "
        "process after applying).";
    r.reason = why;
    Finish(in, gogc, CurrentLimit(in), state, &r);
    return r;
  }

 private:
  TunerParams p_;
};

}  // namespace

std::unique_ptr<TunerPolicy> MakePauseDeviationPolicy(const TunerParams& params) {
  return std::make_unique<PauseDeviationPolicy>(params);
}

}  // namespace gcpilot::tune
