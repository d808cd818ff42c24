// Recorded event streams -> events (see the header).
#include "sources/replay/replay_source.h"

#include <string>

#include "model/event_json.h"
#include "sources/gctrace/gctrace_source.h"

namespace gcpilot {

void ReplaySource::OnLine(std::string_view line) {
  ++stats_.lines;
  size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return;  // Blank line.
  StatusOr<std::optional<Event>> parsed = EventFromJsonLine(line);
  if (!parsed.ok()) {
    ++stats_.bad;
    Event e;
    e.source = EventSource::kReplay;
    e.payload = InputProblem{stats_.lines, "bad recorded event: " + parsed.status().message(),
                             gctrace::Excerpt(line)};
    emit_(e);
    return;
  }
  if (!parsed->has_value()) {
    ++stats_.skipped;
    return;
  }
  ++stats_.events;
  emit_(**parsed);
}

void ReplaySource::OnOverlongLine(uint64_t length_bytes) {
  ++stats_.lines;
  ++stats_.bad;
  Event e;
  e.source = EventSource::kReplay;
  e.payload =
      InputProblem{stats_.lines,
                   "line of " + std::to_string(length_bytes) + " bytes: too long for an event", ""};
  emit_(e);
}

bool LooksLikeEventStream(std::string_view first_line) {
  size_t i = first_line.find_first_not_of(" \t");
  if (i == std::string_view::npos || first_line[i] != '{') return false;
  return first_line.find("\"type\"") != std::string_view::npos &&
         first_line.find("\"v\"") != std::string_view::npos;
}

}  // namespace gcpilot
