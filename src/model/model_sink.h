// ModelSink: where the model layer delivers assembled records (GC cycles,
// stops, process lifecycle, input problems). Analysis and exporters implement
// it; data flows one way, source -> model -> sink.
// Thread-safety: called from the thread that feeds the CycleAssembler.
#pragma once

#include <vector>

#include "model/events.h"
#include "model/gc_cycle.h"

namespace gcpilot {

class ModelSink {
 public:
  virtual ~ModelSink() = default;
  virtual void OnProcessSeen(const ProcessKey& /*process*/, const ProcessInfo& /*info*/,
                             int64_t /*ts_ns*/) {}
  virtual void OnCycle(const ProcessKey& /*process*/, const GcCycle& /*cycle*/) {}
  virtual void OnPause(const ProcessKey& /*process*/, const StwPause& /*pause*/) {}
  virtual void OnProcessExited(const ProcessKey& /*process*/, const ProcessExited& /*exit*/,
                               int64_t /*ts_ns*/) {}
  virtual void OnProblem(const ProcessKey& /*process*/, const InputProblem& /*problem*/) {}
};

// Delivers every call to each of several sinks, in order.
class FanOutSink final : public ModelSink {
 public:
  void Add(ModelSink* sink) { sinks_.push_back(sink); }
  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts) override {
    for (ModelSink* s : sinks_) s->OnProcessSeen(p, info, ts);
  }
  void OnCycle(const ProcessKey& p, const GcCycle& c) override {
    for (ModelSink* s : sinks_) s->OnCycle(p, c);
  }
  void OnPause(const ProcessKey& p, const StwPause& pause) override {
    for (ModelSink* s : sinks_) s->OnPause(p, pause);
  }
  void OnProcessExited(const ProcessKey& p, const ProcessExited& e, int64_t ts) override {
    for (ModelSink* s : sinks_) s->OnProcessExited(p, e, ts);
  }
  void OnProblem(const ProcessKey& p, const InputProblem& problem) override {
    for (ModelSink* s : sinks_) s->OnProblem(p, problem);
  }

 private:
  std::vector<ModelSink*> sinks_;
};

}  // namespace gcpilot
