// Text report (see the header). Durations in ms, sizes in MB (2^20 bytes, as
// gctrace prints them), shares in percent.
#include "export/report_text.h"

#include <fmt/format.h>

#include "export/format_units.h"

namespace gcpilot {
namespace {

std::string Seconds(int64_t ns) { return fmt::format("{:.3f}s", ns / 1e9); }

std::string DistRow(const char* name, const DistributionSummary& d) {
  if (d.count == 0) return fmt::format("    {:<13} {:>7}\n", name, 0);
  return fmt::format("    {:<13} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}\n", name, d.count,
                     FormatMs(d.p50), FormatMs(d.p90), FormatMs(d.p99), FormatMs(d.p999),
                     FormatMs(d.max), FormatMs(d.sum));
}

void AppendProcess(std::string& out, const ProcessReport& p, bool several) {
  const RunReport& r = p.run;
  const int64_t origin = p.origin_ns;
  std::string who = p.info.comm.empty() ? std::string("process") : p.info.comm;
  if (p.key.pid != 0) who += fmt::format(" (pid {})", p.key.pid);
  if (several || p.key.generation != 0) who += fmt::format(" run #{}", p.key.generation + 1);
  out += fmt::format("\n{}\n", who);
  out += fmt::format("  GC cycles       {} in {} ({:.2f} GC/s); forced {}, periodic {}, heap {}\n",
                     r.cycles, Seconds(r.span_ns), r.gcs_per_sec, r.forced_cycles, r.time_cycles,
                     r.heap_cycles);
  if (r.cycles == 0) return;
  out +=
      fmt::format("  time span       {} .. {} after the program started\n",
                  Seconds(r.first_cycle_start_ns - origin), Seconds(r.last_cycle_end_ns - origin));
  out += fmt::format("  allocation      {} total, {:.1f} MB/s average (from heap sizes)\n",
                     FormatMB(static_cast<double>(r.allocated_bytes)),
                     r.alloc_bytes_per_sec / kBytesPerMB);
  out += "  STW pause (ms)    count      p50      p90      p99    p99.9      max     total\n";
  out += DistRow("sweep term", r.sweep_term_pauses);
  out += DistRow("mark term", r.mark_term_pauses);
  out += DistRow("both", r.all_pauses);
  out += DistRow("per cycle", r.cycle_pauses);
  const DistributionSummary& m = r.concurrent_mark;
  double mark_share = r.span_ns > 0 ? m.sum / static_cast<double>(r.span_ns) : 0;
  out += fmt::format(
      "  concurrent mark p50 {} p99 {} max {} ms; {} total = {} of wall time (write barrier "
      "on)\n",
      FormatMs(m.p50), FormatMs(m.p99), FormatMs(m.max), FormatDuration(m.sum),
      FormatPercent(mark_share));
  out += fmt::format(
      "  GC CPU          {} of {} P{} (idle marking excluded); of GC CPU: assist {}, "
      "background {}, idle {}, STW {}\n",
      FormatPercent(r.gc_cpu_share), r.gomaxprocs, r.gomaxprocs == 1 ? "" : "s",
      FormatPercent(r.gc_cpu_split.assist), FormatPercent(r.gc_cpu_split.background),
      FormatPercent(r.gc_cpu_split.idle), FormatPercent(r.gc_cpu_split.stw));
  out += fmt::format("  heap            live min {} / avg {} / max {}; goal max {}\n",
                     FormatMB(static_cast<double>(r.heap_live_min_bytes)),
                     FormatMB(r.heap_live_avg_bytes),
                     FormatMB(static_cast<double>(r.heap_live_max_bytes)),
                     FormatMB(static_cast<double>(r.heap_goal_max_bytes)));
  if (!r.heap_series.empty()) {
    out += "  heap over time  (t: live min..max -> goal max)\n";
    // At most 12 rows: pick evenly from the (<= 60 point) series.
    size_t n = r.heap_series.size();
    size_t rows = std::min<size_t>(n, 12);
    for (size_t i = 0; i < rows; ++i) {
      const HeapPoint& h = r.heap_series[rows == 1 ? 0 : i * (n - 1) / (rows - 1)];
      out += fmt::format("    {:>10}  {:>5.0f}..{:<5.0f} -> {:.0f} MB\n",
                         Seconds(h.start_ns - origin), h.live_min_bytes / kBytesPerMB,
                         h.live_max_bytes / kBytesPerMB, h.goal_max_bytes / kBytesPerMB);
    }
  }
  if (r.risk_ranges.empty()) {
    out += fmt::format("  alloc-rate risk none: no 1 s window above {:.0f} MB/s\n",
                       r.risk_threshold_bytes_per_sec / kBytesPerMB);
  } else {
    out += fmt::format("  alloc-rate risk {} range(s) of 1 s windows above {:.0f} MB/s:\n",
                       r.risk_ranges.size() + r.risk_ranges_unlisted,
                       r.risk_threshold_bytes_per_sec / kBytesPerMB);
    size_t shown = 0;
    for (const RiskRange& rr : r.risk_ranges) {
      if (++shown > 10) {
        out += fmt::format("    ... and {} more (see --json)\n", r.risk_ranges.size() - 10);
        break;
      }
      out += fmt::format("    {} .. {}  peak {:.1f} MB/s, mean {:.1f} MB/s\n",
                         Seconds(rr.start_ns - origin), Seconds(rr.end_ns - origin),
                         rr.peak_alloc_bytes_per_sec / kBytesPerMB,
                         rr.mean_alloc_bytes_per_sec / kBytesPerMB);
    }
  }
  if (r.other_stops.count > 0) {
    out += fmt::format("  non-GC stops    {} (p99 {} ms, max {} ms)\n", r.other_stops.count,
                       FormatMs(r.other_stops.p99), FormatMs(r.other_stops.max));
    for (const StopReasonSummary& s : r.other_stops_by_reason) {
      out += fmt::format("    {:<26} {:>6}  max {} ms\n", StwReasonName(s.reason), s.count,
                         FormatMs(s.max_ns));
    }
  }
}

}  // namespace

std::string FormatTextReport(const ReportInput& in) {
  std::string out = in.header + "\n";
  const InputStats& s = in.stats;
  if (s.source == "ebpf") {
    out += fmt::format("input           eBPF probes on the Go runtime: {} records, {} dropped",
                       s.probe_records, s.drops);
  } else {
    out += fmt::format("input           {} lines, {} trace lines", s.lines, s.trace_lines);
  }
  if (s.restarts > 0) out += fmt::format(", {} restart(s) of the program", s.restarts);
  out += "\n";
  if (in.processes.empty()) out += "\nno GC cycles seen\n";
  for (const ProcessReport& p : in.processes) {
    AppendProcess(out, p, in.processes.size() > 1);
  }
  if (s.cut_at_end > 0) {
    out +=
        "\nnote            the last trace line was cut off: the program exited while the "
        "runtime printed it\n";
  }
  if (in.problems > 0) {
    out += fmt::format(
        "\ninput problems  {} (malformed {}, unknown pacer {}, duplicates {}, "
        "over-long lines {})\n",
        in.problems, s.malformed, s.unknown_pacer, s.duplicates, s.overlong_lines);
    for (const InputProblem& p : in.kept_problems) {
      if (p.line_number > 0) {
        out += fmt::format("  line {}: {}", p.line_number, p.problem);
      } else {
        out += "  " + p.problem;
      }
      if (!p.excerpt.empty()) out += fmt::format(": \"{}\"", p.excerpt);
      out += "\n";
    }
    if (in.problems > in.kept_problems.size()) {
      out += fmt::format("  ... and {} more\n", in.problems - in.kept_problems.size());
    }
  } else {
    out += "\ninput problems  none\n";
  }
  return out;
}

}  // namespace gcpilot
