// Bounded per-process history and shared statistics (see process_history.h).
#include "detect/process_history.h"

#include <algorithm>
#include <cmath>

namespace gcpilot::detect {

GaugeValues GaugeValues::From(const proc::RuntimeGauges& r) {
  GaugeValues g;
  g.gogc = r.gogc;
  g.memory_limit_bytes = r.memory_limit;
  g.goroutines = r.goroutines;
  g.heap_in_use_bytes = r.heap_live_bytes;
  g.heap_inuse_pages_bytes = r.heap_inuse_bytes;
  g.finalizer_backlog = r.finalizer_backlog;
  g.finalizer_backlog_truncated = r.finalizer_backlog_truncated;
  return g;
}

CycleBrief CycleBrief::From(const GcCycle& c) {
  CycleBrief b;
  b.number = c.number;
  b.end_ns = c.end_ns();
  b.sweep_term_ns = c.sweep_term_ns;
  b.mark_ns = c.mark_ns;
  b.mark_term_ns = c.mark_term_ns;
  b.heap_live_bytes = c.heap_live_bytes;
  b.heap_goal_bytes = c.heap_goal_bytes;
  return b;
}

void ProcessHistory::AddCycle(const CycleBrief& c) {
  cycles.push_back(c);
  while (cycles.size() > kMaxCycles) cycles.pop_front();
}

void ProcessHistory::AddSample(const GaugeSample& s) {
  samples.push_back(s);
  while (samples.size() > kMaxSamples) samples.pop_front();
}

const WindowStats* ProcessHistory::Latest(std::string_view view) const {
  auto it = latest.find(view);
  return it == latest.end() ? nullptr : &it->second;
}

CycleRange CyclesIn(const ProcessHistory& h, int64_t start_ns, int64_t end_ns) {
  CycleRange r;
  for (const CycleBrief& c : h.cycles) {
    if (c.end_ns < start_ns || c.end_ns >= end_ns) continue;
    if (r.count == 0 || c.number < r.first) r.first = c.number;
    r.last = std::max(r.last, c.number);
    ++r.count;
  }
  return r;
}

std::optional<int64_t> PauseQuantileBefore(const ProcessHistory& h, int64_t before_ns, double q,
                                           size_t min_samples, size_t max_samples) {
  std::vector<int64_t> v;
  for (auto it = h.cycles.rbegin(); it != h.cycles.rend() && v.size() < max_samples; ++it) {
    if (it->end_ns >= before_ns) continue;
    v.push_back(it->sweep_term_ns);
    v.push_back(it->mark_term_ns);
  }
  if (v.size() < min_samples || v.empty()) return std::nullopt;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1];
}

std::optional<LineFit> FitLine(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0) return std::nullopt;
  LineFit f;
  f.n = x.size();
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  f.r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
  return f;
}

}  // namespace gcpilot::detect
