// Assembled records as event JSON lines (see the header).
#include "cli/event_line_sink.h"

#include "model/event_json.h"

namespace gcpilot::cli {

void EventLineSink::Write(const Event& e) {
  last_ts_ns_ = e.ts_ns;
  std::fprintf(out_, "%s\n", EventToJsonLine(e).c_str());
}

void EventLineSink::OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) {
  Write(Event{ts_ns, p, source_, ProcessSeen{info}});
}

void EventLineSink::OnCycle(const ProcessKey& p, const GcCycle& cycle) {
  Write(Event{cycle.end_ns(), p, source_, GcCycleObserved{cycle}});
}

void EventLineSink::OnPause(const ProcessKey& p, const StwPause& pause) {
  Write(Event{pause.start_ns + pause.duration_ns, p, source_, StwObserved{pause}});
}

void EventLineSink::OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) {
  Write(Event{ts_ns, p, source_, exit});
}

void EventLineSink::OnProblem(const ProcessKey& p, const InputProblem& problem) {
  Write(Event{last_ts_ns_, p, source_, problem});
}

}  // namespace gcpilot::cli
