// Unit formatting for reports (see the header).
#include "export/format_units.h"

#include <fmt/format.h>

#include <cmath>

namespace gcpilot {

std::string FormatMs(double ns) {
  double ms = ns / 1e6;
  if (ms == 0) return "0";
  if (ms < 0.1) return fmt::format("{:.3f}", ms);
  if (ms < 10) return fmt::format("{:.2f}", ms);
  return fmt::format("{:.0f}", ms);
}

std::string FormatDuration(double ns) {
  if (std::abs(ns) >= 10e9) return fmt::format("{:.1f} s", ns / 1e9);
  return FormatMs(ns) + " ms";
}

std::string FormatMB(double bytes) {
  double mb = bytes / kBytesPerMB;
  if (mb < 10) return fmt::format("{:.1f} MB", mb);
  return fmt::format("{:.0f} MB", mb);
}

std::string FormatPercent(double share) { return fmt::format("{:.1f}%", share * 100); }

}  // namespace gcpilot
