// Plain-text findings (see finding_text.h).
#include "detect/finding_text.h"

namespace gcpilot::detect {

std::vector<std::string> FindingLines(const std::vector<Finding>& findings, bool with_fix) {
  std::vector<std::string> out;
  for (const Finding& f : findings) {
    std::string line =
        "  [" + std::string(SeverityName(f.severity)) + "] pid " + std::to_string(f.process.pid);
    if (!f.comm.empty()) line += " " + f.comm;
    line += "  " + f.detector + ": " + f.summary;
    if (!f.active) line += " (cleared: " + f.clear_reason + ")";
    out.push_back(line);
    if (with_fix) out.push_back("      fix: " + f.fix);
  }
  return out;
}

}  // namespace gcpilot::detect
