// StopStack: the goroutine stack that asked for one non-GC stop of the
// world (ReadMemStats, GoroutineProfile, GOMAXPROCS...), as the eBPF source
// captures it while a detector investigates observer-induced stops:
// symbolised function names, innermost first.
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/gc_cycle.h"

namespace gcpilot {

struct StopStack {
  int64_t ts_ns = 0;  // CLOCK_MONOTONIC, when the stop was asked for.
  StwReason reason = StwReason::kUnknown;
  // "runtime.ReadMemStats", "main.(*stopper).run", ...; a PC no function
  // covers is "0x4a5b6c". The runtime.stopTheWorld frame itself is left out.
  std::vector<std::string> frames;
  uint32_t capture_ns = 0;  // What taking the stack cost the probe.
};

}  // namespace gcpilot
