// The one-line live summary `gcpilot run` prints every second:
//   gcpilot [12s] STW p50 0.05 p99 0.31 max 0.40 ms | 12.0 GC/s | alloc 310 MB/s |
//     GC CPU 8.1% | heap 4->8 MB
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/window_stats.h"

namespace gcpilot {

std::string FormatLiveLine(const WindowStats& window, int64_t elapsed_ns);

}  // namespace gcpilot
