// ServeFindings: the detectors inside `gcpilot serve`. As a ModelListener it
// feeds the DetectorEngine with every cycle, every completed window and the
// process's runtime gauges; as a FindingListener it publishes each raise and
// clear as an SSE `finding` event and as the Prometheus gauge
// gcpilot_finding_active{<process labels>, detector} (1 while active, 0
// after). AddRoutes registers GET /api/v1/findings (docs/serve.md,
// "Detectors"). With a webhook, each raise and clear is also POSTed (the
// SSE event's data) through the shared serve::WebhookSender.
//
// Thread-safety: listener calls come with the model lock held (and the
// engine's lock for finding events); the route runs on HTTP threads and
// only takes the engine's lock.
#pragma once

#include <nlohmann/json.hpp>

#include "detect/detector_engine.h"
#include "serve/api_json.h"
#include "serve/metrics_exporter.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"
#include "serve/webhook_sender.h"

namespace httplib {
class Server;
}

namespace gcpilot::detect {

class ServeFindings final : public serve::ModelListener, public FindingListener {
 public:
  static constexpr size_t kDefaultRecent = 100;
  static constexpr size_t kMaxRecent = DetectorEngine::kMaxRecent;

  // `metrics`, `hub` and `webhook` may be null (no series / no events / no
  // POSTs).
  ServeFindings(DetectorEngine* engine, serve::SseHub* hub, serve::MetricsExporter* metrics,
                serve::WallClockMap wall, serve::WebhookSender* webhook = nullptr);

  // ModelListener.
  void OnProcess(const serve::ProcessState& p) override;
  void OnCycle(const serve::ProcessState& p, const serve::StoredCycle& c) override;
  void OnWindowCompleted(const serve::ProcessState& p, const WindowStats& w) override;
  void OnEvicted(const serve::ProcessState& p) override;

  // FindingListener.
  void OnFindingRaised(const Finding& f) override;
  void OnFindingCleared(const Finding& f) override;

  // GET /api/v1/findings[?pid=N][&limit=N]: {"now_ms", "active": [FINDING],
  // "recent": [FINDING] (cleared, newest first), "detectors": [...],
  // "webhook": {"url", "sent", "failed", "dropped"} or null}.
  void AddRoutes(httplib::Server& server) const;
  nlohmann::json FindingsJson(int32_t pid, size_t recent_limit) const;

 private:
  void Publish(const Finding& f, const char* change);

  DetectorEngine* engine_;
  serve::SseHub* hub_;
  serve::MetricsExporter* metrics_;
  serve::WallClockMap wall_;
  serve::WebhookSender* webhook_;
};

// The detectors' thresholds and data needs as JSON (API, report).
nlohmann::json DetectorsJson(const DetectorEngine& engine);

}  // namespace gcpilot::detect
