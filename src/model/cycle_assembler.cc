// Assembly of events into GcCycle / StwPause records (see the header).
#include "model/cycle_assembler.h"

#include <string>
#include <type_traits>

namespace gcpilot {

void CycleAssembler::Consume(const Event& event) {
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, ProcessSeen>) {
          StateFor(event.process);
          sink_->OnProcessSeen(event.process, p.info, event.ts_ns);
        } else if constexpr (std::is_same_v<T, ProcessExited>) {
          // A cycle in progress at exit (pacer lines but no "gc N" line yet)
          // is normal: the program simply ended first.
          state_.erase(event.process);
          sink_->OnProcessExited(event.process, p, event.ts_ns);
        } else if constexpr (std::is_same_v<T, GcCycleObserved>) {
          OnCycle(event, p.cycle);
        } else if constexpr (std::is_same_v<T, PacerStartObserved>) {
          StateFor(event.process).pacer_start = p.pacer;
        } else if constexpr (std::is_same_v<T, PacerEndObserved>) {
          StateFor(event.process).pacer_end = p.pacer;
        } else if constexpr (std::is_same_v<T, PacerSweepDoneObserved>) {
          StateFor(event.process).sweep_done = p.sweep;
        } else if constexpr (std::is_same_v<T, TimeTriggerObserved>) {
          StateFor(event.process).time_trigger_pending = true;
        } else if constexpr (std::is_same_v<T, StwObserved>) {
          sink_->OnPause(event.process, p.pause);
        } else if constexpr (std::is_same_v<T, InputProblem>) {
          sink_->OnProblem(event.process, p);
        }
      },
      event.payload);
}

void CycleAssembler::OnCycle(const Event& event, GcCycle cycle) {
  ProcessState& st = StateFor(event.process);
  if (cycle.source == EventSource::kUnknown) cycle.source = event.source;
  if (st.pacer_start && !cycle.pacer_start) cycle.pacer_start = st.pacer_start;
  if (st.pacer_end && !cycle.pacer_end) cycle.pacer_end = st.pacer_end;
  if (st.sweep_done && !cycle.prev_sweep_done) cycle.prev_sweep_done = st.sweep_done;
  if (cycle.trigger == GcTrigger::kUnknown) {
    cycle.trigger = st.time_trigger_pending ? GcTrigger::kTime : GcTrigger::kHeap;
  }
  st.pacer_start.reset();
  st.pacer_end.reset();
  st.sweep_done.reset();
  st.time_trigger_pending = false;

  if (st.have_previous && cycle.number > st.previous_number + 1) {
    uint64_t missing = cycle.number - st.previous_number - 1;
    sink_->OnProblem(event.process,
                     InputProblem{0,
                                  std::to_string(missing) + " GC cycle(s) missing before gc " +
                                      std::to_string(cycle.number) + " (lost trace lines?)",
                                  ""});
  }
  uint64_t base = st.have_previous ? st.previous_live_bytes : 0;
  cycle.allocated_bytes = cycle.heap_end_bytes > base ? cycle.heap_end_bytes - base : 0;
  st.have_previous = true;
  st.previous_number = cycle.number;
  st.previous_live_bytes = cycle.heap_live_bytes;
  sink_->OnCycle(event.process, cycle);
}

}  // namespace gcpilot
