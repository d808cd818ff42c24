// DetectingSink: runs the detectors where there is no ServeModel: `gcpilot
// watch` (live, eBPF) and `gcpilot ingest` (a gctrace log or a recorded
// stream). As a ModelSink it keeps its own SlidingWindows per process (the
// default 1 s / 10 s / 1 min views) and feeds the DetectorEngine with the
// cycles and every completed window; the caller advances time (live: the
// clock; offline: Replay mode advances with the records) and may pass the
// runtime gauges.
//
// Bounds: one SlidingWindows per process (see sliding_windows.h), at most
// DetectorEngine::kMaxProcesses; a process is forgotten kKeepExitedNs after
// it exited.
// Thread-safety: not thread-safe; fed from one thread.
#pragma once

#include <cstdint>
#include <map>

#include "analysis/sliding_windows.h"
#include "detect/detector_engine.h"
#include "model/model_sink.h"

namespace gcpilot::detect {

class DetectingSink final : public ModelSink {
 public:
  static constexpr int64_t kKeepExitedNs = 5'000'000'000;

  // replay: records are in time order on each process's own axis (a log),
  // so windows advance with them and the end of a stream flushes them.
  DetectingSink(DetectorEngine* engine, bool replay) : engine_(engine), replay_(replay) {}

  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;

  // Live: the runtime gauges of a process, read by the caller.
  void SetGauges(const ProcessKey& p, const GaugeValues& g);
  // The same for the live (not exited) process with this pid, if any.
  void SetGaugesOfPid(int32_t pid, const GaugeValues& g);
  // Live: advances every process's windows to now_ns and evaluates.
  void AdvanceTo(int64_t now_ns);
  // Offline: flushes the windows of every process up to its last record.
  void Finish();

 private:
  struct Proc {
    SlidingWindows windows;
    int64_t last_ns = 0;
    bool exited = false;
    int64_t exited_ns = 0;
  };
  Proc* Find(const ProcessKey& p);
  void Advance(const ProcessKey& key, Proc& proc, int64_t now_ns);

  DetectorEngine* engine_;
  const bool replay_;
  std::map<ProcessKey, Proc> procs_;
};

}  // namespace gcpilot::detect
