// Session: one analysis run of the CLI. Owns the model (CycleAssembler) and,
// per process, the sliding windows and whole-run summary; writes the
// optional outputs (recorded events, JSON lines, live lines) and the final
// report. Sources feed it events; `run` also ticks it once per interval.
// Thread-safety: not thread-safe; used from the CLI's single thread.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/run_summary.h"
#include "analysis/sliding_windows.h"
#include "export/report_input.h"
#include "model/cycle_assembler.h"
#include "model/model_sink.h"
#include "sources/gctrace/gctrace_source.h"

namespace gcpilot::cli {

struct SessionOptions {
  // Alloc rate above which a 1 s window is a risk window (the seed's 50 MB/s).
  double alloc_risk_bytes_per_sec = 50.0 * 1024 * 1024;
  std::FILE* live_out = nullptr;    // Live one-line summaries (run), or none.
  std::FILE* json_out = nullptr;    // JSON lines: one per cycle, then a summary.
  std::FILE* record_out = nullptr;  // Every source event, as JSON lines.
  bool text_report = true;          // Print the text report in Finish().
};

InputStats ToInputStats(const gctrace::SourceStats& s);

class Session final : public ModelSink {
 public:
  explicit Session(SessionOptions options);

  // Feeds one source event (recorded first when recording).
  void OnEvent(const Event& event);
  // Advances every process's windows to now_ns; prints a live line per
  // process when `print_live` and a live output is set.
  void Tick(int64_t now_ns, bool print_live);
  // Writes the report (text to `report` unless options say otherwise; JSON
  // summary to json_out) and returns the number of GC cycles seen.
  // end_ns 0 means "when the data ends" (logs).
  uint64_t Finish(int64_t end_ns, std::FILE* report, const std::string& header,
                  const InputStats& stats);

  uint64_t cycles() const { return cycles_; }
  uint64_t problems() const { return problems_; }

  // ModelSink.
  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;
  void OnProblem(const ProcessKey& p, const InputProblem& problem) override;

 private:
  // First problems kept verbatim for the report; the rest only counted.
  static constexpr size_t kKeptProblems = 20;

  struct Process {
    ProcessInfo info;
    SlidingWindows windows;
    std::unique_ptr<RunSummary> summary;
    std::optional<ProcessExited> exit;
    int64_t first_ts_ns = 0;
    int64_t last_ts_ns = 0;
    uint64_t cycles = 0;
  };

  Process& ProcessFor(const ProcessKey& key);
  void Collect(Process& p, const std::vector<WindowStats>& windows);

  SessionOptions options_;
  CycleAssembler assembler_;
  std::map<ProcessKey, Process> processes_;
  std::vector<InputProblem> kept_problems_;
  uint64_t problems_ = 0;
  uint64_t cycles_ = 0;
  int64_t start_now_ns_ = -1;
};

}  // namespace gcpilot::cli
