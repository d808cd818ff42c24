// BreakerService: one Breaker per watched process, fed by the ServeModel
// (a ModelListener): every completed window of the configured view is
// judged, and a single long pause trips the breaker at once when the window
// ending with it is already unhealthy. Processes of one binary (a service)
// are aggregated: the service is as bad as its worst live process.
//
// Every transition is published as an SSE `breaker` event, counted in
// Prometheus (gcpilot_breaker_transitions_total{to}), kept (the last
// kKeptTransitions per process) and, when a webhook is configured, POSTed.
// Each process has gcpilot_breaker_state{<process labels>} 0/1/2
// (closed/half_open/open).
//
// Thread-safety: listener calls come with the model's lock held; the query
// methods may be called from any thread (one internal mutex, never held
// while calling out, except to the thread-safe hub, webhook and metrics).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/breaker.h"
#include "serve/api_json.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"
#include "serve/webhook_sender.h"

namespace gcpilot::control {

class BreakerService final : public serve::ModelListener {
 public:
  static constexpr size_t kKeptTransitions = 32;

  // hub and webhook may be null.
  BreakerService(BreakerParams params, serve::WallClockMap wall, serve::SseHub* hub,
                 serve::WebhookSender* webhook);

  // ModelListener.
  void OnProcess(const serve::ProcessState& p) override;
  void OnCycle(const serve::ProcessState& p, const serve::StoredCycle& c) override;
  void OnStop(const serve::ProcessState& p, const serve::StoredStop& s) override;
  void OnWindowCompleted(const serve::ProcessState& p, const WindowStats& w) override;
  void OnEvicted(const serve::ProcessState& p) override;

  // The `breaker` object of one process; null when unknown.
  nlohmann::json ProcessJson(const ProcessKey& key) const;
  // The same for the newest generation of a host pid.
  nlohmann::json PidJson(int32_t pid) const;
  // GET /api/v1/breakers.
  nlohmann::json AllJson(int64_t now_ns) const;

  // /ready/<target>: target is a pid (digits) or a binary name. status 200
  // (closed, half open), 503 (open) or 404 (unknown); body says why.
  struct Readiness {
    int status = 404;
    std::string body;
  };
  Readiness Ready(const std::string& target) const;

  // Series for /metrics (MetricsExporter::AddCollectable).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  const BreakerParams& params() const { return params_; }

 private:
  struct Target {
    ProcessKey key;
    std::string binary;
    std::string comm;
    bool exited = false;
    Breaker breaker;
    int64_t last_p99_ns = 0;  // Of the last judged window.
    std::deque<BreakerTransition> history;
    prometheus::Labels labels;  // Of state_gauge.
    prometheus::Gauge* state_gauge = nullptr;
  };

  Target* Ensure(const serve::ProcessState& p);
  void Record(Target& t, const BreakerTransition& tr);
  void CheckNow(const serve::ProcessState& p, int64_t pause_end_ns, int64_t pause_ns);
  nlohmann::json BreakerJsonLocked(const Target& t) const;
  nlohmann::json TransitionJson(const BreakerTransition& tr) const;
  const Target* NewestLocked(int32_t pid) const;

  const BreakerParams params_;
  const serve::WallClockMap wall_;
  serve::SseHub* hub_;
  serve::WebhookSender* webhook_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& state_family_;
  prometheus::Family<prometheus::Counter>& transitions_family_;
  std::map<BreakerState, prometheus::Counter*> transitions_;

  mutable std::mutex mu_;
  std::map<ProcessKey, Target> targets_;
};

// STW P99 of a window: the max of the GC pause P99 and the non-GC stop P99.
int64_t StwP99Ns(const WindowStats& w);

}  // namespace gcpilot::control
