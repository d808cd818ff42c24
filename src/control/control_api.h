// ControlApi: the agent's HTTP levers and the actuator protocol
// (docs/serve.md "Breaker and control API"):
//
//   GET  /ready/<target>            200 closed / half open, 503 open, 404 unknown
//   GET  /api/v1/breakers           every breaker, per process and per service
//   GET  /api/v1/control?pid=P&pidns=INODE   (bearer token) breaker + GC settings
//   POST /api/v1/control/applied    (bearer token) what the actuator applied
//
// The control endpoints answer 403 when no token is configured, 401 for a
// missing or wrong token. A process in a container sends its own pid and
// its pid-namespace inode; the agent maps them to the host pid
// (PidNsResolver). What a process applied is kept per host pid (the agent
// thus knows which processes run the actuator) and shown in the
// process's JSON as `actuator`.
//
// Thread-safety: handlers run on the HTTP pool; all state has its own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/breaker_service.h"
#include "control/gc_settings.h"
#include "control/pidns_resolver.h"
#include "serve/api_json.h"
#include "serve/serve_model.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace gcpilot::control {

// What a process's actuator last reported.
struct ActuatorReport {
  int32_t gogc = 0;
  int64_t memory_limit_bytes = 0;
  uint64_t revision = 0;
  int32_t previous_gogc = 0;
  int64_t previous_memory_limit_bytes = 0;
  bool reverted = false;
  bool applied_once = false;  // An /applied report arrived (else only polls).
  int64_t last_seen_ns = 0;   // Last poll or report (monotonic).
};

struct ControlApiDeps {
  BreakerService* breakers = nullptr;
  PidNsResolver* resolver = nullptr;
  serve::WallClockMap wall;
  // Empty: no token configured (control endpoints answer 403).
  std::string token;
  // The tuner's settings for a host pid; unset or nullopt: "apply": false.
  std::function<std::optional<GcSettings>(int32_t host_pid)> gc_settings;
};

class ControlApi {
 public:
  static constexpr size_t kMaxActuators = 4096;

  explicit ControlApi(ControlApiDeps deps);

  // Adds the routes above (for AgentHttpDeps::extra_routes).
  void Register(httplib::Server& server);

  // Adds `breaker` and `actuator` to a PROCESS object.
  void AddProcessFields(const serve::ProcessState& p, nlohmann::json& j) const;

  // What the actuator of a host pid reported; nullopt when it never polled.
  std::optional<ActuatorReport> Actuator(int32_t host_pid) const;

  // The GET /api/v1/control answer for a host pid (tests, and the handler).
  nlohmann::json ControlJson(int32_t host_pid) const;

 private:
  // Sends 403/401 and returns false unless the request carries the token.
  bool Authorized(const httplib::Request& req, httplib::Response& res) const;
  void Seen(int32_t host_pid, const ActuatorReport* report);

  ControlApiDeps deps_;
  mutable std::mutex mu_;
  std::map<int32_t, ActuatorReport> actuators_;
};

}  // namespace gcpilot::control
