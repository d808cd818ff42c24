// Detectors of stop-the-world patterns: pause spike / STW avalanche (any
// source: GC pauses) and observer-induced stops (eBPF: non-GC stops with
// the runtime's stop reason).
#include <algorithm>

#include "detect/detectors_internal.h"

namespace gcpilot::detect::internal {
namespace {

using nlohmann::json;

// 1 s window max GC pause > spike_factor x the P95 of the process's earlier
// pauses, and >= spike_floor_ns.
class PauseSpike final : public Detector {
 public:
  explicit PauseSpike(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "pause_spike"; }
  DataNeed needs() const override { return DataNeed::kAnySource; }
  std::string_view view() const override { return "1s"; }
  int raise_after() const override { return 1; }
  int clear_after() const override { return 60; }  // 30 s without a spike.
  std::string rule() const override {
    return Fmt(
        "max GC pause of a 1 s window > %.1f x the process's own P95 of earlier pauses "
        "(last 512) and >= %s; 3+ such pauses in the window: STW avalanche",
        c_.spike_factor, Millis(static_cast<double>(c_.spike_floor_ns)).c_str());
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (w.gc_pauses.count == 0) return Verdict::Quiet();
    std::optional<int64_t> p95 =
        PauseQuantileBefore(h, w.start_ns, 0.95, c_.spike_min_baseline_pauses, 512);
    if (!p95) return Verdict::Unknown();
    const double limit = std::max(c_.spike_factor * static_cast<double>(*p95),
                                  static_cast<double>(c_.spike_floor_ns));
    if (w.gc_pauses.max <= limit) return Verdict::Quiet();
    json spikes = json::array();
    int n = 0, recent = 0;
    for (const CycleBrief& c : h.cycles) {
      if (c.end_ns < w.end_ns - c_.spike_confirm_window_ns || c.end_ns >= w.end_ns) continue;
      // Per cycle: one stall often lengthens only one of its two stops.
      const int64_t worst = std::max(c.sweep_term_ns, c.mark_term_ns);
      if (static_cast<double>(worst) <= limit) continue;
      ++recent;
      if (c.end_ns < w.start_ns) continue;
      ++n;
      if (spikes.size() < 10) {
        spikes.push_back(json{{"gc", c.number},
                              {"sweep_term_ns", c.sweep_term_ns},
                              {"mark_term_ns", c.mark_term_ns}});
      }
    }
    Verdict v;
    // One sub-SLO spike alone holds an active finding but raises none.
    const bool confirmed = recent >= c_.spike_confirm_pauses ||
                           w.gc_pauses.max >= static_cast<double>(c_.slo_pause_ns);
    v.level = confirmed ? Verdict::Level::kFire : Verdict::Level::kHold;
    const bool avalanche = n >= 3;
    v.severity = (avalanche || w.gc_pauses.max >= static_cast<double>(c_.slo_pause_ns))
                     ? Severity::kCritical
                     : Severity::kWarning;
    v.title = avalanche ? "STW avalanche" : "Pause spike";
    v.summary = Fmt("A stop-the-world pause of %s, %.1f x this process's usual P95 of %s%s.",
                    Millis(w.gc_pauses.max).c_str(),
                    w.gc_pauses.max / std::max<double>(1, static_cast<double>(*p95)),
                    Millis(static_cast<double>(*p95)).c_str(),
                    avalanche ? Fmt(" (%d long pauses in one second)", n).c_str() : "");
    v.evidence = json{{"max_pause_ns", w.gc_pauses.max},
                      {"baseline_p95_ns", *p95},
                      {"factor", w.gc_pauses.max / std::max<double>(1, static_cast<double>(*p95))},
                      {"threshold_ns", limit},
                      {"long_pauses", n},
                      {"long_pauses_last_30s", recent},
                      {"pauses_in_window", w.gc_pauses.count},
                      {"spiking_cycles", spikes},
                      {"window", WindowEvidence(w)},
                      {"cycles", CycleEvidence(h, w)}};
    v.fix =
        "A stop-the-world pause lasts until every goroutine reaches a safe point. Long ones "
        "come from goroutines that cannot be preempted quickly (tight loops without calls "
        "when async preemption is off or in non-preemptible runtime code, huge memclr/memmove "
        "of big allocations, long cgo or syscall transitions), a CPU-starved process (CPU "
        "throttling under a cgroup quota, GOMAXPROCS above the quota) or very many goroutine "
        "stacks. Check container CPU throttling first, then `go tool trace` around the spike.";
    return v;
  }

 private:
  const DetectorConfig c_;
};

// Why a program stops the world for each non-GC reason, and who typically
// does it.
const char* LikelyCaller(StwReason r) {
  switch (r) {
    case StwReason::kReadMemStats:
      return "a metrics library calling runtime.ReadMemStats (e.g. an older Prometheus Go "
             "collector, expvar's memstats, a statsd/APM runtime-metrics reporter)";
    case StwReason::kGoroutineProfile:
    case StwReason::kGoroutineProfileCleanup:
      return "a goroutine profile (pprof /debug/pprof/goroutine, a continuous profiler, "
             "runtime.GoroutineProfile)";
    case StwReason::kGomaxprocs:
      return "code calling runtime.GOMAXPROCS(n) (e.g. a library re-applying the CPU quota)";
    case StwReason::kStartTrace:
    case StwReason::kStopTrace:
      return "an execution tracer (runtime/trace, /debug/pprof/trace, a continuous profiler)";
    case StwReason::kAllGoroutinesStack:
      return "a dump of all goroutine stacks (runtime.Stack(buf, true), "
             "/debug/pprof/goroutine?debug=2, a watchdog)";
    case StwReason::kWriteHeapDump:
      return "runtime/debug.WriteHeapDump";
    case StwReason::kAllThreadsSyscall:
      return "syscall.AllThreadsSyscall (e.g. setuid/setgid on all threads)";
    default:
      return "code that stops the world for a reason this Go version does not report "
             "(Go < 1.21 reports none)";
  }
}

// The most frequent captured stack of `reason` in a StopCallerCapture
// summary, or null.
const json* TopCallerFor(const json& summary, const std::string& reason) {
  if (!summary.is_object() || !summary.contains("top")) return nullptr;
  for (const json& t : summary["top"]) {
    if (t.value("reason", "") == reason && !t.value("caller", "").empty()) return &t;
  }
  return nullptr;
}

// Non-GC stops of one reason at >= observer_stops_per_sec over the last
// minute (at least observer_min_covered_ns observed).
class ObserverStops final : public Detector {
 public:
  explicit ObserverStops(const DetectorConfig& c) : c_(c) {}
  std::string_view name() const override { return "observer_stops"; }
  DataNeed needs() const override { return DataNeed::kEbpf; }
  std::string_view view() const override { return "1m"; }
  int raise_after() const override { return 1; }
  int clear_after() const override { return 6; }  // 30 s below.
  std::string rule() const override {
    return Fmt(
        "non-GC stops of one reason at >= %.2f/s over the last minute (after %.0f s "
        "observed)",
        c_.observer_stops_per_sec, static_cast<double>(c_.observer_min_covered_ns) / 1e9);
  }

  Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const override {
    if (w.covered_ns < c_.observer_min_covered_ns) return Verdict::Unknown();
    const double secs = static_cast<double>(w.covered_ns) / 1e9;
    int top = -1;
    double top_rate = 0;
    json reasons = json::object();
    for (int r = 0; r < kStwReasonCount; ++r) {
      uint64_t n = w.other_stops_by_reason[static_cast<size_t>(r)];
      if (n == 0) continue;
      double rate = static_cast<double>(n) / secs;
      reasons[std::string(StwReasonName(static_cast<StwReason>(r)))] =
          json{{"count", n}, {"per_sec", rate}};
      if (rate > top_rate) {
        top_rate = rate;
        top = r;
      }
    }
    if (top < 0 || top_rate < 0.75 * c_.observer_stops_per_sec) return Verdict::Quiet();
    const StwReason reason = static_cast<StwReason>(top);
    const std::string rname(StwReasonName(reason));
    Verdict v;
    v.level = top_rate >= c_.observer_stops_per_sec ? Verdict::Level::kFire : Verdict::Level::kHold;
    const double total_rate = static_cast<double>(w.other_stops.count) / secs;
    v.severity =
        (w.other_stops.max >= 1e6 || total_rate >= 1.0) ? Severity::kWarning : Severity::kInfo;
    v.title = "Observer-induced stops (" + rname + ")";
    v.summary =
        Fmt("The program stops the world %.2f times a second for %s (max %s, P99 %s), "
            "most likely %s.",
            top_rate, rname.c_str(), Millis(w.other_stops.max).c_str(),
            Millis(w.other_stops.p99).c_str(), LikelyCaller(reason));
    v.evidence = json{{"reason", rname},
                      {"per_sec", top_rate},
                      {"threshold_per_sec", c_.observer_stops_per_sec},
                      {"by_reason", reasons},
                      {"stops", w.other_stops.count},
                      {"max_ns", w.other_stops.max},
                      {"p99_ns", w.other_stops.p99},
                      {"sum_ns", w.other_stops.sum},
                      {"likely_caller", LikelyCaller(reason)},
                      {"window", WindowEvidence(w)}};
    // The caller, once the time-boxed stack capture (stop_callers.h) saw
    // stops of this reason.
    const json* caller = TopCallerFor(h.stop_callers, rname);
    if (caller != nullptr) {
      v.summary +=
          " Captured stacks name the caller: " + (*caller)["caller"].get<std::string>() +
          Fmt(" (%.0f%% of %llu captured stops).", 100.0 * (*caller)["share"].get<double>(),
              static_cast<unsigned long long>(h.stop_callers["stacks"].get<uint64_t>()));
      v.evidence["caller"] = (*caller)["caller"];
      v.evidence["caller_stack"] = (*caller)["stack"];
    } else {
      v.evidence["caller"] = nullptr;
    }
    v.evidence["stack_capture"] =
        h.stop_callers.is_null()
            ? json("not run: it needs the eBPF source, and starts when this detector fires")
            : h.stop_callers;
    const std::string found =
        caller != nullptr ? "Start at " + (*caller)["caller"].get<std::string>() + ". " : "";
    if (reason == StwReason::kReadMemStats) {
      v.fix = found +
              "runtime.ReadMemStats stops the world on every call. Find the caller (grep the "
              "module and its dependencies for ReadMemStats; metrics libraries that export "
              "go_memstats_* do it on each scrape or tick) and switch it to runtime/metrics "
              "(metrics.Read does not stop the world), or call it far less often.";
    } else {
      v.fix = found + "Each call stops every goroutine. Find " + std::string(LikelyCaller(reason)) +
              " and make it rarer or remove it from the serving path.";
    }
    return v;
  }

 private:
  const DetectorConfig c_;
};

}  // namespace

std::unique_ptr<Detector> MakePauseSpike(const DetectorConfig& c) {
  return std::make_unique<PauseSpike>(c);
}
std::unique_ptr<Detector> MakeObserverStops(const DetectorConfig& c) {
  return std::make_unique<ObserverStops>(c);
}

}  // namespace gcpilot::detect::internal
