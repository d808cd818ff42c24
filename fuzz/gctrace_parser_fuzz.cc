// libFuzzer target for the gctrace line parser (gctrace::ParseLine /
// ParseLineInto): splits the input into lines, parses each, and checks the
// parser's contract on arbitrary bytes:
//   - it never crashes, reads out of bounds or hits undefined behaviour;
//   - kMalformed carries a non-empty reason and a column within the line;
//   - kGcCycle has non-negative times and durations;
//   - ParseLineInto on a reused ParsedLine (as GctraceSource does) gives the
//     same result as a fresh ParseLine: no state leaks from line to line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "sources/gctrace/gctrace_parser.h"

namespace {

using gcpilot::GcCycle;
using gcpilot::gctrace::LineKind;
using gcpilot::gctrace::ParsedLine;

bool SameCycle(const GcCycle& a, const GcCycle& b) {
  return a.number == b.number && a.start_ns == b.start_ns && a.sweep_term_ns == b.sweep_term_ns &&
         a.mark_ns == b.mark_ns && a.mark_term_ns == b.mark_term_ns &&
         a.cpu.sweep_term_ns == b.cpu.sweep_term_ns && a.cpu.assist_ns == b.cpu.assist_ns &&
         a.cpu.background_ns == b.cpu.background_ns && a.cpu.idle_ns == b.cpu.idle_ns &&
         a.cpu.mark_term_ns == b.cpu.mark_term_ns && a.heap_start_bytes == b.heap_start_bytes &&
         a.heap_end_bytes == b.heap_end_bytes && a.heap_live_bytes == b.heap_live_bytes &&
         a.heap_goal_bytes == b.heap_goal_bytes && a.stacks_bytes == b.stacks_bytes &&
         a.globals_bytes == b.globals_bytes && a.gomaxprocs == b.gomaxprocs &&
         a.trigger == b.trigger && a.cpu_percent_since_start == b.cpu_percent_since_start &&
         a.byte_resolution == b.byte_resolution && a.source == b.source;
}

// Same parse, comparing only what the kind defines. Doubles are compared
// bitwise-equal via ==; the parser never produces NaN.
bool SameParse(const ParsedLine& a, const ParsedLine& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case LineKind::kGcCycle:
      return SameCycle(a.cycle, b.cycle);
    case LineKind::kPacerStart: {
      const auto& x = a.pacer_start;
      const auto& y = b.pacer_start;
      return x.assist_ratio == y.assist_ratio && x.heap_scan_bytes == y.heap_scan_bytes &&
             x.heap_live_start_bytes == y.heap_live_start_bytes &&
             x.heap_goal_bytes == y.heap_goal_bytes && x.dedicated_workers == y.dedicated_workers &&
             x.fractional_utilization_goal == y.fractional_utilization_goal;
    }
    case LineKind::kPacerEnd: {
      const auto& x = a.pacer_end;
      const auto& y = b.pacer_end;
      return x.utilization_percent == y.utilization_percent &&
             x.goal_utilization_percent == y.goal_utilization_percent &&
             x.heap_scan_work_bytes == y.heap_scan_work_bytes &&
             x.stack_scan_work_bytes == y.stack_scan_work_bytes &&
             x.globals_scan_work_bytes == y.globals_scan_work_bytes &&
             x.expected_scan_work_bytes == y.expected_scan_work_bytes &&
             x.trigger_heap_bytes == y.trigger_heap_bytes &&
             x.heap_live_bytes == y.heap_live_bytes && x.goal_delta_bytes == y.goal_delta_bytes &&
             x.cons_mark == y.cons_mark && x.controller_reset == y.controller_reset;
    }
    case LineKind::kPacerSweepDone: {
      const auto& x = a.sweep_done;
      const auto& y = b.sweep_done;
      return x.heap_bytes == y.heap_bytes &&
             x.allocated_during_sweep_bytes == y.allocated_during_sweep_bytes &&
             x.pages_swept == y.pages_swept && x.pages_per_byte == y.pages_per_byte;
    }
    case LineKind::kMalformed:
      return a.error == b.error && a.error_column == b.error_column;
    default:
      return true;
  }
}

void CheckLine(std::string_view line, ParsedLine& reused) {
  ParsedLine p = gcpilot::gctrace::ParseLine(line);
  if (p.kind == LineKind::kMalformed) {
    FUZZ_CHECK(!p.error.empty());
    FUZZ_CHECK(p.error_column <= line.size());
  }
  if (p.kind == LineKind::kGcCycle) {
    const GcCycle& c = p.cycle;
    FUZZ_CHECK(c.start_ns >= 0);
    FUZZ_CHECK(c.sweep_term_ns >= 0 && c.mark_ns >= 0 && c.mark_term_ns >= 0);
    FUZZ_CHECK(c.cpu.sweep_term_ns >= 0 && c.cpu.assist_ns >= 0 && c.cpu.background_ns >= 0 &&
               c.cpu.idle_ns >= 0 && c.cpu.mark_term_ns >= 0);
    FUZZ_CHECK(c.gomaxprocs >= 0);
    FUZZ_CHECK(c.end_ns() >= c.start_ns);  // Computing it must not overflow either.
  }
  FUZZ_CHECK(!gcpilot::gctrace::LineKindName(p.kind).empty());
  gcpilot::gctrace::ParseLineInto(line, reused);
  FUZZ_CHECK(SameParse(p, reused));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParsedLine reused;
  size_t begin = 0;
  while (begin <= input.size()) {
    size_t nl = input.find('\n', begin);
    size_t end = nl == std::string_view::npos ? input.size() : nl;
    CheckLine(input.substr(begin, end - begin), reused);
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }
  // The whole input as one line too: embedded newlines and '\r' included.
  CheckLine(input, reused);
  return 0;
}
