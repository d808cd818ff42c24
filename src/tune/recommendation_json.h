// Renders a Recommendation (and the inputs it came from) as the JSON the
// API, `gcpilot tune --json` and the tests read, and as the text `gcpilot
// tune` prints. JSON: {"policy", "gogc", "memory_limit_bytes" (null = none),
// "current": {"gogc", "memory_limit_bytes"}, "change", "held", "revision",
// "reason", "effect": {"known", "text", "gc_cpu_share": {"before",
// "after"}, "gcs_per_sec": {...}, "heap_peak_bytes": {...},
// "limit_bound_after"}, "env": {"GOGC", "GOMEMLIMIT"}}.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "tune/recommendation.h"
#include "tune/tune_input.h"

namespace gcpilot::tune {

nlohmann::json RecommendationToJson(const Recommendation& r);
// {"error": message, "code": name} for a failed recommendation.
nlohmann::json TunerErrorToJson(const Status& s);
// The inputs: cgroup (path, version, limit, usage, peak, psi, oom_kills),
// node (total, available, used share, psi) or why they are missing.
nlohmann::json TuneInputsToJson(const TuneInput& in);
// GOMEMLIMIT's environment form: "536870912B" ("off" for none).
std::string MemoryLimitEnv(int64_t limit);
// Several lines: recommendation, env, reasoning, expected effect, inputs.
std::string FormatRecommendationText(const Recommendation& r, const TuneInput& in);

}  // namespace gcpilot::tune
