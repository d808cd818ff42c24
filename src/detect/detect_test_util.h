// Test helper for the detectors: a simulated process whose synthetic GC
// cycles, non-GC stops and gauges go through the real SlidingWindows into a
// DetectorEngine, recording every raised and cleared finding with the time
// it happened.
// Thread-safety: single-threaded tests only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/sliding_windows.h"
#include "detect/detector_engine.h"

namespace gcpilot::detect {

class SimProcess : public FindingListener {
 public:
  static constexpr int64_t kMs = 1'000'000;
  static constexpr int64_t kSec = 1'000'000'000;

  explicit SimProcess(DetectorConfig config = DetectorConfig(),
                      std::set<DataNeed> available = {DataNeed::kAnySource, DataNeed::kEbpf,
                                                      DataNeed::kGauges})
      : engine(MakeDetectors(config), std::move(available)) {
    engine.AddListener(this);
    engine.OnProcess(key, "sim");
    windows.SetOrigin(0);
    gauges.gogc = 100;
    gauges.memory_limit_bytes = INT64_MAX;
    gauges.goroutines = 50;
  }

  // Shape of the next cycles.
  struct CycleShape {
    int64_t pause_ns = 80'000;  // Each of the two stops.
    int64_t mark_ns = 5 * kMs;
    uint64_t alloc_bytes = 10'000'000;
    uint64_t heap_live_bytes = 20u << 20;
    uint64_t heap_goal_bytes = 40u << 20;
    int64_t assist_cpu_ns = 500'000;
    int64_t background_cpu_ns = 4 * kMs;
  };

  void Cycle(int64_t end_ns, const CycleShape& s) {
    GcCycle c;
    c.number = ++gc_;
    c.sweep_term_ns = s.pause_ns;
    c.mark_term_ns = s.pause_ns;
    c.mark_ns = s.mark_ns;
    c.start_ns = end_ns - c.sweep_term_ns - c.mark_ns - c.mark_term_ns;
    c.allocated_bytes = s.alloc_bytes;
    c.heap_live_bytes = s.heap_live_bytes;
    c.heap_goal_bytes = s.heap_goal_bytes;
    c.heap_end_bytes = s.heap_goal_bytes;
    c.gomaxprocs = 2;
    c.cpu.sweep_term_ns = 2 * s.pause_ns;
    c.cpu.mark_term_ns = 2 * s.pause_ns;
    c.cpu.assist_ns = s.assist_cpu_ns;
    c.cpu.background_ns = s.background_cpu_ns;
    windows.AddCycle(c);
    engine.OnCycle(key, CycleBrief::From(c));
  }

  void Stop(int64_t start_ns, StwReason reason, int64_t duration_ns) {
    StwPause p;
    p.start_ns = start_ns;
    p.duration_ns = duration_ns;
    p.kind = StwKind::kOther;
    p.reason = reason;
    windows.AddPause(p);
  }

  // Runs from now to until_ns in 100 ms steps; `each_step(t0, t1)` adds the
  // records of [t0, t1); windows are advanced and fed after each step.
  void RunUntil(int64_t until_ns, const std::function<void(int64_t, int64_t)>& each_step) {
    while (now < until_ns) {
      int64_t next = now + 100 * kMs;
      each_step(now, next);
      now = next;
      engine.OnGauges(key, gauges);
      for (const WindowStats& w : windows.AdvanceTo(now)) engine.OnWindow(key, w);
    }
  }

  // A steady service: a GC every `every_ns` with `shape`.
  std::function<void(int64_t, int64_t)> Every(int64_t every_ns, CycleShape shape) {
    return [this, every_ns, shape](int64_t t0, int64_t t1) {
      for (int64_t t = (t0 + every_ns - 1) / every_ns * every_ns; t < t1; t += every_ns) {
        if (t > 0) Cycle(t, shape);
      }
    };
  }

  // First raise of `detector` at or after `since_ns`; -1 if none.
  int64_t RaisedAt(const std::string& detector, int64_t since_ns = 0) const {
    for (const auto& [t, f] : raised) {
      if (f.detector == detector && t >= since_ns) return t;
    }
    return -1;
  }
  // The first finding `detector` raised (nullptr if none).
  const Finding* First(const std::string& detector) const {
    for (const auto& [t, f] : raised) {
      if (f.detector == detector) return &f;
    }
    return nullptr;
  }
  size_t Raises(const std::string& detector) const {
    size_t n = 0;
    for (const auto& [t, f] : raised) n += f.detector == detector;
    return n;
  }
  size_t Clears(const std::string& detector) const {
    size_t n = 0;
    for (const auto& [t, f] : cleared) n += f.detector == detector;
    return n;
  }

  void OnFindingRaised(const Finding& f) override { raised.emplace_back(now, f); }
  void OnFindingCleared(const Finding& f) override { cleared.emplace_back(now, f); }

  const ProcessKey key{42, 0};
  DetectorEngine engine;
  SlidingWindows windows;
  GaugeValues gauges;
  int64_t now = 0;
  std::vector<std::pair<int64_t, Finding>> raised;
  std::vector<std::pair<int64_t, Finding>> cleared;

 private:
  uint64_t gc_ = 0;
};

}  // namespace gcpilot::detect
