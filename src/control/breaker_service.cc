// Per-process breakers fed by the serve model (see breaker_service.h).
#include "control/breaker_service.h"

#include <algorithm>
#include <charconv>

#include "serve/agent_http.h"

namespace gcpilot::control {
namespace {

using nlohmann::json;

std::string ContainerLabel(const std::string& container) {
  return container.size() > 12 ? container.substr(0, 12) : container;
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

int64_t StwP99Ns(const WindowStats& w) {
  double p99 = std::max(w.gc_pauses.p99, w.other_stops.p99);
  return static_cast<int64_t>(p99);
}

BreakerService::BreakerService(BreakerParams params, serve::WallClockMap wall, serve::SseHub* hub,
                               serve::WebhookSender* webhook)
    : params_(std::move(params)),
      wall_(wall),
      hub_(hub),
      webhook_(webhook),
      registry_(std::make_shared<prometheus::Registry>()),
      state_family_(prometheus::BuildGauge()
                        .Name("gcpilot_breaker_state")
                        .Help("GC-jitter breaker of the process: 0 closed, 1 half open, 2 open.")
                        .Register(*registry_)),
      transitions_family_(prometheus::BuildCounter()
                              .Name("gcpilot_breaker_transitions_total")
                              .Help("Breaker transitions of every process, by the state entered.")
                              .Register(*registry_)) {
  for (BreakerState s : {BreakerState::kClosed, BreakerState::kHalfOpen, BreakerState::kOpen}) {
    transitions_[s] = &transitions_family_.Add({{"to", std::string(BreakerStateName(s))}});
  }
}

BreakerService::Target* BreakerService::Ensure(const serve::ProcessState& p) {
  auto it = targets_.find(p.key);
  if (it != targets_.end()) return &it->second;
  prometheus::Labels labels{{"pid", std::to_string(p.key.pid)},
                            {"comm", p.info.comm},
                            {"binary", serve::BinaryName(p.info.exe)},
                            {"go_version", p.info.go_version},
                            {"container", ContainerLabel(p.info.container)}};
  // An older generation of the same pid: with the same labels the new one
  // takes its series over; with others (it exec'd another binary) its
  // series goes now.
  for (auto& [k, old] : targets_) {
    if (k.pid != p.key.pid || old.state_gauge == nullptr) continue;
    if (old.labels != labels) state_family_.Remove(old.state_gauge);
    old.state_gauge = nullptr;
  }
  Target& t = targets_
                  .emplace(p.key, Target{p.key,
                                         serve::BinaryName(p.info.exe),
                                         p.info.comm,
                                         p.exited,
                                         Breaker(params_),
                                         0,
                                         {},
                                         labels,
                                         nullptr})
                  .first->second;
  t.state_gauge = &state_family_.Add(labels);
  t.state_gauge->Set(0);
  return &t;
}

void BreakerService::OnProcess(const serve::ProcessState& p) {
  std::lock_guard<std::mutex> lock(mu_);
  Target* t = Ensure(p);
  t->exited = p.exited;
  if (!p.info.comm.empty()) t->comm = p.info.comm;
}

void BreakerService::OnEvicted(const serve::ProcessState& p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = targets_.find(p.key);
  if (it == targets_.end()) return;
  if (it->second.state_gauge != nullptr) state_family_.Remove(it->second.state_gauge);
  targets_.erase(it);
}

json BreakerService::TransitionJson(const BreakerTransition& tr) const {
  return json{{"from", BreakerStateName(tr.from)},
              {"to", BreakerStateName(tr.to)},
              {"at_ms", wall_.ToMs(tr.at_ns)},
              {"p99_ms", Ms(tr.p99_ns)},
              {"threshold_ms", Ms(tr.threshold_ns)},
              {"window", params_.view},
              {"window_start_ms", wall_.ToMs(tr.window_start_ns)},
              {"window_end_ms", wall_.ToMs(tr.window_end_ns)},
              {"reason", tr.reason}};
}

json BreakerService::BreakerJsonLocked(const Target& t) const {
  const Breaker& b = t.breaker;
  return json{{"state", BreakerStateName(b.state())},
              {"since_ms", b.since_ns() > 0 ? json(wall_.ToMs(b.since_ns())) : json(nullptr)},
              {"reason", b.last() ? b.last()->reason : ""},
              {"threshold_ms", Ms(params_.threshold_ns)},
              {"window", params_.view},
              {"last_p99_ms", Ms(t.last_p99_ns)},
              {"healthy_in_a_row", b.healthy_in_a_row()},
              {"transitions", b.transitions()}};
}

void BreakerService::Record(Target& t, const BreakerTransition& tr) {
  t.history.push_back(tr);
  while (t.history.size() > kKeptTransitions) t.history.pop_front();
  if (t.state_gauge != nullptr) t.state_gauge->Set(static_cast<double>(tr.to));
  transitions_[tr.to]->Increment();
  if (hub_ == nullptr && webhook_ == nullptr) return;
  std::string body = serve::DumpJson(json{{"pid", t.key.pid},
                                          {"generation", t.key.generation},
                                          {"binary", t.binary},
                                          {"comm", t.comm},
                                          {"transition", TransitionJson(tr)},
                                          {"breaker", BreakerJsonLocked(t)}});
  if (hub_ != nullptr) hub_->Publish(t.key.pid, "breaker", body);
  if (webhook_ != nullptr) webhook_->Post(std::move(body));
}

void BreakerService::CheckNow(const serve::ProcessState& p, int64_t pause_end_ns,
                              int64_t pause_ns) {
  if (pause_ns <= params_.threshold_ns) return;
  // The window ending with this pause, as the next completed one will see it.
  std::optional<WindowStats> w = p.windows.Current(params_.view, pause_end_ns);
  if (!w) return;
  int64_t p99 = StwP99Ns(*w);
  if (p99 <= params_.threshold_ns) return;
  std::lock_guard<std::mutex> lock(mu_);
  Target* t = Ensure(p);
  t->last_p99_ns = p99;
  std::optional<BreakerTransition> tr = t->breaker.OnUnhealthyNow(w->start_ns, w->end_ns, p99);
  if (tr) Record(*t, *tr);
}

void BreakerService::OnCycle(const serve::ProcessState& p, const serve::StoredCycle& c) {
  const serve::CompactCycle& cy = c.cycle;
  CheckNow(p, cy.end_ns(), std::max(cy.sweep_term_ns, cy.mark_term_ns));
}

void BreakerService::OnStop(const serve::ProcessState& p, const serve::StoredStop& s) {
  CheckNow(p, s.stop.start_ns + s.stop.duration_ns, s.stop.duration_ns);
}

void BreakerService::OnWindowCompleted(const serve::ProcessState& p, const WindowStats& w) {
  if (w.view != params_.view) return;
  std::lock_guard<std::mutex> lock(mu_);
  Target* t = Ensure(p);
  int64_t p99 = StwP99Ns(w);
  t->last_p99_ns = p99;
  // Transitions in order (a cool-down may end and the window then reopen).
  uint64_t before = t->breaker.transitions();
  std::optional<BreakerTransition> half = t->breaker.Advance(w.end_ns);
  if (half) Record(*t, *half);
  std::optional<BreakerTransition> tr = t->breaker.OnWindow(w.start_ns, w.end_ns, p99);
  if (tr && t->breaker.transitions() > before + (half ? 1 : 0)) Record(*t, *tr);
}

const BreakerService::Target* BreakerService::NewestLocked(int32_t pid) const {
  const Target* found = nullptr;
  for (const auto& [k, t] : targets_) {
    if (k.pid == pid) found = &t;  // Map order: the newest generation last.
  }
  return found;
}

json BreakerService::ProcessJson(const ProcessKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = targets_.find(key);
  return it == targets_.end() ? json(nullptr) : BreakerJsonLocked(it->second);
}

json BreakerService::PidJson(int32_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Target* t = NewestLocked(pid);
  return t == nullptr ? json(nullptr) : BreakerJsonLocked(*t);
}

json BreakerService::AllJson(int64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  json processes = json::array();
  struct Service {
    BreakerState worst = BreakerState::kClosed;
    json pids = json::array();
    json open = json::array();
  };
  std::map<std::string, Service> services;
  for (const auto& [k, t] : targets_) {
    json history = json::array();
    for (const BreakerTransition& tr : t.history) history.push_back(TransitionJson(tr));
    processes.push_back(json{{"pid", k.pid},
                             {"generation", k.generation},
                             {"binary", t.binary},
                             {"comm", t.comm},
                             {"exited", t.exited},
                             {"breaker", BreakerJsonLocked(t)},
                             {"history", std::move(history)}});
    if (t.exited) continue;
    Service& s = services[t.binary];
    BreakerState st = t.breaker.state();
    s.worst = std::max(s.worst, st);
    s.pids.push_back(k.pid);
    if (st == BreakerState::kOpen) s.open.push_back(k.pid);
  }
  json svc = json::array();
  for (auto& [name, s] : services) {
    svc.push_back(json{{"binary", name},
                       {"state", BreakerStateName(s.worst)},
                       {"pids", std::move(s.pids)},
                       {"open_pids", std::move(s.open)}});
  }
  return json{{"now_ms", wall_.ToMs(now_ns)},
              {"config",
               {{"threshold_ms", Ms(params_.threshold_ns)},
                {"window", params_.view},
                {"cool_down_s", static_cast<double>(params_.cool_down_ns) / 1e9},
                {"recovery_windows", params_.recovery_windows}}},
              {"processes", std::move(processes)},
              {"services", std::move(svc)},
              {"webhook", serve::WebhookSender::Json(webhook_)}};
}

BreakerService::Readiness BreakerService::Ready(const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  int32_t pid = 0;
  auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), pid);
  bool is_pid = ec == std::errc() && end == target.data() + target.size() && pid > 0;
  std::vector<const Target*> found;
  if (is_pid) {
    const Target* t = NewestLocked(pid);
    if (t != nullptr && !t->exited) found.push_back(t);
  } else {
    for (const auto& [k, t] : targets_) {
      if (t.binary == target && !t.exited) found.push_back(&t);
    }
  }
  if (found.empty()) {
    return {404, "unknown target '" + target + "': no live process with that " +
                     (is_pid ? "pid" : "binary name") + " is watched\n"};
  }
  std::string open;
  BreakerState worst = BreakerState::kClosed;
  for (const Target* t : found) {
    worst = std::max(worst, t->breaker.state());
    if (t->breaker.state() != BreakerState::kOpen) continue;
    open += "pid " + std::to_string(t->key.pid) +
            ": breaker open: " + (t->breaker.last() ? t->breaker.last()->reason : "") + "\n";
  }
  if (!open.empty()) return {503, open};
  return {200, "ready: breaker " + std::string(BreakerStateName(worst)) + " (" +
                   std::to_string(found.size()) + " process(es))\n"};
}

}  // namespace gcpilot::control
