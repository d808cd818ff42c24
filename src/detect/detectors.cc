// The detector list, config validation and shared formatting (see
// detector.h, detector_config.h, detectors_internal.h).
#include <cstdarg>
#include <cstdio>

#include "detect/detectors_internal.h"

namespace gcpilot::detect {

std::vector<std::unique_ptr<Detector>> MakeDetectors(const DetectorConfig& c) {
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(internal::MakeAllocStorm(c));
  d.push_back(internal::MakePauseSpike(c));
  d.push_back(internal::MakeMarkAssist(c));
  d.push_back(internal::MakeLongMark(c));
  d.push_back(internal::MakeObserverStops(c));
  d.push_back(internal::MakeMemlimitThrash(c));
  d.push_back(internal::MakeGoroutineLeak(c));
  d.push_back(internal::MakeHeapSurge(c));
  d.push_back(internal::MakeFragmentation(c));
  d.push_back(internal::MakeFinalizerBacklog(c));
  return d;
}

Status ValidateDetectorConfig(const DetectorConfig& c) {
  auto bad = [](const char* what) { return Status::InvalidArgument(std::string(what)); };
  if (!(c.storm_alloc_bytes_per_sec > 0)) return bad("storm alloc rate must be > 0");
  if (c.storm_sustained_windows < 1 || c.storm_sustained_windows > 120) {
    return bad("storm sustained windows must be in [1, 120]");
  }
  if (c.storm_gcs_per_10s < 1) return bad("storm GCs per 10 s must be >= 1");
  if (!(c.spike_factor > 1)) return bad("spike factor must be > 1");
  if (c.spike_floor_ns < 0) return bad("spike floor must be >= 0");
  if (c.spike_min_baseline_pauses < 2) return bad("spike baseline must be >= 2 pauses");
  if (c.spike_confirm_pauses < 1 || c.spike_confirm_window_ns < 1'000'000'000) {
    return bad("spike confirmation must be >= 1 pause within >= 1 s");
  }
  for (double s : {c.assist_share, c.assist_min_gc_cpu, c.mark_wall_share, c.memlimit_live_share,
                   c.memlimit_gc_cpu, c.trend_min_r2}) {
    if (!(s > 0 && s <= 1)) return bad("shares must be in (0, 1]");
  }
  if (!(c.observer_stops_per_sec > 0)) return bad("observer stop rate must be > 0");
  if (c.observer_min_covered_ns < 1'000'000'000 || c.observer_min_covered_ns > 60'000'000'000) {
    return bad("observer coverage must be in [1 s, 60 s]");
  }
  if (!(c.memlimit_gcs_per_sec > 0)) return bad("memlimit GC frequency must be > 0");
  if (c.trend_min_span_ns < 10'000'000'000 || c.trend_window_ns < c.trend_min_span_ns ||
      c.trend_window_ns > 900'000'000'000) {
    return bad("trend span must be >= 10 s and <= the trend window (<= 15 min)");
  }
  if (!(c.leak_min_added > 0) || !(c.leak_min_growth >= 0) || !(c.surge_min_added_bytes > 0) ||
      !(c.surge_min_growth >= 0)) {
    return bad("leak / surge growth thresholds must be positive");
  }
  if (c.sites_duration_ns < 5'000'000'000 || c.sites_duration_ns > 3'600'000'000'000 ||
      c.sites_interval_ns < 1'000'000'000 || c.sites_interval_ns > c.sites_duration_ns ||
      c.sites_cooldown_ns < 0) {
    return bad("creation-site tracking: duration in [5 s, 1 h], interval in [1 s, duration]");
  }
  if (c.sites_max_goroutines < 1 || c.sites_max_goroutines > 10'000'000 || c.sites_top < 1 ||
      c.sites_top > 50) {
    return bad("creation-site tracking: max goroutines in [1, 1e7], top in [1, 50]");
  }
  if (!(c.frag_ratio > 1) || !(c.frag_min_excess_bytes >= 0) || c.frag_window_ns < 10'000'000'000 ||
      c.frag_window_ns > 600'000'000'000) {
    return bad("fragmentation: ratio > 1, excess >= 0, window in [10 s, 10 min]");
  }
  if (!(c.fin_min_backlog > 0) || !(c.fin_min_added > 0) ||
      !(c.fin_min_r2 > 0 && c.fin_min_r2 <= 1) || c.fin_min_span_ns < 10'000'000'000 ||
      c.fin_window_ns < c.fin_min_span_ns || c.fin_window_ns > 900'000'000'000) {
    return bad("finalizer backlog: thresholds > 0, span >= 10 s and <= the window (<= 15 min)");
  }
  return Status::Ok();
}

namespace internal {

std::string Fmt(const char* format, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  int n = std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  if (n < 0) return std::string();
  return std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

std::string MBps(double bytes_per_sec) { return Fmt("%.1f MB/s", bytes_per_sec / 1e6); }
std::string MiB(double bytes) { return Fmt("%.1f MiB", bytes / (1 << 20)); }
std::string Millis(double ns) { return Fmt("%.2f ms", ns / 1e6); }
std::string Percent(double share) { return Fmt("%.0f%%", share * 100); }

nlohmann::json WindowEvidence(const WindowStats& w) {
  return nlohmann::json{{"view", w.view},
                        {"start_ns", w.start_ns},
                        {"end_ns", w.end_ns},
                        {"covered_s", static_cast<double>(w.covered_ns) / 1e9}};
}

nlohmann::json CycleEvidence(const ProcessHistory& h, const WindowStats& w) {
  CycleRange r = CyclesIn(h, w.start_ns, w.end_ns);
  return nlohmann::json{{"first", r.first}, {"last", r.last}, {"count", w.gc_cycles}};
}

}  // namespace internal
}  // namespace gcpilot::detect
