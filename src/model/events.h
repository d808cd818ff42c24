// The versioned event schema: what every source (gctrace, eBPF, scrape,
// replay) emits. Sources translate; the model layer (CycleAssembler) turns
// events into GcCycle / StwPause records; analysis never sees raw events.
//
// Bump kEventSchemaVersion when a field changes meaning or is removed;
// adding an optional field keeps the version. The JSON-lines form of these
// events (event_json.h) is the recorded-stream format the replay source reads.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "model/gc_cycle.h"

namespace gcpilot {

inline constexpr int kEventSchemaVersion = 1;

// Identifies one process for its lifetime. `generation` tells apart two
// processes that had the same pid (pid reuse, or a log holding several runs
// of a service: the GC counter restarting at 1 starts a new generation).
struct ProcessKey {
  int32_t pid = 0;  // 0 when unknown (e.g. a log read from stdin).
  uint32_t generation = 0;

  friend bool operator==(const ProcessKey&, const ProcessKey&) = default;
  friend auto operator<=>(const ProcessKey&, const ProcessKey&) = default;
};

struct ProcessInfo {
  std::string comm;        // Short command name.
  std::string exe;         // Binary path, if known.
  std::string go_version;  // e.g. "go1.22.12", if known.
  std::string container;   // Container id, if any.
  int32_t gomaxprocs = 0;  // 0 when unknown.
};

// A process was first seen (started, attached to, or first line of a log).
struct ProcessSeen {
  ProcessInfo info;
};

// A process ended. exit_code is valid when signal == 0 and !exec. `exec`:
// the process did not end but replaced its program (execve), so this
// program's stream ends here; exit code and signal are then 0.
struct ProcessExited {
  int32_t exit_code = 0;
  int32_t signal = 0;
  bool exec = false;
};

// A complete GC cycle as the runtime reported it (gctrace line, or a cycle the
// eBPF source read from the runtime's bookkeeping).
struct GcCycleObserved {
  GcCycle cycle;
};

// Pacer trace lines, which the runtime prints before the cycle's `gc N` line.
struct PacerStartObserved {
  PacerStart pacer;
};
struct PacerEndObserved {
  PacerEnd pacer;
};
struct PacerSweepDoneObserved {
  PacerSweepDone sweep;
};

// The runtime announced a periodic (time-triggered) GC ("GC forced").
struct TimeTriggerObserved {};

// A single stop-the-world pause.
struct StwObserved {
  StwPause pause;
};

// The source met input it could not use (a malformed trace line, a dropped
// event). Counted and reported, never silently lost.
struct InputProblem {
  uint64_t line_number = 0;  // 0 when not line-based.
  std::string problem;       // What was wrong.
  std::string excerpt;       // The start of the offending input.
};

using EventPayload =
    std::variant<ProcessSeen, ProcessExited, GcCycleObserved, PacerStartObserved, PacerEndObserved,
                 PacerSweepDoneObserved, TimeTriggerObserved, StwObserved, InputProblem>;

struct Event {
  int64_t ts_ns = 0;  // When it happened, on the process's time axis.
  ProcessKey process;
  EventSource source = EventSource::kUnknown;
  EventPayload payload;
};

}  // namespace gcpilot
