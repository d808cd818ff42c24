// JSON-lines form of the event schema: the recorded-stream format that
// `--record` writes and the replay source reads, and the per-cycle objects of
// `--json` output (a "gc_cycle" line is both).
//
// Each line is one object with "type" (gc_cycle, stw_pause, process_seen,
// process_exited, pacer_start, pacer_end, pacer_sweep_done, time_trigger,
// input_problem), "v" (kEventSchemaVersion), "ts_ns", "pid", "gen", "source",
// then the payload's fields (units in the names: _ns, _bytes).
// Lines of other types (e.g. "summary", "window") are not events.
// Thread-safety: stateless functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "model/events.h"

namespace gcpilot {

nlohmann::json CycleToJson(const GcCycle& cycle);
StatusOr<GcCycle> CycleFromJson(const nlohmann::json& j);

nlohmann::json EventToJson(const Event& event);
// One line, no trailing newline.
std::string EventToJsonLine(const Event& event);

// Parses one line. Returns nullopt for a valid JSON object that is not an
// event (another "type"), and an error for invalid JSON, a newer schema
// version, or a missing/invalid field.
StatusOr<std::optional<Event>> EventFromJsonLine(std::string_view line);

}  // namespace gcpilot
