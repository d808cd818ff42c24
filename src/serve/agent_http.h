// AgentHttpServer: the HTTP face of `gcpilot serve` (cpp-httplib): the
// dashboard's static files, /metrics, the JSON API, the event stream and
// the health endpoints, as docs/serve.md describes them.
//
// Robustness: a fixed pool of worker threads (each open connection holds
// one; event streams are capped below the pool size so API and scrapes
// always find a worker), read/write timeouts so slow or silent clients
// release their worker, a 64 KiB body limit, GET only (anything else: 405),
// and every response's JSON made valid UTF-8 whatever the processes' names.
//
// Thread-safety: Start/Stop from one thread; handlers run on the pool and
// only use thread-safe collaborators.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "serve/api_json.h"
#include "serve/metrics_exporter.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"

namespace httplib {
class Server;
}

namespace gcpilot::serve {

struct AgentHttpDeps {
  ServeModel* model = nullptr;
  MetricsExporter* metrics = nullptr;
  SseHub* hub = nullptr;
  WallClockMap wall;
  std::function<nlohmann::json()> status;  // The /api/v1/status object.
  std::function<bool()> ready;             // /readyz.
  std::function<bool()> alive;             // /healthz.
  std::function<void()> before_scrape;     // Refreshes agent health series.
  // Adds fields to each PROCESS object of the JSON API (e.g. the breaker's
  // state); called with the model's lock held.
  std::function<void(const ProcessState&, nlohmann::json&)> process_fields;
  size_t threads = 192;
  // More routes (registered before the static-file catch-all), e.g. the
  // control API of later features.
  std::vector<std::function<void(httplib::Server&)>> extra_routes;
};

class AgentHttpServer {
 public:
  explicit AgentHttpServer(AgentHttpDeps deps);
  ~AgentHttpServer();
  AgentHttpServer(const AgentHttpServer&) = delete;
  AgentHttpServer& operator=(const AgentHttpServer&) = delete;

  // Binds host:port (port 0: any free port) and starts serving on a
  // background thread. Returns the bound port.
  StatusOr<int> Start(const std::string& host, int port);
  // Ends every stream and stops serving; idempotent.
  void Stop();

 private:
  void Routes();

  AgentHttpDeps deps_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> running_{false};
};

// Serializes JSON for the wire: invalid UTF-8 in strings is replaced, never
// an exception.
std::string DumpJson(const nlohmann::json& j);

}  // namespace gcpilot::serve
