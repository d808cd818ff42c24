// The human-readable final report of `gcpilot run`, `ingest` and `report`.
// Thread-safety: pure function.
#pragma once

#include <string>

#include "export/report_input.h"

namespace gcpilot {

std::string FormatTextReport(const ReportInput& in);

}  // namespace gcpilot
