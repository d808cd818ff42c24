// Recommendation: what a tuner policy advises for one process (GOGC and
// GOMEMLIMIT), why, and what it expects that to change (an estimate from
// the Go pacer's model, see pacer_model.h; the real effect is measured after
// applying it, never assumed).
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>

namespace gcpilot::tune {

struct ExpectedEffect {
  bool known = false;              // False when the window had no cycle to model from.
  double gc_cpu_share_before = 0;  // GC CPU / (wall x GOMAXPROCS).
  double gc_cpu_share_after = 0;
  double gcs_per_sec_before = 0;
  double gcs_per_sec_after = 0;
  uint64_t heap_peak_bytes_before = 0;  // Heap goal: the heap's peak between GCs.
  uint64_t heap_peak_bytes_after = 0;
  // True when the memory limit, not GOGC, sets the heap goal after the change.
  bool limit_bound_after = false;
  std::string text;  // "GC CPU ~3.1% -> ~1.6%, GCs ~2.0/s -> ~1.0/s, heap peak ~12 -> ~24 MB".
};

struct Recommendation {
  std::string policy;
  int32_t gogc = 100;              // -1 = off.
  int64_t memory_limit_bytes = 0;  // kNoMemoryLimit = none.
  int32_t current_gogc = 100;      // What the process runs with now.
  int64_t current_memory_limit_bytes = 0;
  bool change = false;  // gogc or memory_limit_bytes differ from the current ones.
  // Hysteresis kept the previous recommendation (the computed one is in
  // `reason`).
  bool held = false;
  std::string reason;  // The reasoning, in sentences a Go developer acts on.
  ExpectedEffect effect;
  uint64_t revision = 0;  // Increases each time the recommended values change.
};

}  // namespace gcpilot::tune
