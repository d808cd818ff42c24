// ReplaySource: reads a recorded event stream (JSON lines, see
// model/event_json.h) and emits the events, so analysis can run on recorded
// data without a kernel or a Go program. Reads what `--record` writes and
// the per-cycle lines of `--json` output; other object types are skipped and
// counted, bad lines become InputProblem events with their line number.
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "model/events.h"

namespace gcpilot {

class ReplaySource {
 public:
  struct Stats {
    uint64_t lines = 0;
    uint64_t events = 0;
    uint64_t skipped = 0;  // Valid JSON of another type (e.g. summaries).
    uint64_t bad = 0;      // Invalid lines, each reported.
  };
  using Emit = std::function<void(const Event&)>;

  explicit ReplaySource(Emit emit) : emit_(std::move(emit)) {}

  void OnLine(std::string_view line);
  void OnOverlongLine(uint64_t length_bytes);
  const Stats& stats() const { return stats_; }

 private:
  Emit emit_;
  Stats stats_;
};

// True when `first_line` looks like a recorded event stream rather than text.
bool LooksLikeEventStream(std::string_view first_line);

}  // namespace gcpilot
