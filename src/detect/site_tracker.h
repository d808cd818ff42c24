// SiteTracker: runs goroutine creation-site tracking where the detectors
// ask for it. Each tick it asks the DetectorEngine which processes a
// detector suspects (WantCreationSites: goroutine_leak or heap_surge at
// hold or fire), starts a bounded session for each (config sites_duration_ns,
// then none for sites_cooldown_ns), walks the process's goroutines every
// sites_interval_ns through `walk` (in the agent: EbpfSource::WalkGoroutines,
// a read of process memory, never a probe or a stop), and hands each sample
// or error back to the engine, whose findings then cite the sites.
// At most kMaxConcurrent sessions run at once (more wait for a free slot).
// Thread-safety: not thread-safe; call Tick from one thread (the agent's
// main loop). The engine is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "core/status.h"
#include "detect/detector_engine.h"
#include "sources/proc/goroutine_walk.h"

namespace gcpilot::detect {

// The detectors' form of one walk.
SiteSample SampleFromWalk(const proc::GoroutineWalk& w);

class SiteTracker {
 public:
  static constexpr size_t kMaxConcurrent = 4;

  // Walks one process; the sample's t_ns is set by the tracker.
  using Walk = std::function<StatusOr<SiteSample>(const ProcessKey& p, int64_t max_goroutines)>;

  SiteTracker(DetectorEngine* engine, const DetectorConfig& config, Walk walk)
      : engine_(engine), config_(config), walk_(std::move(walk)) {}

  void Tick(int64_t now_ns);
  size_t active() const;

 private:
  struct Session {
    int64_t started_ns = 0;
    int64_t last_walk_ns = 0;
    int64_t ended_ns = 0;  // 0 while running.
  };
  DetectorEngine* engine_;
  const DetectorConfig config_;
  Walk walk_;
  std::map<ProcessKey, Session> sessions_;
};

}  // namespace gcpilot::detect
