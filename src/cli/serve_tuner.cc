// ServeTuner (see serve_tuner.h): snapshots the model under its lock, reads
// cgroup and node memory without it, runs each process's tuner.
#include "cli/serve_tuner.h"

#include <httplib.h>

#include <limits>

#include "serve/agent_http.h"
#include "tune/recommendation_json.h"

namespace gcpilot::cli {
namespace {

using nlohmann::json;

}  // namespace

ServeTuner::ServeTuner(std::shared_ptr<const tune::TunerPolicy> policy, bool apply,
                       serve::WallClockMap wall, serve::MetricsExporter* metrics,
                       tune::SystemRoots roots)
    : policy_(std::move(policy)),
      policy_name_(policy_->name()),
      apply_(apply),
      wall_(wall),
      metrics_(metrics),
      roots_(std::move(roots)) {}

void ServeTuner::Tick(const serve::ServeModel& model, int64_t now_ns, bool force) {
  if (!force && ran_ && now_ns - last_run_ns_ < kPeriodNs) return;
  ran_ = true;
  last_run_ns_ = now_ns;
  struct Snap {
    ProcessKey key;
    ProcessInfo info;
    WindowStats window;
    proc::RuntimeGauges gauges;
  };
  std::vector<Snap> snaps = model.Read([&](const auto& all, const auto& /*counters*/) {
    std::vector<Snap> out;
    for (const auto& [key, p] : all) {
      if (p.exited) continue;
      std::optional<WindowStats> w = p.windows.Current("10s", now_ns);
      out.push_back(Snap{key, p.info, w.value_or(WindowStats{}), p.gauges});
    }
    return out;
  });
  std::vector<std::pair<ProcessKey, tune::TuneInput>> inputs;
  inputs.reserve(snaps.size());
  for (Snap& s : snaps) {
    tune::TuneInput in;
    in.now_ns = now_ns;
    in.window = std::move(s.window);
    in.process.pid = s.key.pid;
    in.process.gogc = s.gauges.gogc;
    in.process.memory_limit = s.gauges.memory_limit;
    in.process.gomaxprocs = s.gauges.gomaxprocs;
    tune::FillMemoryInputs(s.key.pid, &in, roots_);
    inputs.emplace_back(s.key, std::move(in));
  }
  std::vector<std::pair<ProcessKey, tune::Recommendation>> exported;
  std::unique_lock<std::mutex> lock(mu_);
  std::map<ProcessKey, Entry> next;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [key, in] = inputs[i];
    auto it = entries_.find(key);
    Entry e = it != entries_.end()
                  ? std::move(it->second)
                  : Entry{snaps[i].info, tune::ProcessTuner(policy_), 0, {}, {}, 0};
    e.info = snaps[i].info;
    e.tuner.Update(in);
    e.updated_ns = now_ns;
    e.inputs = tune::TuneInputsToJson(in);
    if (e.tuner.last()->ok()) exported.emplace_back(key, e.tuner.last()->value());
    next.emplace(key, std::move(e));
  }
  entries_ = std::move(next);
  lock.unlock();
  if (hub_ != nullptr) {
    for (const Snap& s : snaps) {
      json t = ProcessJson(s.key);
      if (t.is_null()) continue;
      // What changes the advice (the effect's numbers move every run).
      const json& r = t.contains("recommendation") ? t["recommendation"] : t["error"];
      std::string verdict =
          t.contains("recommendation")
              ? serve::DumpJson(json{{"policy", r.value("policy", "")},
                                     {"gogc", r.value("gogc", json())},
                                     {"memory_limit_bytes", r.value("memory_limit_bytes", json())},
                                     {"revision", r.value("revision", json())}})
              : serve::DumpJson(r);
      {
        std::lock_guard<std::mutex> relock(mu_);
        auto it = entries_.find(s.key);
        if (it == entries_.end()) continue;
        Entry& e = it->second;
        if (e.published == verdict && e.published_ns != 0 &&
            now_ns - e.published_ns < kRepublishNs) {
          continue;
        }
        e.published = verdict;
        e.published_ns = now_ns;
      }
      hub_->Publish(s.key.pid, "tuner",
                    serve::DumpJson(json{{"pid", s.key.pid},
                                         {"generation", s.key.generation},
                                         {"comm", s.info.comm},
                                         {"tuner", std::move(t)}}));
    }
  }
  if (metrics_ == nullptr) return;
  for (const auto& [key, r] : exported) {
    const prometheus::Labels policy{{"policy", r.policy}};
    metrics_->SetProcessGauge(key, "gcpilot_tuner_recommended_gogc",
                              "GOGC the tuner recommends for the process (-1: off)", policy,
                              r.gogc);
    metrics_->SetProcessGauge(
        key, "gcpilot_tuner_recommended_memory_limit_bytes",
        "GOMEMLIMIT the tuner recommends for the process (-1: no limit)", policy,
        r.memory_limit_bytes == tune::kNoMemoryLimit ? -1.0
                                                     : static_cast<double>(r.memory_limit_bytes));
  }
}

json ServeTuner::ProcessJson(const ProcessKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.tuner.last()) return nullptr;
  const Entry& e = it->second;
  json j{{"policy", policy_name_},
         {"apply", apply_},
         {"updated_ms", wall_.ToMs(e.updated_ns)},
         {"inputs", {{"cgroup", e.inputs["cgroup"]}, {"node", e.inputs["node"]}}}};
  const StatusOr<tune::Recommendation>& r = *e.tuner.last();
  if (r.ok()) {
    j["recommendation"] = tune::RecommendationToJson(*r);
  } else {
    j["error"] = tune::TunerErrorToJson(r.status());
  }
  return j;
}

json ServeTuner::AllJson() const {
  std::vector<ProcessKey> keys;
  std::map<ProcessKey, std::string> comms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, e] : entries_) {
      keys.push_back(k);
      comms[k] = e.info.comm;
    }
  }
  json list = json::array();
  for (const ProcessKey& k : keys) {
    json t = ProcessJson(k);
    if (t.is_null()) continue;
    list.push_back(
        json{{"pid", k.pid}, {"generation", k.generation}, {"comm", comms[k]}, {"tuner", t}});
  }
  return json{{"policy", policy_name_},
              {"apply", apply_},
              {"period_s", static_cast<double>(kPeriodNs) / 1e9},
              {"processes", std::move(list)}};
}

std::optional<TunerSettings> ServeTuner::Settings(int32_t host_pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.upper_bound(ProcessKey{host_pid, std::numeric_limits<uint32_t>::max()});
  if (it == entries_.begin()) return std::nullopt;
  --it;
  if (it->first.pid != host_pid || !it->second.tuner.last() || !it->second.tuner.last()->ok()) {
    return std::nullopt;
  }
  const tune::Recommendation& r = it->second.tuner.last()->value();
  TunerSettings s;
  s.gogc = r.gogc;
  s.memory_limit_bytes = r.memory_limit_bytes;
  s.policy = r.policy;
  s.reason = r.reason;
  s.revision = r.revision;
  s.apply = apply_;
  return s;
}

void ServeTuner::AddRoutes(httplib::Server& server) {
  server.Get("/api/v1/recommendations", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(serve::DumpJson(AllJson()), "application/json");
  });
}

}  // namespace gcpilot::cli
