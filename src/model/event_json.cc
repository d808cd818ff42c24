// JSON encoding of events (see the header). Built on nlohmann-json.
#include "model/event_json.h"

#include <type_traits>
#include <utility>

namespace gcpilot {
namespace {

using nlohmann::json;

json PacerStartToJson(const PacerStart& p) {
  return json{{"assist_ratio", p.assist_ratio},
              {"heap_scan_bytes", p.heap_scan_bytes},
              {"heap_live_start_bytes", p.heap_live_start_bytes},
              {"heap_goal_bytes", p.heap_goal_bytes},
              {"dedicated_workers", p.dedicated_workers},
              {"fractional_utilization_goal", p.fractional_utilization_goal}};
}

json PacerEndToJson(const PacerEnd& p) {
  return json{{"utilization_percent", p.utilization_percent},
              {"goal_utilization_percent", p.goal_utilization_percent},
              {"heap_scan_work_bytes", p.heap_scan_work_bytes},
              {"stack_scan_work_bytes", p.stack_scan_work_bytes},
              {"globals_scan_work_bytes", p.globals_scan_work_bytes},
              {"expected_scan_work_bytes", p.expected_scan_work_bytes},
              {"trigger_heap_bytes", p.trigger_heap_bytes},
              {"heap_live_bytes", p.heap_live_bytes},
              {"goal_delta_bytes", p.goal_delta_bytes},
              {"cons_mark", p.cons_mark},
              {"controller_reset", p.controller_reset}};
}

json SweepDoneToJson(const PacerSweepDone& s) {
  return json{{"heap_bytes", s.heap_bytes},
              {"allocated_during_sweep_bytes", s.allocated_during_sweep_bytes},
              {"pages_swept", s.pages_swept},
              {"pages_per_byte", s.pages_per_byte}};
}

json PauseToJson(const StwPause& p) {
  return json{{"start_ns", p.start_ns},
              {"duration_ns", p.duration_ns},
              {"kind", StwKindName(p.kind)},
              {"reason", StwReasonName(p.reason)},
              {"gc", p.gc_number}};
}

// Bounds on the times read from a stream (the gctrace parser's too): sums
// such as a cycle's end (start + phases) or a pause's end then cannot
// overflow int64.
constexpr int64_t kMaxDurationNs = 1'000'000'000'000'000'000;  // ~31.7 years.
constexpr int64_t kMaxAbsTimeNs = 4 * kMaxDurationNs;

bool ValidDuration(int64_t ns) { return ns >= 0 && ns <= kMaxDurationNs; }
bool ValidTime(int64_t ns) { return ns >= -kMaxAbsTimeNs && ns <= kMaxAbsTimeNs; }

// Reads a required field; records the first error in `err`.
template <typename T>
void Get(const json& j, const char* key, T& out, Status& err) {
  if (!err.ok()) return;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    err = Status::InvalidArgument(std::string("missing field '") + key + "'");
    return;
  }
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann converts a float or an out-of-range integer with a plain cast
    // (undefined behaviour for a float beyond T's range): take only integers
    // that fit.
    if (!it->is_number_integer()) {
      err = Status::InvalidArgument(std::string("field '") + key + "' is not an integer");
      return;
    }
    bool fits = it->is_number_unsigned() ? std::in_range<T>(it->get<uint64_t>())
                                         : std::in_range<T>(it->get<int64_t>());
    if (!fits) {
      err = Status::InvalidArgument(std::string("field '") + key + "' is out of range");
      return;
    }
  }
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    err = Status::InvalidArgument(std::string("field '") + key + "' has the wrong type");
  }
}

// Reads an optional field: absent or null leaves `out` unchanged.
template <typename T>
void GetOpt(const json& j, const char* key, T& out, Status& err) {
  if (!err.ok() || !j.contains(key) || j[key].is_null()) return;
  Get(j, key, out, err);
}

template <typename Enum>
void GetEnum(const json& j, const char* key, Enum& out,
             std::optional<Enum> (*from_name)(std::string_view), Status& err) {
  std::string name;
  Get(j, key, name, err);
  if (!err.ok()) return;
  std::optional<Enum> v = from_name(name);
  if (!v) {
    err = Status::InvalidArgument(std::string("field '") + key + "' has unknown value '" + name +
                                  "'");
    return;
  }
  out = *v;
}

PacerStart PacerStartFromJson(const json& j, Status& err) {
  PacerStart p;
  Get(j, "assist_ratio", p.assist_ratio, err);
  Get(j, "heap_scan_bytes", p.heap_scan_bytes, err);
  Get(j, "heap_live_start_bytes", p.heap_live_start_bytes, err);
  Get(j, "heap_goal_bytes", p.heap_goal_bytes, err);
  Get(j, "dedicated_workers", p.dedicated_workers, err);
  Get(j, "fractional_utilization_goal", p.fractional_utilization_goal, err);
  return p;
}

PacerEnd PacerEndFromJson(const json& j, Status& err) {
  PacerEnd p;
  Get(j, "utilization_percent", p.utilization_percent, err);
  Get(j, "goal_utilization_percent", p.goal_utilization_percent, err);
  Get(j, "heap_scan_work_bytes", p.heap_scan_work_bytes, err);
  Get(j, "stack_scan_work_bytes", p.stack_scan_work_bytes, err);
  Get(j, "globals_scan_work_bytes", p.globals_scan_work_bytes, err);
  Get(j, "expected_scan_work_bytes", p.expected_scan_work_bytes, err);
  Get(j, "trigger_heap_bytes", p.trigger_heap_bytes, err);
  Get(j, "heap_live_bytes", p.heap_live_bytes, err);
  Get(j, "goal_delta_bytes", p.goal_delta_bytes, err);
  Get(j, "cons_mark", p.cons_mark, err);
  GetOpt(j, "controller_reset", p.controller_reset, err);
  return p;
}

PacerSweepDone SweepDoneFromJson(const json& j, Status& err) {
  PacerSweepDone s;
  Get(j, "heap_bytes", s.heap_bytes, err);
  Get(j, "allocated_during_sweep_bytes", s.allocated_during_sweep_bytes, err);
  Get(j, "pages_swept", s.pages_swept, err);
  Get(j, "pages_per_byte", s.pages_per_byte, err);
  return s;
}

StwPause PauseFromJson(const json& j, Status& err) {
  StwPause p;
  Get(j, "start_ns", p.start_ns, err);
  Get(j, "duration_ns", p.duration_ns, err);
  GetEnum(j, "kind", p.kind, &StwKindFromName, err);
  GetEnum(j, "reason", p.reason, &StwReasonFromName, err);
  GetOpt(j, "gc", p.gc_number, err);
  if (err.ok() && (!ValidTime(p.start_ns) || !ValidDuration(p.duration_ns))) {
    err = Status::InvalidArgument("pause start or duration out of range");
  }
  return p;
}

}  // namespace

json CycleToJson(const GcCycle& c) {
  json j{{"gc", c.number},
         {"start_ns", c.start_ns},
         {"sweep_term_ns", c.sweep_term_ns},
         {"mark_ns", c.mark_ns},
         {"mark_term_ns", c.mark_term_ns},
         {"pause_ns", c.pause_ns()},
         {"cpu_sweep_term_ns", c.cpu.sweep_term_ns},
         {"cpu_assist_ns", c.cpu.assist_ns},
         {"cpu_background_ns", c.cpu.background_ns},
         {"cpu_idle_ns", c.cpu.idle_ns},
         {"cpu_mark_term_ns", c.cpu.mark_term_ns},
         {"heap_start_bytes", c.heap_start_bytes},
         {"heap_end_bytes", c.heap_end_bytes},
         {"heap_live_bytes", c.heap_live_bytes},
         {"heap_goal_bytes", c.heap_goal_bytes},
         {"allocated_bytes", c.allocated_bytes},
         {"byte_resolution", c.byte_resolution},
         {"gomaxprocs", c.gomaxprocs},
         {"trigger", GcTriggerName(c.trigger)},
         {"cpu_percent_since_start", c.cpu_percent_since_start},
         {"cycle_source", EventSourceName(c.source)}};
  if (c.stacks_bytes) j["stacks_bytes"] = *c.stacks_bytes;
  if (c.globals_bytes) j["globals_bytes"] = *c.globals_bytes;
  if (c.pacer_start) j["pacer_start"] = PacerStartToJson(*c.pacer_start);
  if (c.pacer_end) j["pacer_end"] = PacerEndToJson(*c.pacer_end);
  if (c.prev_sweep_done) j["prev_sweep_done"] = SweepDoneToJson(*c.prev_sweep_done);
  return j;
}

StatusOr<GcCycle> CycleFromJson(const json& j) {
  Status err;
  GcCycle c;
  Get(j, "gc", c.number, err);
  Get(j, "start_ns", c.start_ns, err);
  Get(j, "sweep_term_ns", c.sweep_term_ns, err);
  Get(j, "mark_ns", c.mark_ns, err);
  Get(j, "mark_term_ns", c.mark_term_ns, err);
  Get(j, "cpu_sweep_term_ns", c.cpu.sweep_term_ns, err);
  Get(j, "cpu_assist_ns", c.cpu.assist_ns, err);
  Get(j, "cpu_background_ns", c.cpu.background_ns, err);
  Get(j, "cpu_idle_ns", c.cpu.idle_ns, err);
  Get(j, "cpu_mark_term_ns", c.cpu.mark_term_ns, err);
  Get(j, "heap_start_bytes", c.heap_start_bytes, err);
  Get(j, "heap_end_bytes", c.heap_end_bytes, err);
  Get(j, "heap_live_bytes", c.heap_live_bytes, err);
  Get(j, "heap_goal_bytes", c.heap_goal_bytes, err);
  GetOpt(j, "allocated_bytes", c.allocated_bytes, err);
  GetOpt(j, "byte_resolution", c.byte_resolution, err);
  GetOpt(j, "gomaxprocs", c.gomaxprocs, err);
  GetOpt(j, "cpu_percent_since_start", c.cpu_percent_since_start, err);
  if (err.ok() && j.contains("trigger")) GetEnum(j, "trigger", c.trigger, &GcTriggerFromName, err);
  if (err.ok() && j.contains("cycle_source")) {
    GetEnum(j, "cycle_source", c.source, &EventSourceFromName, err);
  }
  uint64_t v = 0;
  if (err.ok() && j.contains("stacks_bytes")) {
    Get(j, "stacks_bytes", v, err);
    c.stacks_bytes = v;
  }
  if (err.ok() && j.contains("globals_bytes")) {
    Get(j, "globals_bytes", v, err);
    c.globals_bytes = v;
  }
  if (err.ok() && j.contains("pacer_start"))
    c.pacer_start = PacerStartFromJson(j["pacer_start"], err);
  if (err.ok() && j.contains("pacer_end")) c.pacer_end = PacerEndFromJson(j["pacer_end"], err);
  if (err.ok() && j.contains("prev_sweep_done")) {
    c.prev_sweep_done = SweepDoneFromJson(j["prev_sweep_done"], err);
  }
  if (!err.ok()) return err;
  if (c.sweep_term_ns < 0 || c.mark_ns < 0 || c.mark_term_ns < 0) {
    return Status::InvalidArgument("negative phase duration");
  }
  if (!ValidTime(c.start_ns) || !ValidDuration(c.sweep_term_ns) || !ValidDuration(c.mark_ns) ||
      !ValidDuration(c.mark_term_ns) || !ValidDuration(c.cpu.sweep_term_ns) ||
      !ValidDuration(c.cpu.assist_ns) || !ValidDuration(c.cpu.background_ns) ||
      !ValidDuration(c.cpu.idle_ns) || !ValidDuration(c.cpu.mark_term_ns)) {
    return Status::InvalidArgument("cycle start or duration out of range");
  }
  return c;
}

json EventToJson(const Event& e) {
  json j;
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, ProcessSeen>) {
          j = json{{"type", "process_seen"},
                   {"comm", p.info.comm},
                   {"exe", p.info.exe},
                   {"go_version", p.info.go_version},
                   {"container", p.info.container},
                   {"gomaxprocs", p.info.gomaxprocs}};
        } else if constexpr (std::is_same_v<T, ProcessExited>) {
          j = json{{"type", "process_exited"}, {"exit_code", p.exit_code}, {"signal", p.signal}};
          if (p.exec) j["exec"] = true;
        } else if constexpr (std::is_same_v<T, GcCycleObserved>) {
          j = CycleToJson(p.cycle);
          j["type"] = "gc_cycle";
        } else if constexpr (std::is_same_v<T, PacerStartObserved>) {
          j = PacerStartToJson(p.pacer);
          j["type"] = "pacer_start";
        } else if constexpr (std::is_same_v<T, PacerEndObserved>) {
          j = PacerEndToJson(p.pacer);
          j["type"] = "pacer_end";
        } else if constexpr (std::is_same_v<T, PacerSweepDoneObserved>) {
          j = SweepDoneToJson(p.sweep);
          j["type"] = "pacer_sweep_done";
        } else if constexpr (std::is_same_v<T, TimeTriggerObserved>) {
          j = json{{"type", "time_trigger"}};
        } else if constexpr (std::is_same_v<T, StwObserved>) {
          j = PauseToJson(p.pause);
          j["type"] = "stw_pause";
        } else if constexpr (std::is_same_v<T, InputProblem>) {
          j = json{{"type", "input_problem"},
                   {"line", p.line_number},
                   {"problem", p.problem},
                   {"excerpt", p.excerpt}};
        }
      },
      e.payload);
  j["v"] = kEventSchemaVersion;
  j["ts_ns"] = e.ts_ns;
  j["pid"] = e.process.pid;
  j["gen"] = e.process.generation;
  j["source"] = EventSourceName(e.source);
  return j;
}

std::string EventToJsonLine(const Event& event) {
  return EventToJson(event).dump(-1, ' ', false, json::error_handler_t::replace);
}

StatusOr<std::optional<Event>> EventFromJsonLine(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  Status err;
  std::string type;
  Get(j, "type", type, err);
  if (!err.ok()) return err;
  int version = 0;
  Get(j, "v", version, err);
  if (!err.ok()) return err;
  if (version > kEventSchemaVersion || version < 1) {
    return Status::InvalidArgument("event schema version " + std::to_string(version) +
                                   " is not supported (this gcpilot reads 1.." +
                                   std::to_string(kEventSchemaVersion) + ")");
  }
  Event e;
  Get(j, "ts_ns", e.ts_ns, err);
  GetOpt(j, "pid", e.process.pid, err);
  GetOpt(j, "gen", e.process.generation, err);
  if (err.ok() && j.contains("source")) GetEnum(j, "source", e.source, &EventSourceFromName, err);
  if (!err.ok()) return err;

  if (type == "process_seen") {
    ProcessSeen p;
    GetOpt(j, "comm", p.info.comm, err);
    GetOpt(j, "exe", p.info.exe, err);
    GetOpt(j, "go_version", p.info.go_version, err);
    GetOpt(j, "container", p.info.container, err);
    GetOpt(j, "gomaxprocs", p.info.gomaxprocs, err);
    e.payload = p;
  } else if (type == "process_exited") {
    ProcessExited p;
    GetOpt(j, "exit_code", p.exit_code, err);
    GetOpt(j, "signal", p.signal, err);
    GetOpt(j, "exec", p.exec, err);
    e.payload = p;
  } else if (type == "gc_cycle") {
    StatusOr<GcCycle> c = CycleFromJson(j);
    if (!c.ok()) return c.status();
    e.payload = GcCycleObserved{*c};
  } else if (type == "pacer_start") {
    e.payload = PacerStartObserved{PacerStartFromJson(j, err)};
  } else if (type == "pacer_end") {
    e.payload = PacerEndObserved{PacerEndFromJson(j, err)};
  } else if (type == "pacer_sweep_done") {
    e.payload = PacerSweepDoneObserved{SweepDoneFromJson(j, err)};
  } else if (type == "time_trigger") {
    e.payload = TimeTriggerObserved{};
  } else if (type == "stw_pause") {
    e.payload = StwObserved{PauseFromJson(j, err)};
  } else if (type == "input_problem") {
    InputProblem p;
    GetOpt(j, "line", p.line_number, err);
    Get(j, "problem", p.problem, err);
    GetOpt(j, "excerpt", p.excerpt, err);
    e.payload = p;
  } else {
    return std::optional<Event>();
  }
  if (!err.ok()) return err;
  return std::optional<Event>(std::move(e));
}

}  // namespace gcpilot
