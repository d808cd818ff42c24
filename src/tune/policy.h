// TunerPolicy: a named way to turn a process's measured GC behaviour into a
// GOGC / GOMEMLIMIT recommendation. Policies (see docs/serve.md "Tuner"):
//   pause-deviation  the seed's policy, kept faithfully (it moves GOGC by the
//                    mean pause's deviation from 5 ms; GOGC does not set
//                    pause length, so its reasoning says what it really
//                    trades: GC CPU for memory);
//   memory-headroom  target heap = a share of the cgroup memory limit (like
//                    Uber's GOGC tuner), bounded GOGC, hysteresis, backs off
//                    near the limit, GOMEMLIMIT ~90% of the limit;
//   node-pressure    memory pressure (PSI some avg10, or node memory use
//                    above 85%) makes it set a GOMEMLIMIT.
// A policy is stateless; what it remembers per process (hysteresis) is in
// PolicyState, owned by the caller.
// Thread-safety: policies are immutable after creation (const methods).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tune/recommendation.h"
#include "tune/tune_input.h"

namespace gcpilot::tune {

// Every knob, with the seed's numbers and the documented defaults.
struct TunerParams {
  // pause-deviation (the seed's).
  int64_t target_pause_ns = 5'000'000;
  double min_factor = 0.5;
  double max_factor = 2.0;
  int32_t pause_gogc_min = 25;
  int32_t pause_gogc_max = 200;
  double storm_factor = 0.8;  // Storm mode: GOGC x this, floor pause_gogc_min.
  double storm_alloc_bytes_per_sec = 50.0 * (1 << 20);
  double storm_gcs_per_10s = 8;
  uint64_t small_heap_bytes = 16ull << 20;  // Below: GOGC stays 100.
  // memory-headroom.
  double heap_share = 0.70;   // Target heap peak as a share of the cgroup limit.
  double limit_share = 0.90;  // GOMEMLIMIT as a share of the cgroup limit.
  int32_t headroom_gogc_min = 25;
  int32_t headroom_gogc_max = 500;
  // Live heap above this share of the cgroup limit: no GOMEMLIMIT can help.
  double spiral_share = 0.80;
  // Hysteresis (memory-headroom and node-pressure): move only when the
  // value changes by more than this share, and not more often than this.
  double hysteresis = 0.10;
  int64_t min_interval_ns = 30'000'000'000;
  // node-pressure.
  double psi_some_avg10_threshold = 10.0;  // Percent.
  double node_used_threshold = 0.85;
};

// OK when every knob is in range; InvalidArgument naming the knob otherwise.
Status ValidateParams(const TunerParams& p);

// What a policy remembers about one process between calls.
struct PolicyState {
  bool has_last = false;
  int32_t last_gogc = 100;
  int64_t last_memory_limit = kNoMemoryLimit;
  int64_t last_change_ns = 0;
  uint64_t revision = 0;
};

class TunerPolicy {
 public:
  virtual ~TunerPolicy() = default;
  virtual std::string_view name() const = 0;
  // One line: what the policy optimises.
  virtual std::string_view summary() const = 0;
  // The recommendation for `in` (validated by the caller), updating `state`.
  // Unavailable when the inputs the policy needs are missing (no cycle in
  // the window, no cgroup limit, no pressure reading), saying which.
  virtual StatusOr<Recommendation> Recommend(const TuneInput& in, PolicyState* state) const = 0;
};

// The policy called `name`, or InvalidArgument listing the known names.
StatusOr<std::unique_ptr<TunerPolicy>> MakePolicy(std::string_view name,
                                                  const TunerParams& params = {});
// "pause-deviation", "memory-headroom", "node-pressure".
const std::vector<std::string>& PolicyNames();

std::unique_ptr<TunerPolicy> MakePauseDeviationPolicy(const TunerParams& params);
std::unique_ptr<TunerPolicy> MakeMemoryHeadroomPolicy(const TunerParams& params);
std::unique_ptr<TunerPolicy> MakeNodePressurePolicy(const TunerParams& params);

// Helpers shared by the policies.
// The process's current GOGC (100 when unknown) and limit (none when unknown).
int32_t CurrentGogc(const TuneInput& in);
int64_t CurrentLimit(const TuneInput& in);
// "100" or "off"; "512.0 MB" or "none".
std::string GogcText(int32_t gogc);
std::string LimitText(int64_t limit);
// Fills gogc/limit/current/change/effect of `r`, and the revision from
// `state` (bumped when the values differ from the last recommendation).
void Finish(const TuneInput& in, int32_t gogc, int64_t limit, PolicyState* state,
            Recommendation* r);
// Hysteresis: true when moving from the last recommendation to (gogc,
// limit) must wait (change within `hysteresis`, or sooner than
// min_interval_ns after the last change). `urgent` moves (towards safety)
// skip the interval but not the size threshold. Explains in *why.
bool HoldBack(const TuneInput& in, const TunerParams& p, const PolicyState& state, int32_t gogc,
              int64_t limit, bool urgent, std::string* why);

}  // namespace gcpilot::tune
