// The summary object that ends `--json` output: totals, input quality, and
// one entry per process with its whole-run report (ns, bytes, shares 0..1).
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "export/report_input.h"

namespace gcpilot {

nlohmann::json DistributionToJson(const DistributionSummary& d);
nlohmann::json RunReportToJson(const RunReport& r);
nlohmann::json SummaryToJson(const ReportInput& in);

}  // namespace gcpilot
