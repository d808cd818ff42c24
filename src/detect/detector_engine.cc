// The detector engine: history, evaluation and hysteresis (see
// detector_engine.h).
#include "detect/detector_engine.h"

#include <algorithm>

namespace gcpilot::detect {

DetectorEngine::DetectorEngine(std::vector<std::unique_ptr<Detector>> detectors,
                               std::set<DataNeed> available)
    : detectors_(std::move(detectors)) {
  for (const auto& d : detectors_) enabled_.push_back(available.count(d->needs()) > 0);
}

DetectorEngine::Proc* DetectorEngine::Ensure(const ProcessKey& p) {
  auto it = procs_.find(p);
  if (it != procs_.end()) return &it->second;
  if (procs_.size() >= kMaxProcesses) return nullptr;
  Proc& proc = procs_[p];
  proc.state.resize(detectors_.size());
  return &proc;
}

void DetectorEngine::OnProcess(const ProcessKey& p, const std::string& comm) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Proc* proc = Ensure(p)) proc->comm = comm;
}

void DetectorEngine::OnCycle(const ProcessKey& p, const CycleBrief& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Proc* proc = Ensure(p)) proc->history.AddCycle(c);
}

void DetectorEngine::OnGauges(const ProcessKey& p, const GaugeValues& g) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Proc* proc = Ensure(p)) proc->history.gauges = g;
}

void DetectorEngine::OnStopCallers(const ProcessKey& p, nlohmann::json summary) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Proc* proc = Ensure(p)) proc->history.stop_callers = std::move(summary);
}

void DetectorEngine::OnWindow(const ProcessKey& p, const WindowStats& w) {
  std::lock_guard<std::mutex> lock(mu_);
  Proc* proc = Ensure(p);
  if (proc == nullptr) return;
  ProcessHistory& h = proc->history;
  h.latest[w.view] = w;
  if (w.view == "10s") {
    GaugeSample s;
    s.t_ns = w.end_ns;
    s.goroutines = h.gauges.goroutines;
    s.heap_live_bytes = w.heap_live_bytes;
    s.heap_goal_bytes = w.heap_goal_bytes;
    s.heap_inuse_bytes = h.gauges.heap_inuse_pages_bytes;
    s.finalizer_backlog = h.gauges.finalizer_backlog;
    h.AddSample(s);
  }
  for (size_t d = 0; d < detectors_.size(); ++d) {
    if (!enabled_[d] || detectors_[d]->view() != w.view) continue;
    Apply(p, *proc, d, detectors_[d]->Evaluate(h, w), w);
  }
}

void DetectorEngine::Apply(const ProcessKey& key, Proc& proc, size_t d, const Verdict& v,
                           const WindowStats& w) {
  DetectorState& s = proc.state[d];
  const Detector& det = *detectors_[d];
  s.last_level = v.level;
  switch (v.level) {
    case Verdict::Level::kUnknown:
      return;
    case Verdict::Level::kQuiet:
      s.fire_streak = 0;
      if (s.active && ++s.quiet_streak >= det.clear_after()) Clear(s, w.end_ns, "pattern gone");
      return;
    case Verdict::Level::kHold:
      s.fire_streak = 0;
      s.quiet_streak = 0;
      break;
    case Verdict::Level::kFire:
      if (s.fire_streak++ == 0) s.streak_start_ns = w.end_ns;
      s.quiet_streak = 0;
      break;
  }
  if (s.active) {
    Finding& f = s.finding;
    f.severity = std::max(f.severity, v.severity);
    f.title = v.title;
    f.summary = v.summary;
    f.evidence = v.evidence;
    f.evidence["needs"] = std::string(DataNeedName(det.needs()));
    if (!v.fix.empty()) f.fix = v.fix;
    f.last_ns = w.end_ns;
    return;
  }
  if (v.level != Verdict::Level::kFire || s.fire_streak < det.raise_after()) return;
  Finding f;
  f.id = next_id_++;
  f.detector = std::string(det.name());
  f.process = key;
  f.comm = proc.comm;
  f.severity = v.severity;
  f.title = v.title;
  f.summary = v.summary;
  f.evidence = v.evidence;
  f.evidence["needs"] = std::string(DataNeedName(det.needs()));
  f.fix = v.fix;
  f.started_ns = s.streak_start_ns;
  f.raised_ns = w.end_ns;
  f.last_ns = w.end_ns;
  f.active = true;
  s.finding = std::move(f);
  s.active = true;
  for (FindingListener* l : listeners_) l->OnFindingRaised(s.finding);
}

void DetectorEngine::Clear(DetectorState& s, int64_t ts_ns, const std::string& reason) {
  s.active = false;
  s.fire_streak = 0;
  s.quiet_streak = 0;
  s.finding.active = false;
  s.finding.cleared_ns = ts_ns;
  s.finding.clear_reason = reason;
  for (FindingListener* l : listeners_) l->OnFindingCleared(s.finding);
  recent_.push_back(s.finding);
  while (recent_.size() > kMaxRecent) recent_.pop_front();
}

CreationSiteTracking& DetectorEngine::Tracking(Proc& proc, int64_t started_ns, int64_t planned_ns) {
  std::optional<CreationSiteTracking>& t = proc.history.sites;
  if (!t || t->started_ns != started_ns) {
    t.emplace();
    t->started_ns = started_ns;
    t->planned_ns = planned_ns;
  }
  return *t;
}

void DetectorEngine::OnCreationSites(const ProcessKey& p, int64_t started_ns, int64_t planned_ns,
                                     SiteSample sample) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(p);
  if (it == procs_.end()) return;
  CreationSiteTracking& t = Tracking(it->second, started_ns, planned_ns);
  t.last_error.clear();
  t.Add(std::move(sample));
}

void DetectorEngine::OnCreationSiteError(const ProcessKey& p, int64_t started_ns,
                                         int64_t planned_ns, int64_t /*ts_ns*/,
                                         const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(p);
  if (it == procs_.end()) return;
  Tracking(it->second, started_ns, planned_ns).last_error = error;
}

void DetectorEngine::OnCreationSitesEnded(const ProcessKey& p, int64_t ts_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(p);
  if (it == procs_.end() || !it->second.history.sites) return;
  it->second.history.sites->ended_ns = ts_ns;
}

std::vector<ProcessKey> DetectorEngine::WantCreationSites() const {
  return Suspected([](const Detector& d) { return d.wants_creation_sites(); });
}

std::vector<ProcessKey> DetectorEngine::Suspected(
    const std::function<bool(const Detector&)>& which) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ProcessKey> out;
  for (const auto& [key, proc] : procs_) {
    for (size_t d = 0; d < detectors_.size(); ++d) {
      if (!enabled_[d] || !which(*detectors_[d])) continue;
      const Verdict::Level l = proc.state[d].last_level;
      if (l == Verdict::Level::kHold || l == Verdict::Level::kFire) {
        out.push_back(key);
        break;
      }
    }
  }
  return out;
}

void DetectorEngine::OnProcessGone(const ProcessKey& p, int64_t ts_ns, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(p);
  if (it == procs_.end()) return;
  for (DetectorState& s : it->second.state) {
    if (s.active) Clear(s, std::max(ts_ns, s.finding.last_ns), reason);
    s.fire_streak = 0;
  }
}

void DetectorEngine::Forget(const ProcessKey& p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(p);
  if (it == procs_.end()) return;
  for (DetectorState& s : it->second.state) {
    if (s.active) Clear(s, s.finding.last_ns, "process forgotten");
  }
  procs_.erase(it);
}

std::vector<Finding> DetectorEngine::Active() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Finding> out;
  for (const auto& [k, proc] : procs_) {
    for (const DetectorState& s : proc.state) {
      if (s.active) out.push_back(s.finding);
    }
  }
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.id < b.id; });
  return out;
}

std::vector<Finding> DetectorEngine::Recent(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Finding> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    out.push_back(*it);
  }
  return out;
}

std::vector<Finding> DetectorEngine::All() const {
  std::vector<Finding> out = Recent(kMaxRecent);
  std::vector<Finding> active = Active();
  out.insert(out.end(), active.begin(), active.end());
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.id < b.id; });
  return out;
}

std::vector<const Detector*> DetectorEngine::running() const {
  std::vector<const Detector*> out;
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if (enabled_[i]) out.push_back(detectors_[i].get());
  }
  return out;
}

std::vector<const Detector*> DetectorEngine::skipped() const {
  std::vector<const Detector*> out;
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if (!enabled_[i]) out.push_back(detectors_[i].get());
  }
  return out;
}

}  // namespace gcpilot::detect
