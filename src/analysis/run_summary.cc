// RunSummary implementation: accumulation and the RunReport arithmetic.
// Thread-safety: see run_summary.h.
#include "analysis/run_summary.h"

#include <algorithm>
#include <utility>

namespace gcpilot {
namespace {

double Ratio(double num, double den) { return den > 0 ? num / den : 0; }

}  // namespace

RunSummary::RunSummary(double risk_alloc_bytes_per_sec, std::string risk_view)
    : risk_view_(std::move(risk_view)), risk_(risk_alloc_bytes_per_sec) {}

void RunSummary::AddCycle(const GcCycle& c) {
  const int64_t end = c.end_ns();
  if (cycles_ == 0) {
    first_start_ns_ = last_start_ns_ = c.start_ns;
    first_end_ns_ = last_end_ns_ = end;
    first_end_alloc_ = c.allocated_bytes;
    live_min_ = live_max_ = c.heap_live_bytes;
  } else {
    if (c.start_ns < last_start_ns_) ++out_of_order_;
    first_start_ns_ = std::min(first_start_ns_, c.start_ns);
    last_start_ns_ = std::max(last_start_ns_, c.start_ns);
    last_end_ns_ = std::max(last_end_ns_, end);
    if (end < first_end_ns_) {
      first_end_ns_ = end;
      first_end_alloc_ = c.allocated_bytes;
    }
    live_min_ = std::min(live_min_, c.heap_live_bytes);
    live_max_ = std::max(live_max_, c.heap_live_bytes);
  }
  ++cycles_;
  switch (c.trigger) {
    case GcTrigger::kForced:
      ++forced_;
      break;
    case GcTrigger::kTime:
      ++time_;
      break;
    case GcTrigger::kHeap:
      ++heap_;
      break;
    case GcTrigger::kUnknown:
      ++unknown_trigger_;
      break;
  }
  allocated_ += c.allocated_bytes;

  if (c.number != 0) {
    if (has_number_ && c.number <= last_number_) {
      ++repeated_numbers_;
    } else {
      if (has_number_) missing_numbers_ += c.number - last_number_ - 1;
      last_number_ = c.number;
      has_number_ = true;
    }
  }

  const auto sweep = static_cast<double>(c.sweep_term_ns);
  const auto mark_term = static_cast<double>(c.mark_term_ns);
  sweep_term_.Add(sweep);
  mark_term_.Add(mark_term);
  all_pauses_.Add(sweep);
  all_pauses_.Add(mark_term);
  cycle_pauses_.Add(static_cast<double>(c.pause_ns()));
  mark_.Add(static_cast<double>(c.mark_ns));

  cpu_.sweep_term_ns += c.cpu.sweep_term_ns;
  cpu_.assist_ns += c.cpu.assist_ns;
  cpu_.background_ns += c.cpu.background_ns;
  cpu_.idle_ns += c.cpu.idle_ns;
  cpu_.mark_term_ns += c.cpu.mark_term_ns;
  if (c.gomaxprocs > 0) {
    if (gomaxprocs_ == 0 || c.start_ns >= gomaxprocs_at_ns_) {
      gomaxprocs_ = c.gomaxprocs;
      gomaxprocs_at_ns_ = c.start_ns;
    }
    gomaxprocs_min_ = gomaxprocs_min_ == 0 ? c.gomaxprocs : std::min(gomaxprocs_min_, c.gomaxprocs);
    gomaxprocs_max_ = std::max(gomaxprocs_max_, c.gomaxprocs);
  }

  heap_series_.Add(end, c.heap_live_bytes, c.heap_goal_bytes);
  live_sum_ += static_cast<double>(c.heap_live_bytes);
  goal_max_ = std::max(goal_max_, c.heap_goal_bytes);
}

void RunSummary::AddPause(const StwPause& pause) {
  if (pause.kind != StwKind::kOther) return;
  const auto d = static_cast<double>(pause.duration_ns);
  other_stops_.Add(d);
  auto reason = static_cast<size_t>(pause.reason);
  if (reason >= stops_by_reason_.size()) reason = 0;  // kUnknown.
  stops_by_reason_[reason].Add(d);
}

void RunSummary::AddWindow(const WindowStats& window) {
  if (window.view == risk_view_) risk_.Add(window);
}

RunReport RunSummary::Finish() const {
  RunReport r;
  r.cycles = cycles_;
  r.forced_cycles = forced_;
  r.time_cycles = time_;
  r.heap_cycles = heap_;
  r.unknown_trigger_cycles = unknown_trigger_;
  if (cycles_ > 0) {
    r.first_cycle_start_ns = first_start_ns_;
    r.last_cycle_start_ns = last_start_ns_;
    r.last_cycle_end_ns = last_end_ns_;
    r.span_ns = std::max<int64_t>(0, last_end_ns_ - first_start_ns_);
  }
  if (cycles_ >= 2) {
    r.gcs_per_sec = Ratio(static_cast<double>(cycles_ - 1),
                          static_cast<double>(last_start_ns_ - first_start_ns_) / 1e9);
    r.alloc_bytes_per_sec = Ratio(static_cast<double>(allocated_ - first_end_alloc_),
                                  static_cast<double>(last_end_ns_ - first_end_ns_) / 1e9);
  }
  r.allocated_bytes = allocated_;

  r.sweep_term_pauses = SummarizeSketch(sweep_term_);
  r.mark_term_pauses = SummarizeSketch(mark_term_);
  r.all_pauses = SummarizeSketch(all_pauses_);
  r.cycle_pauses = SummarizeSketch(cycle_pauses_);
  r.concurrent_mark = SummarizeSketch(mark_);

  r.gc_cpu = cpu_;
  r.gc_cpu_excluding_idle_ns = cpu_.TotalExcludingIdle();
  const auto excl_idle = static_cast<double>(r.gc_cpu_excluding_idle_ns);
  r.gc_cpu_share = Ratio(excl_idle, static_cast<double>(r.span_ns) * gomaxprocs_);
  const double all_gc = excl_idle + static_cast<double>(cpu_.idle_ns);
  r.gc_cpu_split.assist = Ratio(static_cast<double>(cpu_.assist_ns), all_gc);
  r.gc_cpu_split.background = Ratio(static_cast<double>(cpu_.background_ns), all_gc);
  r.gc_cpu_split.idle = Ratio(static_cast<double>(cpu_.idle_ns), all_gc);
  r.gc_cpu_split.stw = Ratio(static_cast<double>(cpu_.sweep_term_ns + cpu_.mark_term_ns), all_gc);
  r.assist_share_of_gc_cpu = Ratio(static_cast<double>(cpu_.assist_ns), excl_idle);
  r.gomaxprocs = gomaxprocs_;
  r.gomaxprocs_min = gomaxprocs_min_;
  r.gomaxprocs_max = gomaxprocs_max_;

  r.heap_series = heap_series_.Points();
  r.heap_live_min_bytes = live_min_;
  r.heap_live_max_bytes = live_max_;
  r.heap_live_avg_bytes = Ratio(live_sum_, static_cast<double>(cycles_));
  r.heap_goal_max_bytes = goal_max_;

  r.other_stops = SummarizeSketch(other_stops_);
  for (size_t i = 0; i < stops_by_reason_.size(); ++i) {
    const QuantileSketch& s = stops_by_reason_[i];
    if (s.empty()) continue;
    StopReasonSummary reason;
    reason.reason = static_cast<StwReason>(i);
    reason.count = s.count();
    reason.p99_ns = s.Quantile(0.99);
    reason.max_ns = s.max();
    r.other_stops_by_reason.push_back(reason);
  }

  r.risk_threshold_bytes_per_sec = risk_.threshold();
  r.risk_ranges = risk_.Ranges();
  r.risk_ranges_unlisted = risk_.unlisted();

  r.cycles_out_of_order = out_of_order_;
  r.missing_cycle_numbers = missing_numbers_;
  r.repeated_cycle_numbers = repeated_numbers_;
  r.windows_out_of_order = risk_.out_of_order();
  return r;
}

}  // namespace gcpilot
