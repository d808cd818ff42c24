// Readiness, breaker and actuator endpoints (see control_api.h).
#include "control/control_api.h"

#include <httplib.h>

#include <charconv>

#include "control/control_token.h"
#include "core/clock.h"
#include "serve/agent_http.h"

namespace gcpilot::control {
namespace {

using nlohmann::json;

void SendJson(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(serve::DumpJson(j), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, json{{"error", message}}, status);
}

template <typename T>
bool ParseInt(const std::string& text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Reads an optional integer member; false when present with the wrong type.
template <typename T>
bool Member(const json& j, const char* name, T* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  *out = it->get<T>();
  return true;
}

}  // namespace

ControlApi::ControlApi(ControlApiDeps deps) : deps_(std::move(deps)) {}

bool ControlApi::Authorized(const httplib::Request& req, httplib::Response& res) const {
  if (deps_.token.empty()) {
    SendError(res, 403, "no token configured: set token_file");
    return false;
  }
  const std::string authorization = req.get_header_value("Authorization");
  if (!BearerMatches(authorization, deps_.token)) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401,
              authorization.empty() ? "missing Authorization: Bearer <token>" : "wrong token");
    return false;
  }
  return true;
}

void ControlApi::Seen(int32_t host_pid, const ActuatorReport* report) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = MonotonicClock().NowNs();
  if (actuators_.size() >= kMaxActuators && actuators_.count(host_pid) == 0) {
    // Forget the one silent longest.
    auto oldest = actuators_.begin();
    for (auto it = actuators_.begin(); it != actuators_.end(); ++it) {
      if (it->second.last_seen_ns < oldest->second.last_seen_ns) oldest = it;
    }
    actuators_.erase(oldest);
  }
  ActuatorReport& a = actuators_[host_pid];
  if (report != nullptr) {
    a = *report;
    a.applied_once = true;
  }
  a.last_seen_ns = now;
}

std::optional<ActuatorReport> ControlApi::Actuator(int32_t host_pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actuators_.find(host_pid);
  if (it == actuators_.end()) return std::nullopt;
  return it->second;
}

json ControlApi::ControlJson(int32_t host_pid) const {
  json breaker = deps_.breakers->PidJson(host_pid);
  if (breaker.is_null()) {
    breaker = json{{"state", "closed"},
                   {"since_ms", nullptr},
                   {"reason", "not watched by the agent (not a traced Go process)"}};
  }
  json gc{{"apply", false}, {"gogc", nullptr}, {"memory_limit_bytes", nullptr},
          {"policy", ""},   {"reason", ""},    {"revision", 0}};
  if (deps_.gc_settings) {
    std::optional<GcSettings> s = deps_.gc_settings(host_pid);
    if (s) {
      gc = json{{"apply", s->apply},
                {"gogc", s->gogc},
                {"memory_limit_bytes",
                 s->memory_limit_bytes > 0 ? json(s->memory_limit_bytes) : json(nullptr)},
                {"policy", s->policy},
                {"reason", s->reason},
                {"revision", s->revision}};
    }
  }
  return json{{"pid", host_pid}, {"breaker", std::move(breaker)}, {"gc", std::move(gc)}};
}

void ControlApi::AddProcessFields(const serve::ProcessState& p, json& j) const {
  j["breaker"] = deps_.breakers->ProcessJson(p.key);
  std::optional<ActuatorReport> a = p.exited ? std::nullopt : Actuator(p.key.pid);
  if (!a) {
    j["actuator"] = nullptr;
    return;
  }
  // The offset between the monotonic and the wall clock is the WallClockMap's.
  j["actuator"] = json{
      {"gogc", a->applied_once ? json(a->gogc) : json(nullptr)},
      {"memory_limit_bytes",
       a->applied_once && a->memory_limit_bytes > 0 ? json(a->memory_limit_bytes) : json(nullptr)},
      {"revision", a->revision},
      {"reverted", a->reverted},
      {"last_seen_ms", deps_.wall.ToMs(a->last_seen_ns)}};
}

void ControlApi::Register(httplib::Server& s) {
  s.Get(R"(/ready/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    BreakerService::Readiness r = deps_.breakers->Ready(req.matches[1].str());
    res.status = r.status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(r.body, "text/plain");
  });
  s.Get("/api/v1/breakers", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, deps_.breakers->AllJson(MonotonicClock().NowNs()));
  });
  s.Get("/api/v1/control", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    int32_t pid = 0;
    uint64_t pidns = 0;
    if (!ParseInt(req.get_param_value("pid"), &pid) || pid <= 0) {
      SendError(res, 400, "query parameter 'pid' must be a positive integer");
      return;
    }
    if (req.has_param("pidns") && !ParseInt(req.get_param_value("pidns"), &pidns)) {
      SendError(res, 400, "query parameter 'pidns' must be a pid namespace inode");
      return;
    }
    StatusOr<int32_t> host = deps_.resolver->Resolve(pid, pidns);
    if (!host.ok()) {
      SendError(res, host.status().code() == StatusCode::kNotFound ? 404 : 400,
                host.status().message());
      return;
    }
    Seen(*host, nullptr);
    SendJson(res, ControlJson(*host));
  });
  s.Post("/api/v1/control/applied", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      SendError(res, 400, "body must be a JSON object");
      return;
    }
    int32_t pid = 0;
    uint64_t pidns = 0;
    ActuatorReport r;
    bool types = Member(body, "pid", &pid) && Member(body, "pidns", &pidns) &&
                 Member(body, "gogc", &r.gogc) &&
                 Member(body, "memory_limit_bytes", &r.memory_limit_bytes) &&
                 Member(body, "revision", &r.revision) &&
                 Member(body, "previous_gogc", &r.previous_gogc) &&
                 Member(body, "previous_memory_limit_bytes", &r.previous_memory_limit_bytes);
    auto reverted = body.find("reverted");
    if (reverted != body.end() && reverted->is_boolean()) r.reverted = reverted->get<bool>();
    if (!types || pid <= 0) {
      SendError(res, 400,
                "body needs a positive integer 'pid' (and integer pidns, gogc, "
                "memory_limit_bytes, revision, previous_gogc, previous_memory_limit_bytes)");
      return;
    }
    StatusOr<int32_t> host = deps_.resolver->Resolve(pid, pidns);
    if (!host.ok()) {
      SendError(res, host.status().code() == StatusCode::kNotFound ? 404 : 400,
                host.status().message());
      return;
    }
    Seen(*host, &r);
    SendJson(res, json{{"pid", *host}, {"recorded", true}});
  });
}

}  // namespace gcpilot::control
