// Live one-line summary (see the header).
#include "export/live_line.h"

#include <fmt/format.h>

#include "export/format_units.h"

namespace gcpilot {

std::string FormatLiveLine(const WindowStats& w, int64_t elapsed_ns) {
  std::string line = fmt::format("gcpilot [{}s] ", elapsed_ns / 1'000'000'000);
  if (w.gc_pauses.count == 0) {
    line += "no GC";
  } else {
    line += fmt::format("STW p50 {} p99 {} max {} ms", FormatMs(w.gc_pauses.p50),
                        FormatMs(w.gc_pauses.p99), FormatMs(w.gc_pauses.max));
  }
  line += fmt::format(" | {:.1f} GC/s | alloc {:.1f} MB/s | GC CPU {}", w.gcs_per_sec,
                      w.alloc_bytes_per_sec / kBytesPerMB, FormatPercent(w.gc_cpu_share));
  if (w.heap_goal_bytes > 0) {
    line += fmt::format(" | heap {:.0f}->{:.0f} MB", w.heap_live_bytes / kBytesPerMB,
                        w.heap_goal_bytes / kBytesPerMB);
  }
  if (w.other_stops.count > 0) {
    line += fmt::format(" | {} other stops", w.other_stops.count);
  }
  return line;
}

}  // namespace gcpilot
