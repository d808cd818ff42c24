// JSON summary (see the header).
#include "export/report_json.h"

#include "model/event_json.h"

namespace gcpilot {

using nlohmann::json;

json DistributionToJson(const DistributionSummary& d) {
  return json{{"count", d.count}, {"sum", d.sum}, {"min", d.min}, {"mean", d.mean}, {"p50", d.p50},
              {"p90", d.p90},     {"p95", d.p95}, {"p99", d.p99}, {"p999", d.p999}, {"max", d.max}};
}

json RunReportToJson(const RunReport& r) {
  json heap_series = json::array();
  for (const HeapPoint& p : r.heap_series) {
    heap_series.push_back(json{{"start_ns", p.start_ns},
                               {"end_ns", p.end_ns},
                               {"live_min_bytes", p.live_min_bytes},
                               {"live_max_bytes", p.live_max_bytes},
                               {"live_last_bytes", p.live_last_bytes},
                               {"goal_max_bytes", p.goal_max_bytes}});
  }
  json risks = json::array();
  for (const RiskRange& rr : r.risk_ranges) {
    risks.push_back(json{{"start_ns", rr.start_ns},
                         {"end_ns", rr.end_ns},
                         {"windows", rr.windows},
                         {"peak_alloc_bytes_per_sec", rr.peak_alloc_bytes_per_sec},
                         {"mean_alloc_bytes_per_sec", rr.mean_alloc_bytes_per_sec}});
  }
  json stops = json::array();
  for (const StopReasonSummary& s : r.other_stops_by_reason) {
    stops.push_back(json{{"reason", StwReasonName(s.reason)},
                         {"count", s.count},
                         {"p99_ns", s.p99_ns},
                         {"max_ns", s.max_ns}});
  }
  return json{
      {"cycles", r.cycles},
      {"forced_cycles", r.forced_cycles},
      {"time_cycles", r.time_cycles},
      {"heap_cycles", r.heap_cycles},
      {"first_cycle_start_ns", r.first_cycle_start_ns},
      {"last_cycle_end_ns", r.last_cycle_end_ns},
      {"span_ns", r.span_ns},
      {"gcs_per_sec", r.gcs_per_sec},
      {"allocated_bytes", r.allocated_bytes},
      {"alloc_bytes_per_sec", r.alloc_bytes_per_sec},
      {"pause", DistributionToJson(r.all_pauses)},
      {"sweep_term", DistributionToJson(r.sweep_term_pauses)},
      {"mark_term", DistributionToJson(r.mark_term_pauses)},
      {"cycle_pause", DistributionToJson(r.cycle_pauses)},
      {"concurrent_mark", DistributionToJson(r.concurrent_mark)},
      {"gc_cpu", json{{"share", r.gc_cpu_share},
                      {"excluding_idle_ns", r.gc_cpu_excluding_idle_ns},
                      {"sweep_term_ns", r.gc_cpu.sweep_term_ns},
                      {"assist_ns", r.gc_cpu.assist_ns},
                      {"background_ns", r.gc_cpu.background_ns},
                      {"idle_ns", r.gc_cpu.idle_ns},
                      {"mark_term_ns", r.gc_cpu.mark_term_ns},
                      {"assist_share", r.gc_cpu_split.assist},
                      {"background_share", r.gc_cpu_split.background},
                      {"idle_share", r.gc_cpu_split.idle},
                      {"stw_share", r.gc_cpu_split.stw},
                      {"assist_share_of_gc_cpu", r.assist_share_of_gc_cpu}}},
      {"gomaxprocs", r.gomaxprocs},
      {"heap", json{{"live_min_bytes", r.heap_live_min_bytes},
                    {"live_avg_bytes", r.heap_live_avg_bytes},
                    {"live_max_bytes", r.heap_live_max_bytes},
                    {"goal_max_bytes", r.heap_goal_max_bytes},
                    {"series", heap_series}}},
      {"other_stops", DistributionToJson(r.other_stops)},
      {"other_stops_by_reason", stops},
      {"alloc_risk_threshold_bytes_per_sec", r.risk_threshold_bytes_per_sec},
      {"alloc_risk_windows", risks},
      {"alloc_risk_windows_unlisted", r.risk_ranges_unlisted},
  };
}

json SummaryToJson(const ReportInput& in) {
  json procs = json::array();
  uint64_t cycles = 0, forced = 0;
  for (const ProcessReport& p : in.processes) {
    json j = RunReportToJson(p.run);
    j["pid"] = p.key.pid;
    j["gen"] = p.key.generation;
    j["comm"] = p.info.comm;
    j["exe"] = p.info.exe;
    if (p.exit) {
      j["exit_code"] = p.exit->exit_code;
      j["exit_signal"] = p.exit->signal;
    }
    j["late_records_dropped"] = p.late_dropped;
    j["time_origin_ns"] = p.origin_ns;
    procs.push_back(std::move(j));
    cycles += p.run.cycles;
    forced += p.run.forced_cycles;
  }
  json problems = json::array();
  for (const InputProblem& p : in.kept_problems) {
    problems.push_back(
        json{{"line", p.line_number}, {"problem", p.problem}, {"excerpt", p.excerpt}});
  }
  return json{{"type", "summary"},
              {"v", kEventSchemaVersion},
              {"source", in.stats.source},
              {"cycles", cycles},
              {"forced_cycles", forced},
              {"lines", in.stats.lines},
              {"trace_lines", in.stats.trace_lines},
              {"malformed_lines", in.stats.malformed},
              {"overlong_lines", in.stats.overlong_lines},
              {"restarts", in.stats.restarts},
              {"cut_at_end", in.stats.cut_at_end},
              {"probe_records", in.stats.probe_records},
              {"dropped_records", in.stats.drops},
              {"input_problems", in.problems},
              {"first_problems", problems},
              {"processes", procs}};
}

}  // namespace gcpilot
