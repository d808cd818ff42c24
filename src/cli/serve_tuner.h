// ServeTuner: the tuner inside `gcpilot serve`. Every 5 s (Tick) it runs the
// configured policy for every live process the model knows, from the
// process's 10 s window, its GC settings (read by the model each second),
// its memory cgroup and the node's memory pressure, and keeps the result
// (a recommendation or why there is none) per process. The HTTP threads read
// it: the "tuner" object of each PROCESS, GET /api/v1/recommendations, the
// Prometheus gauges, and Settings() for the actuator (applied only with
// --apply / [tuner] apply = true; otherwise a dry run the actuator reports).
// With PublishTo, a run also publishes an SSE `tuner` event ({"pid",
// "generation", "comm", "tuner"}) for each process whose recommended values
// (policy, GOGC, memory limit, revision) or error changed, and at least once a minute per process
// (kRepublishNs), so the dashboard follows without 5-second traffic for every process. Processes
// that exit or are evicted are forgotten on the next Tick. Thread-safety: Tick from the ingest
// thread; every other method from any thread (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "serve/api_json.h"
#include "serve/metrics_exporter.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"
#include "tune/memory_sources.h"
#include "tune/process_tuner.h"

namespace httplib {
class Server;
}

namespace gcpilot::cli {

// What the actuator is told for one process (mirrors control::GcSettings).
struct TunerSettings {
  int32_t gogc = 100;
  int64_t memory_limit_bytes = 0;  // INT64_MAX: no limit.
  std::string policy;
  std::string reason;
  uint64_t revision = 0;
  bool apply = false;
};

class ServeTuner {
 public:
  static constexpr int64_t kPeriodNs = 5'000'000'000;  // The seed's 5 s.
  static constexpr int64_t kRepublishNs = 60'000'000'000;

  ServeTuner(std::shared_ptr<const tune::TunerPolicy> policy, bool apply, serve::WallClockMap wall,
             serve::MetricsExporter* metrics = nullptr, tune::SystemRoots roots = {});

  // Publishes a `tuner` event per process after each run (null: none).
  // Call before the first Tick.
  void PublishTo(serve::SseHub* hub) { hub_ = hub; }

  // Runs the policy for every live process of `model` when kPeriodNs has
  // passed since the last run (or always with force). Cgroup and node files
  // are read without any lock held. Exports gcpilot_tuner_recommended_gogc
  // and gcpilot_tuner_recommended_memory_limit_bytes (-1: no limit) per
  // process with a recommendation (process labels plus `policy`) through
  // `metrics` when given.
  void Tick(const serve::ServeModel& model, int64_t now_ns, bool force = false);

  // The "tuner" object of a PROCESS: {"policy", "apply", "updated_ms",
  // "recommendation": {...}} or {..., "error": {...}}; null when the
  // process has not been tuned yet.
  nlohmann::json ProcessJson(const ProcessKey& key) const;
  // GET /api/v1/recommendations: {"policy", "apply", "period_s",
  // "processes": [{"pid", "generation", "comm", "tuner": {...}}]}.
  nlohmann::json AllJson() const;
  // For the actuator: the settings for `host_pid` (its newest generation),
  // nullopt when there is no recommendation (then it applies nothing).
  std::optional<TunerSettings> Settings(int32_t host_pid) const;
  // Registers GET /api/v1/recommendations (AgentHttpDeps::extra_routes);
  // the server must not outlive this tuner.
  void AddRoutes(httplib::Server& server);

  const std::string& policy_name() const { return policy_name_; }
  bool apply() const { return apply_; }

 private:
  struct Entry {
    ProcessInfo info;
    tune::ProcessTuner tuner;
    int64_t updated_ns = 0;
    nlohmann::json inputs;     // Cgroup and node readings of the last run.
    std::string published;     // Recommendation (or error) last sent as an event ...
    int64_t published_ns = 0;  // ... and when.
  };

  std::shared_ptr<const tune::TunerPolicy> policy_;
  std::string policy_name_;
  const bool apply_;
  const serve::WallClockMap wall_;
  serve::MetricsExporter* const metrics_;
  serve::SseHub* hub_ = nullptr;
  const tune::SystemRoots roots_;
  int64_t last_run_ns_ = 0;
  bool ran_ = false;
  mutable std::mutex mu_;
  std::map<ProcessKey, Entry> entries_;
};

}  // namespace gcpilot::cli
