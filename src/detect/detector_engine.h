// DetectorEngine: runs every Detector over every process. It is fed per
// process with GC cycles, runtime gauges and completed windows (any order
// of views, in time order per view), keeps a bounded ProcessHistory per
// process, evaluates each detector on each completed window of its view and
// turns the verdicts into findings with hysteresis: raised after
// raise_after() consecutive firing evaluations, kept while the pattern holds
// or weakens only a little, cleared after clear_after() quiet evaluations in
// a row (so a finding does not flap on a borderline value). A process that
// exits has its findings cleared.
//
// Detectors whose data the source cannot provide (DataNeed) are not run:
// e.g. offline gctrace ingest runs only kAnySource detectors.
//
// Bounds: at most kMaxProcesses processes (more are not evaluated), the
// ProcessHistory bounds per process, and kMaxRecent cleared findings.
//
// Thread-safety: all public methods lock one mutex; FindingListeners are
// called with it held (they must be quick and must not call back).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detector.h"

namespace gcpilot::detect {

class FindingListener {
 public:
  virtual ~FindingListener() = default;
  virtual void OnFindingRaised(const Finding& /*f*/) {}
  virtual void OnFindingCleared(const Finding& /*f*/) {}
};

class DetectorEngine {
 public:
  static constexpr size_t kMaxProcesses = 4096;
  static constexpr size_t kMaxRecent = 256;

  // Runs the detectors whose needs are in `available`.
  DetectorEngine(std::vector<std::unique_ptr<Detector>> detectors, std::set<DataNeed> available);

  void AddListener(FindingListener* l) { listeners_.push_back(l); }

  void OnProcess(const ProcessKey& p, const std::string& comm);
  void OnCycle(const ProcessKey& p, const CycleBrief& c);
  void OnGauges(const ProcessKey& p, const GaugeValues& g);
  // An investigation's summary for the process (see ProcessHistory).
  void OnStopCallers(const ProcessKey& p, nlohmann::json summary);
  // A completed window: records it, samples the gauges (on "10s" windows,
  // one a second) and evaluates the detectors of w.view.
  void OnWindow(const ProcessKey& p, const WindowStats& w);
  // A goroutine creation-site walk of the process (see creation_sites.h):
  // starts a tracking session at `started_ns` if none runs, and adds the
  // sample. OnCreationSiteError records a failed walk (the reason is shown
  // in the evidence); OnCreationSitesEnded closes the session at ts_ns.
  void OnCreationSites(const ProcessKey& p, int64_t started_ns, int64_t planned_ns,
                       SiteSample sample);
  void OnCreationSiteError(const ProcessKey& p, int64_t started_ns, int64_t planned_ns,
                           int64_t ts_ns, const std::string& error);
  void OnCreationSitesEnded(const ProcessKey& p, int64_t ts_ns);
  // Processes for which a running detector that `which` selects currently
  // suspects something (its latest verdict was kHold or kFire): the cue
  // for a time-boxed investigation (SiteTracker, StopCallerCapture).
  std::vector<ProcessKey> Suspected(const std::function<bool(const Detector&)>& which) const;
  // Suspected() by the detectors that want creation sites.
  std::vector<ProcessKey> WantCreationSites() const;

  // The process exited (or its stream ended) at ts_ns: active findings are
  // cleared with `reason`.
  void OnProcessGone(const ProcessKey& p, int64_t ts_ns, const std::string& reason);
  // Drops the process's history (after OnProcessGone).
  void Forget(const ProcessKey& p);

  // Active findings, oldest first.
  std::vector<Finding> Active() const;
  // Cleared findings, newest first, at most `limit`.
  std::vector<Finding> Recent(size_t limit) const;
  // Active and cleared (up to the bound), oldest first: for reports.
  std::vector<Finding> All() const;

  // The detectors that run, and those skipped for lack of data.
  std::vector<const Detector*> running() const;
  std::vector<const Detector*> skipped() const;

 private:
  struct DetectorState {
    int fire_streak = 0;
    int quiet_streak = 0;
    int64_t streak_start_ns = 0;
    Verdict::Level last_level = Verdict::Level::kUnknown;
    bool active = false;
    Finding finding;
  };
  struct Proc {
    std::string comm;
    ProcessHistory history;
    std::vector<DetectorState> state;  // Per detector.
  };

  Proc* Ensure(const ProcessKey& p);
  void Apply(const ProcessKey& key, Proc& proc, size_t d, const Verdict& v, const WindowStats& w);
  void Clear(DetectorState& s, int64_t ts_ns, const std::string& reason);
  CreationSiteTracking& Tracking(Proc& proc, int64_t started_ns, int64_t planned_ns);

  const std::vector<std::unique_ptr<Detector>> detectors_;
  std::vector<bool> enabled_;
  mutable std::mutex mu_;
  std::map<ProcessKey, Proc> procs_;
  std::deque<Finding> recent_;  // Cleared, oldest first.
  uint64_t next_id_ = 1;
  std::vector<FindingListener*> listeners_;
};

}  // namespace gcpilot::detect
