// `gcpilot ingest FILE|-` and `gcpilot report FILE`: analyse a gctrace log
// (text around the trace lines is ignored) or a recorded event stream
// (auto-detected from the first line), and print the report.
//
// With --store PATH the assembled processes, cycles and stops are also
// recorded into a history store (as a new run), for `gcpilot history`. Their
// wall-clock times: --start TIME is when the log's time 0 was (the process
// start for a gctrace log, whose "@T s" counts from it; the first event for a
// recorded stream); without it the input is taken to end at the file's
// modification time (now for standard input). Records are held in memory
// until the input ends, then written in one transaction. A log holding
// several runs of a service (restarts) has no time between runs: they are
// stored overlapping from the same start.
//
// Exit codes: 0 analysed at least one GC cycle; 2 the input could not be
// read, or the store could not be opened or written; 3 no GC cycles in the
// input.
#pragma once

#include <string>

#include "cli/session.h"

namespace gcpilot::cli {

struct IngestOptions {
  std::string path;         // "-" for stdin.
  bool json = false;        // JSON lines on stdout instead of the text report.
  std::string record_path;  // Also write the events as JSON lines.
  int32_t pid = 0;          // Label the process with this pid.
  double alloc_risk_mbps = 50;
  std::string command = "ingest";  // For messages: "ingest" or "report".
  std::string store_path;          // Also record into this history store.
  std::string start;               // Wall time of the input's time 0 (ParseTimeSpec).
};

int IngestCommand(const IngestOptions& options);

}  // namespace gcpilot::cli
