// Times as people type and read them, for `gcpilot history` and `gcpilot
// ingest --start`: "30m" (30 minutes before now; units s, m, h, d, combinable
// as "1h30m"), "now", or an absolute time "2026-11-27T03:00[:SS]" in local
// time, with a trailing "Z" for UTC or "+01:00" for an explicit offset (a
// space may replace the "T"; a date alone means its midnight).
// Thread-safety: stateless functions (they read the process's time zone).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gcpilot {

// Wall-clock (Unix epoch) ns of `text`; relative forms count back from
// `now_wall_ns`. InvalidArgument, with the accepted forms, when unreadable.
StatusOr<int64_t> ParseTimeSpec(std::string_view text, int64_t now_wall_ns);

// Local time of `wall_ns` with strftime `format` (e.g. "%Y-%m-%d %H:%M").
std::string FormatLocalTime(int64_t wall_ns, const char* format);
// ISO 8601 local time with its offset: "2026-11-27T03:00:00.000+01:00".
std::string FormatIsoLocal(int64_t wall_ns);
// The local zone at `wall_ns`, e.g. "CET, UTC+01:00".
std::string LocalZoneName(int64_t wall_ns);

int64_t WallClockNowNs();

}  // namespace gcpilot
