// EventLineSink: writes what the model assembled (processes seen, GC cycles
// with their trigger and allocation resolved, stops, exits, problems) as
// event JSON lines (model/event_json.h), so the stream `watch --json`
// prints is what `gcpilot report` reads back.
// Thread-safety: not thread-safe.
#pragma once

#include <cstdio>

#include "model/events.h"
#include "model/model_sink.h"

namespace gcpilot::cli {

class EventLineSink final : public ModelSink {
 public:
  EventLineSink(std::FILE* out, EventSource source) : out_(out), source_(source) {}

  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;
  void OnProblem(const ProcessKey& p, const InputProblem& problem) override;

 private:
  void Write(const Event& e);

  std::FILE* out_;
  EventSource source_;
  int64_t last_ts_ns_ = 0;  // Problems carry no time: they get the last one.
};

}  // namespace gcpilot::cli
