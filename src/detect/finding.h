// Finding: what a detector reports about one process: a named pattern
// (allocation storm, pause spike, ...) with a severity, one human sentence,
// structured evidence (numbers, the time range, the cycles involved) and a
// suggested fix in words a Go developer acts on. A finding is raised once,
// updated while the pattern holds and cleared when it has gone (see
// detector_engine.h for the hysteresis).
// Thread-safety: plain value type.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "model/events.h"

namespace gcpilot::detect {

enum class Severity : uint8_t { kInfo = 0, kWarning, kCritical };
std::string_view SeverityName(Severity s);

// What a detector needs to see. kAnySource: GC cycles and their windows
// (gctrace logs, eBPF, recorded streams); kEbpf: records only the eBPF source
// produces (non-GC stops with their reason); kGauges: the runtime gauges the
// agent reads from the live process (GOMEMLIMIT, goroutine count).
enum class DataNeed : uint8_t { kAnySource = 0, kEbpf, kGauges };
std::string_view DataNeedName(DataNeed n);

struct Finding {
  uint64_t id = 0;  // Agent-wide, increasing; 0 until raised.
  std::string detector;
  ProcessKey process;
  std::string comm;  // For display (may be empty).
  Severity severity = Severity::kInfo;
  std::string title;
  std::string summary;  // One sentence with the key numbers.
  nlohmann::json evidence = nlohmann::json::object();
  std::string fix;
  int64_t started_ns = 0;  // First firing window's end, on the process's time axis.
  int64_t raised_ns = 0;   // When the finding was raised (the pattern held long enough).
  int64_t last_ns = 0;     // Last evaluation that still saw the pattern.
  std::optional<int64_t> cleared_ns;
  std::string clear_reason;  // "pattern gone", "process exited", ...
  bool active = false;
};

// The JSON form the API, the stream and `watch --json` use. Times become
// Unix epoch milliseconds by adding wall_offset_ns (0 for logs, whose time
// axis is time since the process started: then *_ms are offsets).
nlohmann::json FindingToJson(const Finding& f, int64_t wall_offset_ns);

}  // namespace gcpilot::detect
