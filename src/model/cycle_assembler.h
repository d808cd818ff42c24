// CycleAssembler: turns the event stream of any source into GC cycle and
// stop-the-world records, per process.
//
// What it assembles today:
//  - pacer lines (start / end / sweep done), which the runtime prints before
//    the cycle's own "gc N" line, are attached to that next cycle of the same
//    process (and dropped if the process exits mid-cycle, which is normal);
//  - the trigger: "(forced)" -> forced; a preceding "GC forced" notice -> time;
//    otherwise heap (sources that know the trigger set it themselves);
//  - allocated_bytes: heap at mark end minus the previous cycle's live heap;
//  - gaps in the runtime's cycle numbers are reported as problems (lost lines
//    or events), never silently absorbed.
// The eBPF source (per-stop events) plugs in here without analysis changing.
// Thread-safety: not thread-safe; feed it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "model/events.h"
#include "model/model_sink.h"

namespace gcpilot {

class CycleAssembler {
 public:
  explicit CycleAssembler(ModelSink* sink) : sink_(sink) {}

  void Consume(const Event& event);

  // Processes currently known (seen and not exited).
  size_t live_processes() const { return state_.size(); }

 private:
  struct ProcessState {
    std::optional<PacerStart> pacer_start;
    std::optional<PacerEnd> pacer_end;
    std::optional<PacerSweepDone> sweep_done;
    bool time_trigger_pending = false;
    bool have_previous = false;
    uint64_t previous_number = 0;
    uint64_t previous_live_bytes = 0;
  };

  void OnCycle(const Event& event, GcCycle cycle);
  ProcessState& StateFor(const ProcessKey& key) { return state_[key]; }

  ModelSink* sink_;
  std::map<ProcessKey, ProcessState> state_;
};

}  // namespace gcpilot
