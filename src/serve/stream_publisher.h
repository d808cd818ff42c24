// StreamPublisher: turns ServeModel changes into server-sent events on the
// SseHub (`process`, `cycle`, `stop`, `window`; see docs/serve.md).
// Thread-safety: called with the model lock held (ModelListener); the hub is
// thread-safe.
#pragma once

#include "serve/api_json.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"

namespace gcpilot::serve {

class StreamPublisher final : public ModelListener {
 public:
  StreamPublisher(SseHub* hub, WallClockMap wall) : hub_(hub), wall_(wall) {}

  void OnProcess(const ProcessState& p) override;
  void OnCycle(const ProcessState& p, const StoredCycle& c) override;
  void OnStop(const ProcessState& p, const StoredStop& s) override;
  void OnWindow(const ProcessState& p, const WindowStats& w, Health h) override;

 private:
  SseHub* hub_;
  WallClockMap wall_;
};

}  // namespace gcpilot::serve
