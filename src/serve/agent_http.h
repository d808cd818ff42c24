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
// The same routes can also be served on a unix socket (StartUnix): a second
// cpp-httplib server with its own worker pool. cpp-httplib 0.11.4 cannot
// bind AF_UNIX itself (its server socket comes from getaddrinfo), so the
// agent creates, binds and chmods the socket and hands the listening fd to
// the server (its protected svr_sock_); accepting and serving are the
// library's own.
//
// Thread-safety: Start/StartUnix/Stop from one thread; handlers run on the
// pools and only use thread-safe collaborators.
#pragma once

#include <sys/types.h>

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
  // Also serves every route on a unix socket at `path` (absolute, shorter
  // than 108 bytes, in an existing directory), with file mode `mode` (set
  // before the socket accepts connections). A stale socket file (nothing
  // accepts on it) is replaced; a live one (another agent) or a file that
  // is not a socket is an error. Call after Start. Stop removes the file.
  Status StartUnix(const std::string& path, mode_t mode);
  // Ends every stream and stops serving; idempotent. Removes the unix
  // socket file if it is still the one StartUnix created.
  void Stop();

 private:
  void Configure(httplib::Server& s);
  void Routes(httplib::Server& s);

  AgentHttpDeps deps_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Server> unix_server_;
  std::thread unix_thread_;
  std::string unix_path_;
  dev_t unix_dev_ = 0;
  ino_t unix_ino_ = 0;
  std::atomic<bool> running_{false};
};

// Makes `path` a listening AF_UNIX stream socket with mode `mode` (see
// StartUnix for stale files). Returns the fd (close-on-exec) or why not.
StatusOr<int> ListenUnixSocket(const std::string& path, mode_t mode);

// Serializes JSON for the wire: invalid UTF-8 in strings is replaced, never
// an exception.
std::string DumpJson(const nlohmann::json& j);

}  // namespace gcpilot::serve
