// Plain-text lines for findings (terminal view, text report).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "detect/finding.h"

namespace gcpilot::detect {

// "  [warning] pid 4242 api  allocation_storm: <summary>" and, when
// with_fix, an indented "fix: ..." line. Empty input: no lines.
std::vector<std::string> FindingLines(const std::vector<Finding>& findings, bool with_fix);

}  // namespace gcpilot::detect
