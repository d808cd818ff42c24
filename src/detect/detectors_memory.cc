// Detectors of memory patterns: memory-limit thrash (needs GOMEMLIMIT from
// the runtime gauges), goroutine leak (needs the goroutine gauge) and heap
// surge (any source: the live heap of each cycle), the last two from a
// least-squares line through the per-second samples of the last minutes.
#include <algorithm>
#include <cstdint>

#include "detect/detectors_internal.h"

namespace gcpilot::detect::internal {
namespace {

using nlohmann::json;

// GOMEMLIMIT set, live heap >= memlimit_live_share of it (or the heap goal
// capped by it), while GC CPU share or GC frequency is high.
class MemlimitThrash final : public Detector {
 public:
  explicit MemlimitThrash(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "memory_limit_thrash"; }
  DataNeed needs() const override { return DataNeed::kGauges; }
  std::string_view view() const override { return "10s"; }
  int raise_after() const override { return 3; }
  int clear_after() const override { return 10; }
  std::string rule() const override {
    return Fmt(
        "GOMEMLIMIT set, live heap >= %s of it (or the heap goal capped by it) while GC "
        "CPU >= %s or >= %.1f GCs/s over 10 s (3 s in a row)",
        Percent(c_.memlimit_live_share).c_str(), Percent(c_.memlimit_gc_cpu).c_str(),
        c_.memlimit_gcs_per_sec);
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (!h.gauges.memory_limit_bytes) return Verdict::Unknown();
    const int64_t limit = *h.gauges.memory_limit_bytes;
    if (limit <= 0 || limit >= INT64_MAX / 2) return Verdict::Quiet();  // No limit.
    if (w.heap_live_bytes == 0) return Verdict::Unknown();
    const double lim = static_cast<double>(limit);
    const double live = static_cast<double>(w.heap_live_bytes);
    const double goal = static_cast<double>(w.heap_goal_bytes);
    bool capped = false;
    if (h.gauges.gogc && *h.gauges.gogc > 0) {
      const double gogc_goal = live * (1 + *h.gauges.gogc / 100.0);
      capped = goal >= 0.8 * lim && goal < 0.95 * gogc_goal;
    }
    const bool near = live >= c_.memlimit_live_share * lim || capped;
    const double cpu = w.gc_cpu_share;
    const bool busy = cpu >= c_.memlimit_gc_cpu || w.gcs_per_sec >= c_.memlimit_gcs_per_sec;
    const bool warm =
        cpu >= 0.75 * c_.memlimit_gc_cpu || w.gcs_per_sec >= 0.75 * c_.memlimit_gcs_per_sec;
    if (!near || (!busy && !warm)) return Verdict::Quiet();
    Verdict v;
    v.level = busy ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = (live >= lim || cpu >= 0.4) ? Severity::kCritical : Severity::kWarning;
    v.title = "Memory-limit thrash";
    v.summary =
        Fmt("Live heap %s is %s of GOMEMLIMIT %s and the GC runs %.1f times a second "
            "taking %s of CPU: the GC is fighting the memory limit (death spiral).",
            MiB(live).c_str(), Percent(live / lim).c_str(), MiB(lim).c_str(), w.gcs_per_sec,
            Percent(cpu).c_str());
    v.evidence = json{{"memory_limit_bytes", limit},
                      {"heap_live_bytes", w.heap_live_bytes},
                      {"heap_goal_bytes", w.heap_goal_bytes},
                      {"live_share_of_limit", live / lim},
                      {"goal_capped_by_limit", capped},
                      {"gogc", h.gauges.gogc ? json(*h.gauges.gogc) : json(nullptr)},
                      {"gc_cpu_share", cpu},
                      {"gcs_per_sec", w.gcs_per_sec},
                      {"window", WindowEvidence(w)},
                      {"cycles", CycleEvidence(h, w)}};
    v.fix =
        "The live heap has grown to the memory limit, so the GC runs back to back (up to its "
        "50% CPU cap) and frees little. Raise GOMEMLIMIT (keep it ~10-20% below the container "
        "limit, not at the live heap), find what keeps memory alive (pprof inuse_space), or "
        "shed load; if the live heap keeps growing it is a leak and the limit only delays "
        "the OOM.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

// A least-squares line through the samples of the last trend_window_ns.
struct Trend {
  LineFit fit;
  double span_s = 0;
  double start = 0;  // Fitted value at the first sample.
  double end = 0;    // ... and at the last.
  int64_t first_ns = 0;
  int64_t last_ns = 0;
};

template <typename Get>
std::optional<Trend> FitTrend(const ProcessHistory& h, const DetectorConfig& c, Get get) {
  if (h.samples.empty()) return std::nullopt;
  const int64_t now = h.samples.back().t_ns;
  std::vector<double> x, y;
  int64_t first = 0;
  for (const GaugeSample& s : h.samples) {
    if (s.t_ns < now - c.trend_window_ns) continue;
    std::optional<double> v = get(s);
    if (!v) continue;
    if (x.empty()) first = s.t_ns;
    x.push_back(static_cast<double>(s.t_ns - now) / 1e9);
    y.push_back(*v);
  }
  if (x.size() < 20 || now - first < c.trend_min_span_ns) return std::nullopt;
  std::optional<LineFit> f = FitLine(x, y);
  if (!f) return std::nullopt;
  Trend t;
  t.fit = *f;
  t.span_s = x.back() - x.front();
  t.start = f->intercept + f->slope * x.front();
  t.end = f->intercept + f->slope * x.back();
  t.first_ns = first;
  t.last_ns = now;
  return t;
}

json TrendEvidence(const Trend& t, const char* unit) {
  return json{
      {"slope_per_sec", t.fit.slope},
      {"unit", unit},
      {"r2", t.fit.r2},
      {"samples", t.fit.n},
      {"span_s", t.span_s},
      {"fitted_start", t.start},
      {"fitted_end", t.end},
      {"window", json{{"view", "samples"}, {"start_ns", t.first_ns}, {"end_ns", t.last_ns}}}};
}

// evidence["creation_sites"] and a sentence naming the growing sites, from
// the process's creation-site tracking (see creation_sites.h).
void AddCreationSites(const ProcessHistory& h, const DetectorConfig& c, Verdict& v) {
  if (!h.sites) {
    v.evidence["creation_sites"] = nullptr;
    v.evidence["creation_sites_note"] =
        "creation-site tracking starts when this detector suspects a leak; the sites follow "
        "within a few seconds";
    return;
  }
  const size_t top = static_cast<size_t>(c.sites_top);
  v.evidence["creation_sites"] = CreationSitesEvidence(*h.sites, top);
  if (h.sites->samples.empty()) {
    if (!h.sites->last_error.empty()) {
      v.summary += " Goroutine creation sites unavailable: " + h.sites->last_error + ".";
    }
    return;
  }
  std::vector<SiteGrowth> growing = GrowingCreationSites(*h.sites, 3, 1);
  if (!growing.empty()) {
    v.summary +=
        " Top functions starting goroutines that never end: " + GrowingSitesText(growing) + ".";
  } else if (h.sites->samples.size() == 1) {
    std::vector<SiteGrowth> most = RankCreationSites(*h.sites, 1);
    if (!most.empty()) {
      v.summary += Fmt(" Most live goroutines were started at %s (%lld); growth follows.",
                       most[0].site.Key().c_str(), static_cast<long long>(most[0].last_live));
    }
  }
}

class GoroutineLeak final : public Detector {
 public:
  explicit GoroutineLeak(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "goroutine_leak"; }
  bool wants_creation_sites() const override { return true; }
  DataNeed needs() const override { return DataNeed::kGauges; }
  std::string_view view() const override { return "1m"; }
  int raise_after() const override { return 2; }
  int clear_after() const override { return 12; }  // 1 min flat.
  std::string rule() const override {
    return Fmt(
        "goroutine count grows linearly (least squares over the last %.0f s, >= %.0f s "
        "covered, R^2 >= %.2f) by >= %.0f goroutines and >= %s of the start",
        static_cast<double>(c_.trend_window_ns) / 1e9,
        static_cast<double>(c_.trend_min_span_ns) / 1e9, c_.trend_min_r2, c_.leak_min_added,
        Percent(c_.leak_min_growth).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    (void)w;
    std::optional<Trend> t = FitTrend(h, c_, [](const GaugeSample& s) -> std::optional<double> {
      if (!s.goroutines) return std::nullopt;
      return static_cast<double>(*s.goroutines);
    });
    if (!t) return Verdict::Unknown();
    const double added = t->end - t->start;
    const bool fire = t->fit.slope > 0 && t->fit.r2 >= c_.trend_min_r2 &&
                      added >= c_.leak_min_added &&
                      added >= c_.leak_min_growth * std::max(1.0, t->start);
    const bool hold = t->fit.slope > 0 && t->fit.r2 >= 0.7 && added >= 0.5 * c_.leak_min_added;
    if (!fire && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = added >= 4 * std::max(1.0, t->start) ? Severity::kCritical : Severity::kWarning;
    v.title = "Goroutine leak";
    v.summary =
        Fmt("Goroutines grew steadily from about %.0f to %.0f in %.0f s (%.1f/s, R^2 "
            "%.2f): goroutines are started faster than they end.",
            t->start, t->end, t->span_s, t->fit.slope, t->fit.r2);
    v.evidence = TrendEvidence(*t, "goroutines");
    v.evidence["goroutines_now"] = h.gauges.goroutines ? json(*h.gauges.goroutines) : json(nullptr);
    AddCreationSites(h, c_, v);
    v.fix =
        "Goroutines that never return usually wait forever on a channel, a lock, a context "
        "that is never cancelled or a network call without a deadline. Take "
        "/debug/pprof/goroutine?debug=1 twice a minute apart and look at the stacks whose "
        "count grows (start with the creation sites in the evidence: the `go` statements "
        "whose goroutines pile up); give every blocking operation a context with a deadline and "
        "make sure "
        "every goroutine has a way to exit.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

class HeapSurge final : public Detector {
 public:
  explicit HeapSurge(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "heap_surge"; }
  bool wants_creation_sites() const override { return true; }
  DataNeed needs() const override { return DataNeed::kAnySource; }
  std::string_view view() const override { return "1m"; }
  int raise_after() const override { return 2; }
  int clear_after() const override { return 12; }
  std::string rule() const override {
    return Fmt(
        "live heap grows linearly (least squares over the last %.0f s, >= %.0f s "
        "covered, R^2 >= %.2f) by >= %s and >= %s of the start",
        static_cast<double>(c_.trend_window_ns) / 1e9,
        static_cast<double>(c_.trend_min_span_ns) / 1e9, c_.trend_min_r2,
        MiB(c_.surge_min_added_bytes).c_str(), Percent(c_.surge_min_growth).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    std::optional<Trend> t = FitTrend(h, c_, [](const GaugeSample& s) -> std::optional<double> {
      if (s.heap_live_bytes == 0) return std::nullopt;
      return static_cast<double>(s.heap_live_bytes);
    });
    if (!t) return Verdict::Unknown();
    const double added = t->end - t->start;
    const bool fire = t->fit.slope > 0 && t->fit.r2 >= c_.trend_min_r2 &&
                      added >= c_.surge_min_added_bytes &&
                      added >= c_.surge_min_growth * std::max(1.0, t->start);
    const bool hold =
        t->fit.slope > 0 && t->fit.r2 >= 0.7 && added >= 0.5 * c_.surge_min_added_bytes;
    if (!fire && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = added >= 2 * std::max(1.0, t->start) ? Severity::kCritical : Severity::kWarning;
    v.title = "Heap surge";
    v.summary = Fmt("The live heap grew steadily from %s to %s in %.0f s (%s, R^2 %.2f).",
                    MiB(t->start).c_str(), MiB(t->end).c_str(), t->span_s,
                    MBps(t->fit.slope).c_str(), t->fit.r2);
    v.evidence = TrendEvidence(*t, "bytes");
    v.evidence["heap_live_bytes_now"] = w.heap_live_bytes;
    AddCreationSites(h, c_, v);
    v.fix =
        "Memory that stays reachable keeps growing: an unbounded cache or map, a slice that "
        "is only appended to, goroutines that hold their buffers, or timers/tickers never "
        "stopped. Compare two pprof inuse_space heap profiles taken minutes apart "
        "(`go tool pprof -base old.pb.gz new.pb.gz`), bound caches by size or age, and "
        "release references when work is done.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

}  // namespace

std::unique_ptr<Detector> MakeMemlimitThrash(const DetectorConfig& c) {
  return std::make_unique<MemlimitThrash>(c);
}
std::unique_ptr<Detector> MakeGoroutineLeak(const DetectorConfig& c) {
  return std::make_unique<GoroutineLeak>(c);
}
std::unique_ptr<Detector> MakeHeapSurge(const DetectorConfig& c) {
  return std::make_unique<HeapSurge>(c);
}

}  // namespace gcpilot::detect::internal
