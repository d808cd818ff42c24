// MetricsExporter: the Prometheus side of `gcpilot serve`. It listens to the
// ServeModel and keeps, per process, the series docs/serve.md lists (STW
// pause histograms by kind and reason, cycle / allocation / GC CPU counters,
// heap / GOGC / GOMEMLIMIT / goroutine gauges, drops), removes them when the
// model evicts the process, and renders the text exposition with the
// agent's own health series (prometheus-cpp core: registry, families,
// text serializer; the HTTP side is ours).
//
// Thread-safety: listener calls come with the model lock held; Render() and
// SetAgentHealth() may be called from any thread (prometheus-cpp metrics are
// thread-safe; the exporter's own maps have their own mutex).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "serve/serve_model.h"

namespace gcpilot::serve {

// Snapshot of the agent's own counters, pushed before each render.
struct AgentHealth {
  uint64_t processes_traced = 0;
  uint64_t refused = 0;
  uint64_t dropped_events = 0;
  uint64_t bad_records = 0;  // Malformed + unattributable.
  uint64_t processes_live = 0;
  uint64_t processes_exited = 0;
  uint64_t evicted = 0;
  uint64_t over_limit = 0;
  uint64_t sse_clients = 0;
  uint64_t sse_dropped_clients = 0;
  uint64_t sse_refused_clients = 0;
  uint64_t store_dropped_rows = 0;
};

class MetricsExporter final : public ModelListener {
 public:
  // Histogram bucket bounds in seconds.
  static const std::vector<double>& PauseBuckets();

  MetricsExporter(std::string version, std::string source);

  void OnProcess(const ProcessState& p) override;
  void OnCycle(const ProcessState& p, const StoredCycle& c) override;
  void OnStop(const ProcessState& p, const StoredStop& s) override;
  void OnWindow(const ProcessState& p, const WindowStats& w, Health h) override;
  void OnEvicted(const ProcessState& p) override;

  // Hook for later features (detector findings, ...): sets the per-process
  // gauge `family` (created on first use with `help`) with the process's
  // labels plus `extra` to `value`. Ignored for a process without series;
  // removed with the process's other series.
  void SetProcessGauge(const ProcessKey& key, const std::string& family, const std::string& help,
                       const prometheus::Labels& extra, double value);

  void SetAgentHealth(const AgentHealth& h);
  // More series rendered with these (e.g. the breakers' registry); kept
  // alive by the exporter.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> c);
  // Counts a served HTTP request (handler: a route name, not the path).
  void CountRequest(const std::string& handler, int status);

  // The text exposition (format 0.0.4) of every series, the agent's own
  // process_* series included.
  std::string Render();

 private:
  struct PerProcess {
    prometheus::Labels labels;
    std::map<std::pair<StwKind, StwReason>, prometheus::Histogram*> pauses;
    prometheus::Counter* cycles = nullptr;
    prometheus::Counter* forced = nullptr;
    prometheus::Counter* alloc = nullptr;
    std::array<prometheus::Counter*, 5> cpu{};
    prometheus::Counter* drops = nullptr;
    uint64_t drops_seen = 0;
    prometheus::Gauge* heap_live = nullptr;
    prometheus::Gauge* heap_goal = nullptr;
    prometheus::Gauge* gogc = nullptr;
    prometheus::Gauge* memory_limit = nullptr;
    prometheus::Gauge* goroutines = nullptr;
    prometheus::Gauge* gomaxprocs = nullptr;
    // SetProcessGauge series: (family, labels) -> gauge.
    std::map<std::pair<std::string, prometheus::Labels>, prometheus::Gauge*> extra;
  };
  PerProcess* Ensure(const ProcessState& p);
  void RemoveLocked(PerProcess& m);
  prometheus::Histogram& PauseHistogram(PerProcess& m, StwKind kind, StwReason reason);
  prometheus::Gauge* LazyGauge(prometheus::Family<prometheus::Gauge>& f, prometheus::Gauge*& g,
                               const prometheus::Labels& labels);
  void SetCounterTo(prometheus::Counter& c, double value);

  std::mutex mu_;
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Histogram>& pause_;
  prometheus::Family<prometheus::Counter>& cycles_;
  prometheus::Family<prometheus::Counter>& forced_;
  prometheus::Family<prometheus::Counter>& alloc_;
  prometheus::Family<prometheus::Counter>& cpu_;
  prometheus::Family<prometheus::Counter>& drops_;
  prometheus::Family<prometheus::Gauge>& heap_live_;
  prometheus::Family<prometheus::Gauge>& heap_goal_;
  prometheus::Family<prometheus::Gauge>& gogc_;
  prometheus::Family<prometheus::Gauge>& memory_limit_;
  prometheus::Family<prometheus::Gauge>& goroutines_;
  prometheus::Family<prometheus::Gauge>& gomaxprocs_;
  // Agent health.
  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Family<prometheus::Gauge>& processes_;
  prometheus::Counter& traced_;
  prometheus::Counter& refused_;
  prometheus::Counter& dropped_;
  prometheus::Counter& bad_records_;
  prometheus::Counter& evicted_;
  prometheus::Counter& over_limit_;
  prometheus::Gauge& sse_clients_;
  prometheus::Counter& sse_dropped_;
  prometheus::Counter& sse_refused_;
  prometheus::Counter& store_dropped_;
  prometheus::Family<prometheus::Counter>& requests_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> extra_families_;
  std::map<ProcessKey, PerProcess> per_process_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  std::map<prometheus::Labels, ProcessKey> by_labels_;
};

}  // namespace gcpilot::serve
