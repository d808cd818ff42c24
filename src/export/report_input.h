// ReportInput: everything the final report shows, gathered by the CLI from
// the source, the model and analysis; formatted as text (report_text.h) or
// JSON (report_json.h).
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/run_summary.h"
#include "model/events.h"

namespace gcpilot {

// How the input went, as counted by the source.
struct InputStats {
  std::string source = "gctrace";  // "gctrace", "replay" or "ebpf".
  uint64_t lines = 0;
  uint64_t trace_lines = 0;
  uint64_t malformed = 0;  // Lines that looked like trace output but could not be read.
  uint64_t unknown_pacer = 0;
  uint64_t duplicates = 0;
  uint64_t overlong_lines = 0;
  uint64_t restarts = 0;
  uint64_t cut_at_end = 0;  // Trace line cut off as the program exited.
  // eBPF source only.
  uint64_t probe_records = 0;  // GC cycles and non-GC stops the probes reported.
  uint64_t drops = 0;          // Records lost (ring buffer full).
};

struct ProcessReport {
  ProcessKey key;
  ProcessInfo info;
  std::optional<ProcessExited> exit;
  // When the process started on its time axis (run: CLOCK_MONOTONIC at
  // start; logs: 0); the text report shows times relative to it.
  int64_t origin_ns = 0;
  uint64_t late_dropped = 0;  // Records too late for the sliding windows.
  RunReport run;
};

struct ReportInput {
  std::string header;  // First line, e.g. "gcpilot run: './svc' exited with code 0".
  InputStats stats;
  uint64_t problems = 0;                    // Every input problem.
  std::vector<InputProblem> kept_problems;  // The first few, verbatim.
  std::vector<ProcessReport> processes;
};

}  // namespace gcpilot
