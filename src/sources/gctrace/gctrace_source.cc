// Lines -> events for gctrace output (see the header).
#include "sources/gctrace/gctrace_source.h"

#include <string>
#include <utility>

namespace gcpilot::gctrace {

std::string Excerpt(std::string_view line, size_t max_bytes) {
  std::string out;
  size_t n = std::min(line.size(), max_bytes);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (line.size() > max_bytes) out += "...";
  return out;
}

GctraceSource::GctraceSource(Options options, Emit emit)
    : options_(std::move(options)), emit_(std::move(emit)) {
  key_.pid = options_.pid;
}

Event GctraceSource::MakeEvent(EventPayload payload) const {
  Event e;
  e.ts_ns = last_ts_ns_;
  e.process = key_;
  e.source = EventSource::kGctrace;
  e.payload = std::move(payload);
  return e;
}

void GctraceSource::Announce() {
  if (announced_) return;
  announced_ = true;
  // The process started at "@0s" on its own axis: time_base_ns.
  Event e = MakeEvent(ProcessSeen{options_.info});
  e.ts_ns = options_.time_base_ns;
  emit_(e);
}

void GctraceSource::Problem(std::string problem, std::string_view line) {
  emit_(MakeEvent(InputProblem{stats_.lines, std::move(problem), Excerpt(line)}));
}

bool GctraceSource::OnLine(std::string_view line, bool unterminated_at_end) {
  ++stats_.lines;
  switch (ParseLineInto(line, parsed_)) {
    case LineKind::kNotTrace:
      return false;
    case LineKind::kMalformed:
      if (unterminated_at_end) {
        ++stats_.cut_at_end;
        break;
      }
      ++stats_.malformed;
      Announce();
      Problem("malformed trace line: expected " + std::string(parsed_.error) + " at column " +
                  std::to_string(parsed_.error_column + 1),
              line);
      break;
    case LineKind::kGcCycle: {
      GcCycle& cycle = parsed_.cycle;
      if (announced_ && cycle.number <= last_number_) {
        if (cycle.number == last_number_ && cycle.number != 1) {
          ++stats_.duplicates;
          Problem("duplicate line for gc " + std::to_string(cycle.number) + ": ignored", line);
          break;
        }
        // The counter went backwards: a new run of the program.
        ++stats_.restarts;
        ++key_.generation;
        announced_ = false;
      }
      ++stats_.cycles;
      cycle.start_ns += options_.time_base_ns;
      Announce();
      last_number_ = cycle.number;
      last_ts_ns_ = cycle.end_ns();
      Event e = MakeEvent(GcCycleObserved{cycle});
      e.ts_ns = cycle.end_ns();
      emit_(e);
      break;
    }
    case LineKind::kPacerStart:
      ++stats_.pacer_lines;
      Announce();
      emit_(MakeEvent(PacerStartObserved{parsed_.pacer_start}));
      break;
    case LineKind::kPacerEnd:
      ++stats_.pacer_lines;
      Announce();
      emit_(MakeEvent(PacerEndObserved{parsed_.pacer_end}));
      break;
    case LineKind::kPacerSweepDone:
      ++stats_.pacer_lines;
      Announce();
      emit_(MakeEvent(PacerSweepDoneObserved{parsed_.sweep_done}));
      break;
    case LineKind::kPacerOther:
      ++stats_.pacer_lines;
      ++stats_.unknown_pacer;
      Announce();
      Problem("pacer line of an unknown form: not used", line);
      break;
    case LineKind::kTimeTrigger:
      ++stats_.time_triggers;
      Announce();
      emit_(MakeEvent(TimeTriggerObserved{}));
      break;
  }
  ++stats_.trace_lines;
  return true;
}

void GctraceSource::OnOverlongLine(uint64_t length_bytes) {
  ++stats_.lines;
  ++stats_.overlong_lines;
  emit_(MakeEvent(InputProblem{stats_.lines,
                               "line of " + std::to_string(length_bytes) +
                                   " bytes is longer than any trace line: not parsed",
                               ""}));
}

void GctraceSource::OnExit(const ProcessExited& exit, int64_t ts_ns) {
  Announce();
  Event e = MakeEvent(exit);
  e.ts_ns = ts_ns;
  emit_(e);
}

}  // namespace gcpilot::gctrace
