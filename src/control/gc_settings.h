// GcSettings: what the agent tells a process's actuator to apply (GOGC and
// the memory limit), as the tuner decides it. The control API asks a hook
// (ControlApiDeps::gc_settings) for it per host pid; without a hook, or when
// the hook returns nullopt, the actuator is told not to apply anything.
// Thread-safety: plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace gcpilot::control {

struct GcSettings {
  int32_t gogc = 100;              // debug.SetGCPercent; -1 turns the GC off.
  int64_t memory_limit_bytes = 0;  // debug.SetMemoryLimit; <= 0: leave unchanged.
  std::string policy;              // The tuner policy that chose it.
  std::string reason;              // Why, in words.
  uint64_t revision = 0;           // Changes whenever the values change.
  bool apply = false;              // False: dry run, the actuator only reports.
};

}  // namespace gcpilot::control
