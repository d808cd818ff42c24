// Detectors wired into the serve agent (see serve_findings.h).
#include "detect/serve_findings.h"

#include <httplib.h>

#include <charconv>

#include "core/clock.h"
#include "serve/agent_http.h"

namespace gcpilot::detect {
namespace {

using nlohmann::json;

constexpr char kFindingFamily[] = "gcpilot_finding_active";
constexpr char kFindingHelp[] =
    "1 while a detector's finding is active for the process, 0 after it cleared "
    "(label detector).";

}  // namespace

json DetectorsJson(const DetectorEngine& engine) {
  json out = json::array();
  auto add = [&](const Detector* d, bool running) {
    out.push_back(json{{"name", d->name()},
                       {"needs", DataNeedName(d->needs())},
                       {"view", d->view()},
                       {"rule", d->rule()},
                       {"running", running}});
  };
  for (const Detector* d : engine.running()) add(d, true);
  for (const Detector* d : engine.skipped()) add(d, false);
  return out;
}

ServeFindings::ServeFindings(DetectorEngine* engine, serve::SseHub* hub,
                             serve::MetricsExporter* metrics, serve::WallClockMap wall,
                             serve::WebhookSender* webhook)
    : engine_(engine), hub_(hub), metrics_(metrics), wall_(wall), webhook_(webhook) {
  engine_->AddListener(this);
}

void ServeFindings::OnProcess(const serve::ProcessState& p) {
  engine_->OnProcess(p.key, p.info.comm);
  if (p.exited) engine_->OnProcessGone(p.key, p.exited_ns, "process exited");
}

void ServeFindings::OnCycle(const serve::ProcessState& p, const serve::StoredCycle& c) {
  const serve::CompactCycle& cy = c.cycle;
  CycleBrief b;
  b.number = cy.number;
  b.end_ns = cy.end_ns();
  b.sweep_term_ns = cy.sweep_term_ns;
  b.mark_ns = cy.mark_ns;
  b.mark_term_ns = cy.mark_term_ns;
  b.heap_live_bytes = cy.heap_live_bytes;
  b.heap_goal_bytes = cy.heap_goal_bytes;
  engine_->OnCycle(p.key, b);
}

void ServeFindings::OnWindowCompleted(const serve::ProcessState& p, const WindowStats& w) {
  if (p.exited) return;
  engine_->OnGauges(p.key, GaugeValues::From(p.gauges));
  engine_->OnWindow(p.key, w);
}

void ServeFindings::OnEvicted(const serve::ProcessState& p) { engine_->Forget(p.key); }

void ServeFindings::Publish(const Finding& f, const char* change) {
  if (metrics_ != nullptr) {
    metrics_->SetProcessGauge(f.process, kFindingFamily, kFindingHelp, {{"detector", f.detector}},
                              f.active ? 1 : 0);
  }
  if (hub_ == nullptr && webhook_ == nullptr) return;
  json j = FindingToJson(f, wall_.offset_ns());
  j["change"] = change;
  std::string body = serve::DumpJson(j);
  if (hub_ != nullptr) hub_->Publish(f.process.pid, "finding", body);
  if (webhook_ != nullptr) webhook_->Post(std::move(body));
}

void ServeFindings::OnFindingRaised(const Finding& f) { Publish(f, "raised"); }
void ServeFindings::OnFindingCleared(const Finding& f) { Publish(f, "cleared"); }

json ServeFindings::FindingsJson(int32_t pid, size_t recent_limit) const {
  json active = json::array(), recent = json::array();
  for (const Finding& f : engine_->Active()) {
    if (pid == 0 || f.process.pid == pid) active.push_back(FindingToJson(f, wall_.offset_ns()));
  }
  for (const Finding& f : engine_->Recent(kMaxRecent)) {
    if (recent.size() >= recent_limit) break;
    if (pid == 0 || f.process.pid == pid) recent.push_back(FindingToJson(f, wall_.offset_ns()));
  }
  return json{{"now_ms", wall_.ToMs(MonotonicClock().NowNs())},
              {"active", std::move(active)},
              {"recent", std::move(recent)},
              {"detectors", DetectorsJson(*engine_)},
              {"webhook", serve::WebhookSender::Json(webhook_)}};
}

void ServeFindings::AddRoutes(httplib::Server& server) const {
  server.Get("/api/v1/findings", [this](const httplib::Request& req, httplib::Response& res) {
    auto param = [&](const char* name, int64_t lo, int64_t hi, int64_t* out) {
      if (!req.has_param(name)) return true;
      std::string v = req.get_param_value(name);
      int64_t x = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi) {
        res.status = 400;
        res.set_content(
            serve::DumpJson(json{{"error", std::string("query parameter '") + name +
                                               "' must be an integer in [" + std::to_string(lo) +
                                               ", " + std::to_string(hi) + "]"}}),
            "application/json");
        return false;
      }
      *out = x;
      return true;
    };
    int64_t pid = 0, limit = static_cast<int64_t>(kDefaultRecent);
    if (!param("pid", 1, INT32_MAX, &pid) ||
        !param("limit", 0, static_cast<int64_t>(kMaxRecent), &limit)) {
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        serve::DumpJson(FindingsJson(static_cast<int32_t>(pid), static_cast<size_t>(limit))),
        "application/json");
  });
}

}  // namespace gcpilot::detect
