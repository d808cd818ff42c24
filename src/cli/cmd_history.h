// `gcpilot history`: what the GC of each process did in a past time range,
// read from a history store (SQLite, written by `gcpilot serve --store PATH`
// or `gcpilot ingest --store PATH FILE`), while the agent keeps writing it.
//
// Default output: one row per process per minute (GC cycles, forced cycles,
// STW pause p50/p99/max, non-GC stops with their top reason, alloc rate,
// heap live/goal at the minute's end), times in local time with the zone
// named. --cycles: one row per GC cycle. --json: JSON lines, one object per
// row ("type": "minute" or "cycle").
//
// Exit codes: 0 success (also when nothing was recorded in the range, which
// is said, with the range the store does hold); 2 bad arguments, no store
// given, or the store missing or unreadable.
// Thread-safety: single-threaded CLI code.
#pragma once

#include <cstdint>
#include <string>

namespace gcpilot::cli {

struct HistoryOptions {
  std::string store_path;    // --store, or $GCPILOT_STORE.
  std::string since = "1h";  // Relative ("30m") or absolute time.
  std::string until = "now";
  int32_t pid = 0;      // 0: every process.
  std::string binary;   // comm, exe or exe file name; empty: all.
  bool cycles = false;  // One row per cycle instead of per minute.
  bool json = false;
};

int HistoryCommand(const HistoryOptions& options);

}  // namespace gcpilot::cli
