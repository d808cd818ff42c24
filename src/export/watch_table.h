// The `gcpilot watch` view: one row per traced process over the last window
// (GCs/s, STW pause p50/p99/max, non-GC stops with their main reason, alloc
// rate, heap live -> goal, GC CPU, goroutines), as a fixed-width text table or as one
// JSON object per row ("type": "watch").
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/window_stats.h"

namespace gcpilot {

struct WatchRow {
  int32_t pid = 0;
  std::string comm;
  std::string go_version;
  WindowStats window;         // The last window (e.g. 10 s) ending now.
  uint64_t total_cycles = 0;  // Since gcpilot started tracing it.
  uint64_t total_stops = 0;   // Non-GC stops since then.
  uint64_t drops = 0;         // Records lost for this process.
  bool exited = false;
  // Read from the process's memory at this refresh (absent when unknown).
  std::optional<int32_t> gogc;          // -1: off.
  std::optional<int64_t> memory_limit;  // Bytes; INT64_MAX: none.
  std::optional<uint64_t> heap_now_bytes;
  std::optional<int64_t> goroutines;  // Approximate while they come and go.
};

// The table, with a header line; `title` goes first (e.g. the time and the
// number of processes).
std::string FormatWatchTable(const std::vector<WatchRow>& rows, const std::string& title);

nlohmann::json WatchRowToJson(const WatchRow& row, int64_t now_ns);

}  // namespace gcpilot
