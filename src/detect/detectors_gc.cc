// Detectors of GC work patterns every source supports (cycles and their
// CPU split): allocation storm, mark-assist stall, long write-barrier window.
#include <algorithm>

#include "detect/detectors_internal.h"

namespace gcpilot::detect::internal {
namespace {

using nlohmann::json;

// Alloc rate > storm_alloc_bytes_per_sec over consecutive 1 s windows, or
// >= storm_gcs_per_10s GCs in the last 10 s with short pauses.
class AllocStorm final : public Detector {
 public:
  explicit AllocStorm(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "allocation_storm"; }
  DataNeed needs() const override { return DataNeed::kAnySource; }
  std::string_view view() const override { return "1s"; }
  int raise_after() const override { return c_.storm_sustained_windows; }
  int clear_after() const override { return 20; }  // 10 s below.
  std::string rule() const override {
    return Fmt(
        "alloc rate > %s in %d consecutive 1 s windows, or >= %llu GCs in 10 s with "
        "pause P99 < %s",
        MBps(c_.storm_alloc_bytes_per_sec).c_str(), c_.storm_sustained_windows,
        static_cast<unsigned long long>(c_.storm_gcs_per_10s),
        Millis(static_cast<double>(c_.storm_short_pause_ns)).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    const WindowStats* ten = h.Latest("10s");
    const double rate = w.alloc_bytes_per_sec;
    const bool by_rate = rate > c_.storm_alloc_bytes_per_sec;
    const bool by_freq = ten != nullptr && ten->gc_cycles >= c_.storm_gcs_per_10s &&
                         ten->gc_pauses.p99 < static_cast<double>(c_.storm_short_pause_ns);
    const bool hold =
        rate > 0.8 * c_.storm_alloc_bytes_per_sec ||
        (ten != nullptr && static_cast<double>(ten->gc_cycles) >= 0.8 * c_.storm_gcs_per_10s);
    if (!by_rate && !by_freq && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = (by_rate || by_freq) ? Verdict::Level::kFire : Verdict::Level::kHold;
    const double gcs10 = ten ? ten->gcs_per_sec : w.gcs_per_sec;
    const double cpu = ten ? ten->gc_cpu_share : w.gc_cpu_share;
    v.severity = (rate > 10 * c_.storm_alloc_bytes_per_sec || cpu > 0.25) ? Severity::kCritical
                                                                          : Severity::kWarning;
    v.title = "Allocation storm";
    v.summary = Fmt("Allocating %s with %.1f GCs/s (GC takes %s of CPU over the last 10 s).",
                    MBps(rate).c_str(), gcs10, Percent(cpu).c_str());
    v.evidence = json{{"rule", by_rate ? "alloc_rate" : "gc_frequency"},
                      {"alloc_bytes_per_sec", rate},
                      {"threshold_bytes_per_sec", c_.storm_alloc_bytes_per_sec},
                      {"gcs_per_sec", w.gcs_per_sec},
                      {"gcs_last_10s", ten ? ten->gc_cycles : 0},
                      {"gc_cpu_share_10s", cpu},
                      {"pause_p99_ns_10s", ten ? ten->gc_pauses.p99 : 0.0},
                      {"heap_live_bytes", w.heap_live_bytes},
                      {"window", WindowEvidence(w)},
                      {"cycles", CycleEvidence(h, w)}};
    v.fix =
        "Find the allocation hot spots with `go tool pprof -sample_index=alloc_space` on "
        "/debug/pprof/heap and cut them: reuse buffers (sync.Pool, bytes.Buffer.Reset), "
        "preallocate slices and maps with their final capacity, avoid fmt.Sprintf and "
        "string/[]byte conversions in hot loops. Meanwhile a higher GOGC (or GOGC with a "
        "GOMEMLIMIT) makes GCs rarer at the cost of memory.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

// Assists' share of GC CPU > assist_share over 10 s while GC takes at least
// assist_min_gc_cpu of the CPU.
class MarkAssist final : public Detector {
 public:
  explicit MarkAssist(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "mark_assist_stall"; }
  DataNeed needs() const override { return DataNeed::kAnySource; }
  std::string_view view() const override { return "10s"; }
  int raise_after() const override { return 3; }
  int clear_after() const override { return 10; }
  std::string rule() const override {
    return Fmt("assist share of GC CPU > %s over 10 s while GC CPU >= %s (3 s in a row)",
               Percent(c_.assist_share).c_str(), Percent(c_.assist_min_gc_cpu).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (w.gc_cycles == 0) return Verdict::Quiet();
    if (w.gc_cpu.TotalExcludingIdle() <= 0 || w.gomaxprocs <= 0) return Verdict::Unknown();
    const double share = w.assist_share_of_gc_cpu;
    const double cpu = w.gc_cpu_share;
    const bool fire = share > c_.assist_share && cpu >= c_.assist_min_gc_cpu;
    const bool hold = share > 0.8 * c_.assist_share && cpu >= 0.8 * c_.assist_min_gc_cpu;
    if (!fire && !hold) return Verdict::Quiet();
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = (share > 0.5 && cpu > 0.2) ? Severity::kCritical : Severity::kWarning;
    v.title = "Mark-assist stall";
    v.summary =
        Fmt("Mutator goroutines did %s of the GC's CPU work as mark assists (GC takes "
            "%s of CPU, %.1f GCs/s): allocating goroutines are stalled paying for GC.",
            Percent(share).c_str(), Percent(cpu).c_str(), w.gcs_per_sec);
    v.evidence = json{{"assist_share_of_gc_cpu", share},
                      {"threshold", c_.assist_share},
                      {"gc_cpu_share", cpu},
                      {"assist_cpu_ns", w.gc_cpu.assist_ns},
                      {"background_cpu_ns", w.gc_cpu.background_ns},
                      {"gc_cpu_ns", w.gc_cpu.TotalExcludingIdle()},
                      {"gcs_per_sec", w.gcs_per_sec},
                      {"alloc_bytes_per_sec", w.alloc_bytes_per_sec},
                      {"heap_live_bytes", w.heap_live_bytes},
                      {"gomaxprocs", w.gomaxprocs},
                      {"window", WindowEvidence(w)},
                      {"cycles", CycleEvidence(h, w)}};
    v.fix =
        "Allocation outruns background marking, so the runtime makes allocating goroutines "
        "mark (latency on the request path). Allocate less during GC (pprof alloc_space), "
        "give the pacer more runway with a higher GOGC or a GOMEMLIMIT-based setup, shrink "
        "the pointer-heavy live heap that marking must scan, and make sure GOMAXPROCS "
        "matches the CPU quota (background marking gets 25% of GOMAXPROCS).";
    return v;
  }

 private:
  const DetectorConfig c_;
};

// Concurrent mark (write barrier on) covers > mark_wall_share of the last
// 10 s.
class LongMark final : public Detector {
 public:
  explicit LongMark(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "long_write_barrier"; }
  DataNeed needs() const override { return DataNeed::kAnySource; }
  std::string_view view() const override { return "10s"; }
  int raise_after() const override { return 3; }
  int clear_after() const override { return 10; }
  std::string rule() const override {
    return Fmt("concurrent mark (write barrier on) > %s of wall time over 10 s (3 s in a row)",
               Percent(c_.mark_wall_share).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (w.covered_ns <= 0) return Verdict::Unknown();
    const double share = w.mark_wall_share;
    const bool fire = share > c_.mark_wall_share && w.mark_wall_ns > 0;
    const bool hold = share > 0.8 * c_.mark_wall_share;
    if (!fire && !hold) return Verdict::Quiet();
    int64_t mark_sum = 0, mark_max = 0;
    uint64_t n = 0;
    for (const CycleBrief& c : h.cycles) {
      if (c.end_ns < w.start_ns || c.end_ns >= w.end_ns) continue;
      mark_sum += c.mark_ns;
      mark_max = std::max(mark_max, c.mark_ns);
      ++n;
    }
    Verdict v;
    v.level = fire ? Verdict::Level::kFire : Verdict::Level::kHold;
    v.severity = share > 0.7 ? Severity::kCritical : Severity::kWarning;
    v.title = "Long write-barrier window";
    v.summary =
        Fmt("The write barrier was on (concurrent mark) %s of the last 10 s: %.1f GCs/s, "
            "mean mark %s, longest %s, live heap %s.",
            Percent(share).c_str(), w.gcs_per_sec,
            Millis(n ? static_cast<double>(mark_sum) / static_cast<double>(n) : 0).c_str(),
            Millis(static_cast<double>(mark_max)).c_str(),
            MiB(static_cast<double>(w.heap_live_bytes)).c_str());
    v.evidence = json{{"mark_wall_share", share},
                      {"threshold", c_.mark_wall_share},
                      {"mark_wall_ns", w.mark_wall_ns},
                      {"mean_mark_ns", n ? mark_sum / static_cast<int64_t>(n) : 0},
                      {"max_mark_ns", mark_max},
                      {"gcs_per_sec", w.gcs_per_sec},
                      {"heap_live_bytes", w.heap_live_bytes},
                      {"window", WindowEvidence(w)},
                      {"cycles", CycleEvidence(h, w)}};
    v.fix =
        "While marking, every pointer write goes through the write barrier and allocating "
        "goroutines may assist, so throughput and tail latency suffer. Marking lasts long "
        "when the live heap is large and pointer-rich, or GCs run back to back: keep big "
        "caches pointer-free (values, indices, []byte), make GCs rarer with a higher GOGC or "
        "a GOMEMLIMIT, and check GOMAXPROCS against the CPU quota.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

}  // namespace

std::unique_ptr<Detector> MakeAllocStorm(const DetectorConfig& c) {
  return std::make_unique<AllocStorm>(c);
}
std::unique_ptr<Detector> MakeMarkAssist(const DetectorConfig& c) {
  return std::make_unique<MarkAssist>(c);
}
std::unique_ptr<Detector> MakeLongMark(const DetectorConfig& c) {
  return std::make_unique<LongMark>(c);
}

}  // namespace gcpilot::detect::internal
