// std::regex baseline parser for the benchmark (see the header).
#include "bench/regex_gctrace_parser.h"

#include <cmath>
#include <cstdint>
#include <regex>
#include <string>

namespace gcpilot::bench {
namespace {

using gctrace::LineKind;
using gctrace::ParsedLine;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Building blocks of the patterns.
#define GCP_NUM "([0-9]+(?:\\.[0-9]+)?)"                          // 12 or 0.034
#define GCP_INT "([0-9]+)"                                        // 12
#define GCP_SINT "(-?[0-9]+)"                                     // -12
#define GCP_FLOAT "([-+]?[0-9]+(?:\\.[0-9]+)?(?:e[-+]?[0-9]+)?)"  // +5.25e-002

const std::regex& GcRe() {
  static const std::regex re("\\bgc " GCP_INT " @" GCP_NUM "s " GCP_INT "%: " GCP_NUM "\\+" GCP_NUM
                             "\\+" GCP_NUM " ms clock, " GCP_NUM "\\+" GCP_NUM "/" GCP_NUM
                             "/" GCP_NUM "\\+" GCP_NUM " ms cpu, " GCP_INT "->" GCP_INT "->" GCP_INT
                             " MB, " GCP_INT " MB goal, (?:" GCP_INT " MB stacks, )?(?:" GCP_INT
                             " MB globals, )?" GCP_INT " P( \\(forced\\))?",
                             std::regex::optimize);
  return re;
}

const std::regex& PacerStartRe() {
  static const std::regex re("pacer: assist ratio=" GCP_FLOAT " \\(scan " GCP_INT " MB in " GCP_INT
                             "->" GCP_INT " MB\\) workers=" GCP_SINT "\\+" GCP_FLOAT,
                             std::regex::optimize);
  return re;
}

const std::regex& PacerEndRe() {
  static const std::regex re(
      "pacer: " GCP_SINT "% CPU \\(" GCP_SINT " exp\\.\\) for " GCP_INT "\\+" GCP_INT "\\+" GCP_INT
      " B work \\(" GCP_INT " B exp\\.\\) in " GCP_INT " B -> " GCP_INT
      " B \\(\xE2\x88\x86goal " GCP_SINT ", cons/mark " GCP_FLOAT "\\)(\\[controller reset\\])?",
      std::regex::optimize);
  return re;
}

const std::regex& SweepDoneRe() {
  static const std::regex re("pacer: sweep done at heap size " GCP_INT "MB; allocated " GCP_INT
                             "MB during sweep; swept " GCP_INT " pages at " GCP_FLOAT " pages/byte",
                             std::regex::optimize);
  return re;
}

const std::regex& TimeTriggerRe() {
  static const std::regex re("\\bGC forced[ \\t]*$", std::regex::optimize);
  return re;
}

#undef GCP_NUM
#undef GCP_INT
#undef GCP_SINT
#undef GCP_FLOAT

using Match = std::match_results<std::string_view::const_iterator>;

uint64_t U64(const Match& m, int i) { return std::stoull(m[i].str()); }
int64_t I64(const Match& m, int i) { return std::stoll(m[i].str()); }
double F64(const Match& m, int i) { return std::stod(m[i].str()); }
// A decimal number of `unit_ns` (ms or s), rounded to whole nanoseconds.
int64_t Ns(const Match& m, int i, double unit_ns) {
  return std::llround(std::stod(m[i].str()) * unit_ns);
}

void FillGc(const Match& m, ParsedLine& out) {
  GcCycle& g = out.cycle;
  g = GcCycle{};
  g.source = EventSource::kGctrace;
  g.byte_resolution = kMiB;
  g.number = U64(m, 1);
  g.start_ns = Ns(m, 2, 1e9);
  g.cpu_percent_since_start = std::stoi(m[3].str());
  g.sweep_term_ns = Ns(m, 4, 1e6);
  g.mark_ns = Ns(m, 5, 1e6);
  g.mark_term_ns = Ns(m, 6, 1e6);
  g.cpu.sweep_term_ns = Ns(m, 7, 1e6);
  g.cpu.assist_ns = Ns(m, 8, 1e6);
  g.cpu.background_ns = Ns(m, 9, 1e6);
  g.cpu.idle_ns = Ns(m, 10, 1e6);
  g.cpu.mark_term_ns = Ns(m, 11, 1e6);
  g.heap_start_bytes = U64(m, 12) * kMiB;
  g.heap_end_bytes = U64(m, 13) * kMiB;
  g.heap_live_bytes = U64(m, 14) * kMiB;
  g.heap_goal_bytes = U64(m, 15) * kMiB;
  if (m[16].matched) g.stacks_bytes = U64(m, 16) * kMiB;
  if (m[17].matched) g.globals_bytes = U64(m, 17) * kMiB;
  g.gomaxprocs = std::stoi(m[18].str());
  if (m[19].matched) g.trigger = GcTrigger::kForced;
  out.kind = LineKind::kGcCycle;
}

void FillPacerStart(const Match& m, ParsedLine& out) {
  PacerStart& p = out.pacer_start;
  p = PacerStart{};
  p.assist_ratio = F64(m, 1);
  p.heap_scan_bytes = U64(m, 2) * kMiB;
  p.heap_live_start_bytes = U64(m, 3) * kMiB;
  p.heap_goal_bytes = U64(m, 4) * kMiB;
  p.dedicated_workers = I64(m, 5);
  p.fractional_utilization_goal = F64(m, 6);
  out.kind = LineKind::kPacerStart;
}

void FillPacerEnd(const Match& m, ParsedLine& out) {
  PacerEnd& p = out.pacer_end;
  p = PacerEnd{};
  p.utilization_percent = I64(m, 1);
  p.goal_utilization_percent = I64(m, 2);
  p.heap_scan_work_bytes = U64(m, 3);
  p.stack_scan_work_bytes = U64(m, 4);
  p.globals_scan_work_bytes = U64(m, 5);
  p.expected_scan_work_bytes = U64(m, 6);
  p.trigger_heap_bytes = U64(m, 7);
  p.heap_live_bytes = U64(m, 8);
  p.goal_delta_bytes = I64(m, 9);
  p.cons_mark = F64(m, 10);
  p.controller_reset = m[11].matched;
  out.kind = LineKind::kPacerEnd;
}

void FillSweepDone(const Match& m, ParsedLine& out) {
  PacerSweepDone& s = out.sweep_done;
  s = PacerSweepDone{};
  s.heap_bytes = U64(m, 1) * kMiB;
  s.allocated_during_sweep_bytes = U64(m, 2) * kMiB;
  s.pages_swept = U64(m, 3);
  s.pages_per_byte = F64(m, 4);
  out.kind = LineKind::kPacerSweepDone;
}

}  // namespace

LineKind RegexParseLineInto(std::string_view line, ParsedLine& out) {
  out.kind = LineKind::kNotTrace;
  out.error = {};
  out.error_column = 0;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  Match m;
  // A cheap substring test first, so program output does not pay for a
  // regex search at every position.
  if (line.find("gc ") != std::string_view::npos &&
      std::regex_search(line.begin(), line.end(), m, GcRe())) {
    FillGc(m, out);
    return out.kind;
  }
  size_t pacer = line.find("pacer: ");
  if (pacer != std::string_view::npos) {
    // The pacer patterns are tried anchored where "pacer: " starts.
    auto begin = line.begin() + static_cast<std::ptrdiff_t>(pacer);
    constexpr auto kAnchored = std::regex_constants::match_continuous;
    if (std::regex_search(begin, line.end(), m, PacerStartRe(), kAnchored)) {
      FillPacerStart(m, out);
    } else if (std::regex_search(begin, line.end(), m, PacerEndRe(), kAnchored)) {
      FillPacerEnd(m, out);
    } else if (std::regex_search(begin, line.end(), m, SweepDoneRe(), kAnchored)) {
      FillSweepDone(m, out);
    } else {
      out.kind = LineKind::kPacerOther;
    }
    return out.kind;
  }
  if (line.find("GC forced") != std::string_view::npos &&
      std::regex_search(line.begin(), line.end(), TimeTriggerRe())) {
    out.kind = LineKind::kTimeTrigger;
  }
  return out.kind;
}

}  // namespace gcpilot::bench
