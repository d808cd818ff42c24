// JSON shapes of the serve API (see api_json.h).
#include "serve/api_json.h"

#include <fmt/format.h>

#include <ctime>
#include <iterator>

#include "model/event_json.h"

namespace gcpilot::serve {
namespace {

using nlohmann::json;

int64_t ClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

json Summary(const DistributionSummary& d) {
  return json{{"count", d.count}, {"p50", d.p50}, {"p99", d.p99},
              {"p999", d.p999},   {"max", d.max}, {"sum", d.sum}};
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

WallClockMap WallClockMap::Now() {
  int64_t mono = ClockNs(CLOCK_MONOTONIC);
  int64_t real = ClockNs(CLOCK_REALTIME);
  return WallClockMap(real - mono);
}

std::string BinaryName(const std::string& exe) {
  size_t slash = exe.rfind('/');
  std::string name = slash == std::string::npos ? exe : exe.substr(slash + 1);
  // The kernel marks a replaced or removed binary in /proc/PID/exe.
  const std::string deleted = " (deleted)";
  if (name.size() > deleted.size() &&
      name.compare(name.size() - deleted.size(), deleted.size(), deleted) == 0) {
    name.resize(name.size() - deleted.size());
  }
  return name;
}

json WindowToJson(const WindowStats& w, const WallClockMap& wall) {
  json by_reason = json::object();
  for (int r = 0; r < kStwReasonCount; ++r) {
    if (w.other_stops_by_reason[r] > 0) {
      by_reason[std::string(StwReasonName(static_cast<StwReason>(r)))] = w.other_stops_by_reason[r];
    }
  }
  return json{{"view", w.view},
              {"start_ms", wall.ToMs(w.start_ns)},
              {"end_ms", wall.ToMs(w.end_ns)},
              {"covered_s", static_cast<double>(w.covered_ns) / 1e9},
              {"gc_cycles", w.gc_cycles},
              {"forced_cycles", w.forced_cycles},
              {"gcs_per_sec", w.gcs_per_sec},
              {"alloc_bytes_per_sec", w.alloc_bytes_per_sec},
              {"gc_cpu_share", w.gc_cpu_share},
              {"assist_share_of_gc_cpu", w.assist_share_of_gc_cpu},
              {"mark_wall_share", w.mark_wall_share},
              {"gc_cpu_ns",
               {{"sweep_term", w.gc_cpu.sweep_term_ns},
                {"assist", w.gc_cpu.assist_ns},
                {"background", w.gc_cpu.background_ns},
                {"idle", w.gc_cpu.idle_ns},
                {"mark_term", w.gc_cpu.mark_term_ns}}},
              {"pause_ns", Summary(w.gc_pauses)},
              {"sweep_term_pause_ns", Summary(w.sweep_term_pauses)},
              {"mark_term_pause_ns", Summary(w.mark_term_pauses)},
              {"other_stops",
               {{"count", w.other_stops.count},
                {"max_ns", w.other_stops.max},
                {"p99_ns", w.other_stops.p99},
                {"by_reason", by_reason}}},
              {"heap_live_bytes", w.heap_live_bytes},
              {"heap_goal_bytes", w.heap_goal_bytes},
              {"gomaxprocs", w.gomaxprocs}};
}

json GaugesToJson(const ProcessState& p) {
  const proc::RuntimeGauges& g = p.gauges;
  return json{{"gogc", OrNull(g.gogc)},
              {"memory_limit_bytes", OrNull(g.memory_limit)},
              {"goroutines", OrNull(g.goroutines)},
              {"gomaxprocs", p.gomaxprocs > 0 ? json(p.gomaxprocs) : json(nullptr)},
              {"heap_live_bytes", p.totals.cycles > 0 ? json(p.heap_live_bytes) : json(nullptr)},
              {"heap_goal_bytes", p.totals.cycles > 0 ? json(p.heap_goal_bytes) : json(nullptr)}};
}

json ProcessToJson(const ProcessState& p, Health health, const WallClockMap& wall,
                   const WindowStats* window) {
  const ProcessTotals& t = p.totals;
  json j{{"pid", p.key.pid},
         {"generation", p.key.generation},
         {"comm", p.info.comm},
         {"exe", p.info.exe},
         {"binary", BinaryName(p.info.exe)},
         {"go_version", p.info.go_version},
         {"container", p.info.container},
         {"source", EventSourceName(p.source)},
         {"seen_ms", wall.ToMs(p.seen_ns)},
         {"exited", p.exited},
         {"exit", nullptr},
         {"health", HealthName(health)},
         {"totals",
          {{"cycles", t.cycles},
           {"forced_cycles", t.forced_cycles},
           {"stops", t.stops},
           {"alloc_bytes", t.alloc_bytes},
           {"drops", t.drops},
           {"pause_ns", t.pause_ns},
           {"gc_cpu_ns", t.gc_cpu_ns}}},
         {"gauges", GaugesToJson(p)}};
  if (p.exited) {
    j["exit"] = json{{"code", p.exit.exit_code},
                     {"signal", p.exit.signal},
                     {"exec", p.exit.exec},
                     {"ms", wall.ToMs(p.exited_ns)}};
  }
  if (window != nullptr) j["window"] = WindowToJson(*window, wall);
  return j;
}

json CycleToApiJson(const StoredCycle& c, const WallClockMap& wall) {
  json j = CycleToJson(c.cycle.ToGcCycle());
  j["seq"] = c.seq;
  j["time_ms"] = wall.ToMs(c.cycle.start_ns);
  return j;
}

std::string CycleEventText(const ProcessKey& key, const StoredCycle& s, const WallClockMap& wall) {
  const CompactCycle& c = s.cycle;
  std::string out;
  out.reserve(640);
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"pid":{},"generation":{},"cycle":{{"gc":{},"start_ns":{},)", key.pid,
                 key.generation, c.number, c.start_ns);
  fmt::format_to(it, R"("sweep_term_ns":{},"mark_ns":{},"mark_term_ns":{},"pause_ns":{},)",
                 c.sweep_term_ns, c.mark_ns, c.mark_term_ns, c.sweep_term_ns + c.mark_term_ns);
  fmt::format_to(it,
                 R"("cpu_sweep_term_ns":{},"cpu_assist_ns":{},"cpu_background_ns":{},)"
                 R"("cpu_idle_ns":{},"cpu_mark_term_ns":{},)",
                 c.cpu.sweep_term_ns, c.cpu.assist_ns, c.cpu.background_ns, c.cpu.idle_ns,
                 c.cpu.mark_term_ns);
  fmt::format_to(it,
                 R"("heap_start_bytes":{},"heap_end_bytes":{},"heap_live_bytes":{},)"
                 R"("heap_goal_bytes":{},"allocated_bytes":{},"byte_resolution":{},)",
                 c.heap_start_bytes, c.heap_end_bytes, c.heap_live_bytes, c.heap_goal_bytes,
                 c.allocated_bytes, c.byte_resolution);
  // The enum names are fixed identifiers: nothing to escape.
  fmt::format_to(it,
                 R"("gomaxprocs":{},"trigger":"{}","cpu_percent_since_start":{},)"
                 R"("cycle_source":"{}",)",
                 c.gomaxprocs, GcTriggerName(c.trigger), c.cpu_percent_since_start,
                 EventSourceName(c.source));
  if (c.has_stacks) fmt::format_to(it, R"("stacks_bytes":{},)", c.stacks_bytes);
  if (c.has_globals) fmt::format_to(it, R"("globals_bytes":{},)", c.globals_bytes);
  fmt::format_to(it, R"("seq":{},"time_ms":{}}}}})", s.seq, wall.ToMs(c.start_ns));
  return out;
}

json StopToApiJson(const StoredStop& s, const WallClockMap& wall) {
  return json{{"seq", s.seq},
              {"start_ns", s.stop.start_ns},
              {"time_ms", wall.ToMs(s.stop.start_ns)},
              {"duration_ns", s.stop.duration_ns},
              {"kind", StwKindName(s.stop.kind)},
              {"reason", StwReasonName(s.stop.reason)}};
}

}  // namespace gcpilot::serve
