// Detectors of the heap's and the finalizer queue's state, from gauges the
// agent reads in the live process's memory each second: fragmentation
// (heap in use, mheap_.pagesInUse, against the live heap marked by the last
// cycle) and finalizer backlog (finalizers queued and not yet finished).
#include <algorithm>
#include <cstdint>

#include "detect/detectors_internal.h"

namespace gcpilot::detect::internal {
namespace {

using nlohmann::json;

class Fragmentation final : public Detector {
 public:
  explicit Fragmentation(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "fragmentation"; }
  DataNeed needs() const override { return DataNeed::kGauges; }
  std::string_view view() const override { return "10s"; }
  int raise_after() const override { return 3; }
  int clear_after() const override { return 30; }
  std::string rule() const override {
    return Fmt(
        "heap in use (mheap_.pagesInUse x 8 KiB) at its lowest over the last %.0f s >= %.1f x "
        "the live heap marked by the last cycle, >= the heap goal, and >= %s above the live "
        "heap (3 s in a row)",
        static_cast<double>(c_.frag_window_ns) / 1e9, c_.frag_ratio,
        MiB(c_.frag_min_excess_bytes).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (h.samples.empty()) return Verdict::Unknown();
    const int64_t now = h.samples.back().t_ns;
    uint64_t min_inuse = UINT64_MAX, max_inuse = 0, live = 0, goal = 0;
    size_t n = 0;
    int64_t first = 0;
    for (const GaugeSample& s : h.samples) {
      if (s.t_ns < now - c_.frag_window_ns) continue;
      if (!s.heap_inuse_bytes || s.heap_live_bytes == 0) continue;
      if (n++ == 0) first = s.t_ns;
      min_inuse = std::min(min_inuse, *s.heap_inuse_bytes);
      max_inuse = std::max(max_inuse, *s.heap_inuse_bytes);
      live = std::max(live, s.heap_live_bytes);
      goal = std::max(goal, s.heap_goal_bytes);
    }
    // Two thirds of the window's seconds, and most of its span.
    const double need = static_cast<double>(c_.frag_window_ns) / 1e9 * 2 / 3;
    if (static_cast<double>(n) < need || now - first < c_.frag_window_ns * 2 / 3) {
      return Verdict::Unknown();
    }
    const double in = static_cast<double>(min_inuse);
    const double lv = static_cast<double>(live);
    const double excess = in - lv;
    const bool fire =
        in >= c_.frag_ratio * lv && min_inuse >= goal && excess >= c_.frag_min_excess_bytes;
    const bool hold = in >= 0.8 * c_.frag_ratio * lv && excess >= 0.5 * c_.frag_min_excess_bytes;
    if (!fire && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = in >= 2 * c_.frag_ratio * lv ? Severity::kCritical : Severity::kWarning;
    v.title = "Heap fragmentation";
    v.summary =
        Fmt("The heap keeps %s of spans in use (its lowest over %.0f s) for %s of live objects "
            "(%.1fx; heap goal %s): %s sit in spans that hold few live objects and are not reused.",
            MiB(in).c_str(), static_cast<double>(now - first) / 1e9, MiB(lv).c_str(), in / lv,
            MiB(static_cast<double>(goal)).c_str(), MiB(excess).c_str());
    v.evidence = json{{"heap_inuse_bytes_min", min_inuse},
                      {"heap_inuse_bytes_max", max_inuse},
                      {"heap_live_bytes", live},
                      {"heap_goal_bytes", goal},
                      {"inuse_to_live_ratio", in / lv},
                      {"excess_bytes", excess},
                      {"samples", n},
                      {"source",
                       "runtime.mheap_.pagesInUse x 8 KiB read from process memory each "
                       "second (no probe, no stop of the world)"},
                      {"window", json{{"view", "samples"}, {"start_ns", first}, {"end_ns", now}}},
                      {"window_10s", WindowEvidence(w)}};
    v.fix =
        "Spans (8 KiB pages of one object size) stay in use while only a few of their objects "
        "live, and freed slots only take objects of the same size class. This comes from "
        "allocating many objects of one size, keeping a sparse few of them for long (caches, "
        "maps of small values, sub-slices that pin big arrays), then allocating other sizes. "
        "Keep long-lived objects together (allocate them up front, or copy survivors into a "
        "fresh compact slice or map), copy small sub-slices out of big buffers instead of "
        "keeping references into them, and recycle temporary objects with sync.Pool. The "
        "runtime returns the unused pages to the OS over time (debug.FreeOSMemory forces it, "
        "at the cost of a GC), but only compaction by the program lowers the heap in use.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

class FinalizerBacklog final : public Detector {
 public:
  explicit FinalizerBacklog(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "finalizer_backlog"; }
  DataNeed needs() const override { return DataNeed::kGauges; }
  std::string_view view() const override { return "10s"; }
  int raise_after() const override { return 3; }
  int clear_after() const override { return 30; }
  std::string rule() const override {
    return Fmt(
        "finalizers queued and not yet finished grow linearly (least squares over the last "
        "%.0f s, >= %.0f s covered, R^2 >= %.2f) by >= %.0f, and >= %.0f are waiting now "
        "(3 s in a row)",
        static_cast<double>(c_.fin_window_ns) / 1e9, static_cast<double>(c_.fin_min_span_ns) / 1e9,
        c_.fin_min_r2, c_.fin_min_added, c_.fin_min_backlog);
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    (void)w;
    if (h.samples.empty() || !h.samples.back().finalizer_backlog) return Verdict::Unknown();
    const int64_t now = h.samples.back().t_ns;
    std::vector<double> x, y;
    int64_t first = 0;
    for (const GaugeSample& s : h.samples) {
      if (s.t_ns < now - c_.fin_window_ns || !s.finalizer_backlog) continue;
      if (x.empty()) first = s.t_ns;
      x.push_back(static_cast<double>(s.t_ns - now) / 1e9);
      y.push_back(static_cast<double>(*s.finalizer_backlog));
    }
    if (x.size() < 10 || now - first < c_.fin_min_span_ns) return Verdict::Unknown();
    std::optional<LineFit> f = FitLine(x, y);
    if (!f) return Verdict::Unknown();
    const double backlog = y.back();
    const double start = f->intercept + f->slope * x.front();
    const double end = f->intercept + f->slope * x.back();
    const double added = end - start;
    const bool fire = f->slope > 0 && f->r2 >= c_.fin_min_r2 && added >= c_.fin_min_added &&
                      backlog >= c_.fin_min_backlog;
    // Still a large queue (it has stopped growing, or grows unevenly).
    const bool hold = backlog >= c_.fin_min_backlog;
    if (!fire && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = backlog >= 10 * c_.fin_min_backlog ? Severity::kCritical : Severity::kWarning;
    v.title = "Finalizer backlog";
    const double span_s = x.back() - x.front();
    v.summary =
        Fmt("%.0f finalizers are waiting to run, up about %.0f in %.0f s (%.1f/s, R^2 %.2f): "
            "finalizers are queued faster than the single finalizer goroutine runs them, and "
            "the objects they hold stay in memory until then.",
            backlog, added, span_s, f->slope, f->r2);
    v.evidence =
        json{{"backlog_now", static_cast<int64_t>(backlog)},
             {"backlog_is_lower_bound", h.gauges.finalizer_backlog_truncated},
             {"slope_per_sec", f->slope},
             {"r2", f->r2},
             {"samples", f->n},
             {"span_s", span_s},
             {"fitted_start", start},
             {"fitted_end", end},
             {"source",
              "sum of finblock.cnt over runtime.allfin, read from process memory each second "
              "(queued in runtime.finq plus those of the batch being run; no probe, no stop of "
              "the world)"},
             {"window", json{{"view", "samples"}, {"start_ns", first}, {"end_ns", now}}}};
    v.fix =
        "All finalizers run one after another on one goroutine: a finalizer that blocks or is "
        "slow (I/O, locks, network calls, sleeping) holds up every other, and their objects "
        "and everything they reference stay in memory until it has run. Do not rely on "
        "runtime.SetFinalizer to release resources: close files, connections and handles "
        "explicitly (defer x.Close()), keep finalizers as a last-resort safety net that only "
        "logs or does a quick non-blocking release, and hand slow cleanup to your own worker "
        "pool from the finalizer instead of doing it there.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

}  // namespace

std::unique_ptr<Detector> MakeFragmentation(const DetectorConfig& c) {
  return std::make_unique<Fragmentation>(c);
}
std::unique_ptr<Detector> MakeFinalizerBacklog(const DetectorConfig& c) {
  return std::make_unique<FinalizerBacklog>(c);
}

}  // namespace gcpilot::detect::internal
