// Finding names and JSON form (see finding.h).
#include "detect/finding.h"

namespace gcpilot::detect {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

std::string_view DataNeedName(DataNeed n) {
  switch (n) {
    case DataNeed::kAnySource:
      return "any_source";
    case DataNeed::kEbpf:
      return "ebpf";
    case DataNeed::kGauges:
      return "gauges";
  }
  return "any_source";
}

nlohmann::json FindingToJson(const Finding& f, int64_t wall_offset_ns) {
  auto ms = [&](int64_t ns) { return static_cast<double>((ns + wall_offset_ns) / 1000) / 1e3; };
  nlohmann::json j{{"id", f.id},
                   {"detector", f.detector},
                   {"pid", f.process.pid},
                   {"generation", f.process.generation},
                   {"comm", f.comm},
                   {"severity", SeverityName(f.severity)},
                   {"title", f.title},
                   {"summary", f.summary},
                   {"evidence", f.evidence},
                   {"fix", f.fix},
                   {"started_ms", ms(f.started_ns)},
                   {"raised_ms", ms(f.raised_ns)},
                   {"last_ms", ms(f.last_ns)},
                   {"cleared_ms", f.cleared_ns ? nlohmann::json(ms(*f.cleared_ns)) : nullptr},
                   {"clear_reason", f.clear_reason},
                   {"active", f.active}};
  // The evidence's time range also as milliseconds.
  nlohmann::json& w = j["evidence"];
  if (w.is_object() && w.contains("window") && w["window"].is_object()) {
    nlohmann::json& r = w["window"];
    if (r.contains("start_ns") && r["start_ns"].is_number_integer()) {
      r["start_ms"] = ms(r["start_ns"].get<int64_t>());
    }
    if (r.contains("end_ns") && r["end_ns"].is_number_integer()) {
      r["end_ms"] = ms(r["end_ns"].get<int64_t>());
    }
  }
  return j;
}

}  // namespace gcpilot::detect
