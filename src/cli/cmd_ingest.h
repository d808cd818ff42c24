// `gcpilot ingest FILE|-` and `gcpilot report FILE`: analyse a gctrace log
// (text around the trace lines is ignored) or a recorded event stream
// (auto-detected from the first line), and print the report.
//
// Exit codes: 0 analysed at least one GC cycle; 2 the input could not be
// read; 3 no GC cycles in the input.
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
};

int IngestCommand(const IngestOptions& options);

}  // namespace gcpilot::cli
