// WatchModel: what `gcpilot watch` keeps per traced process: the assembled
// cycles and stops in a 10 s sliding window (1 s steps), totals, and whether
// it exited. Exited processes stay a few seconds (shown as exited) and are
// then forgotten, so memory follows the live processes, not the history.
// Thread-safety: not thread-safe; fed from the CLI's single thread.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "analysis/sliding_windows.h"
#include "export/watch_table.h"
#include "model/model_sink.h"

namespace gcpilot::cli {

class WatchModel final : public ModelSink {
 public:
  // How long an exited process stays in the view.
  static constexpr int64_t kKeepExitedNs = 3'000'000'000;

  // The rows at now_ns, ordered by pid; forgets processes that exited more
  // than kKeepExitedNs before now_ns.
  std::vector<WatchRow> Rows(int64_t now_ns);
  size_t processes() const { return processes_.size(); }

  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;

 private:
  struct Process {
    ProcessInfo info;
    SlidingWindows windows{std::vector<ViewSpec>{{"10s", 10'000'000'000, 1'000'000'000}}};
    uint64_t cycles = 0;
    uint64_t stops = 0;
    bool exited = false;
    int64_t exited_ns = 0;
  };
  Process& ProcessFor(const ProcessKey& key, int64_t ts_ns);

  std::map<ProcessKey, Process> processes_;
};

}  // namespace gcpilot::cli
