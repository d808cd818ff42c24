// HTTP routes of the serve agent (see agent_http.h).
#include "serve/agent_http.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/clock.h"
#if GCPILOT_HAVE_WEB
#include "web/web_assets.h"
#endif

namespace gcpilot::serve {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultPage = 500;
constexpr int64_t kMaxPage = 5000;
constexpr size_t kMaxHeaders = 100;

void SendJson(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(DumpJson(j), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, json{{"error", message}}, status);
}

// Parses an optional integer query parameter; false (and a 400 sent) when
// present but malformed or out of [lo, hi].
bool IntParam(const httplib::Request& req, httplib::Response& res, const char* name, int64_t lo,
              int64_t hi, int64_t* out) {
  if (!req.has_param(name)) return true;
  std::string v = req.get_param_value(name);
  int64_t x = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi) {
    SendError(res, 400,
              std::string("query parameter '") + name + "' must be an integer in [" +
                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return false;
  }
  *out = x;
  return true;
}

// The process a request names: newest generation of the pid, or the one
// ?generation= asks for. nullptr (and a 404 sent) when unknown.
const ProcessState* FindProcess(const std::map<ProcessKey, ProcessState>& all,
                                const httplib::Request& req, httplib::Response& res) {
  int64_t pid = 0;
  const std::string digits = req.matches[1].str();
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (end != digits.data() + digits.size()) ec = std::errc::invalid_argument;
  int64_t generation = -1;
  if (ec != std::errc() || pid <= 0 || pid > INT32_MAX) {
    SendError(res, 400, "bad pid");
    return nullptr;
  }
  if (!IntParam(req, res, "generation", 0, UINT32_MAX, &generation)) return nullptr;
  const ProcessState* found = nullptr;
  for (const auto& [key, p] : all) {
    if (key.pid != pid) continue;
    if (generation >= 0 ? key.generation == generation : true) found = &p;
  }
  if (found == nullptr) SendError(res, 404, "no process " + std::to_string(pid) + " known");
  return found;
}

std::string RouteName(const std::string& path) {
  if (path == "/metrics") return "metrics";
  if (path == "/healthz") return "healthz";
  if (path == "/readyz") return "readyz";
  if (path == "/api/v1/stream") return "stream";
  if (path == "/api/v1/status") return "status";
  if (path.rfind("/api/v1/processes", 0) == 0) return "processes";
  if (path.rfind("/api/", 0) == 0) return "api_other";
  return "static";
}

template <typename Stored, typename ToJson>
void SendPage(const std::deque<Stored>& items, const ProcessState& p, const httplib::Request& req,
              httplib::Response& res, const WallClockMap& wall, const char* key, ToJson to_json,
              std::function<int64_t(const Stored&)> end_ns) {
  int64_t after = 0, limit = kDefaultPage, since_ms = -1;
  if (!IntParam(req, res, "after", 0, INT64_MAX, &after) ||
      !IntParam(req, res, "limit", 1, kMaxPage, &limit) ||
      !IntParam(req, res, "since_ms", 0, INT64_MAX / 1'000'000, &since_ms)) {
    return;
  }
  auto it = std::upper_bound(items.begin(), items.end(), static_cast<uint64_t>(after),
                             [](uint64_t a, const Stored& s) { return a < s.seq; });
  json out = json::array();
  uint64_t last = static_cast<uint64_t>(after);
  bool more = false;
  for (; it != items.end(); ++it) {
    if (since_ms >= 0 && wall.ToMs(end_ns(*it)) < static_cast<double>(since_ms)) continue;
    if (static_cast<int64_t>(out.size()) >= limit) {
      more = true;
      break;
    }
    out.push_back(to_json(*it, wall));
    last = it->seq;
  }
  SendJson(res, json{{"pid", p.key.pid},
                     {"generation", p.key.generation},
                     {key, std::move(out)},
                     {"next_after", last},
                     {"more", more}});
}

}  // namespace

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

AgentHttpServer::AgentHttpServer(AgentHttpDeps deps) : deps_(std::move(deps)) {}

AgentHttpServer::~AgentHttpServer() { Stop(); }

void AgentHttpServer::Routes(httplib::Server& s) {
  AgentHttpDeps& d = deps_;

  s.Get("/metrics", [&d](const httplib::Request&, httplib::Response& res) {
    if (d.before_scrape) d.before_scrape();
    res.set_content(d.metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/healthz", [&d](const httplib::Request&, httplib::Response& res) {
    bool ok = !d.alive || d.alive();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "event loop stalled\n", "text/plain");
  });
  s.Get("/readyz", [&d](const httplib::Request&, httplib::Response& res) {
    bool ok = !d.ready || d.ready();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : "starting\n", "text/plain");
  });
  s.Get("/api/v1/status", [&d](const httplib::Request&, httplib::Response& res) {
    SendJson(res, d.status ? d.status() : json::object());
  });
  s.Get("/api/v1/processes", [&d](const httplib::Request&, httplib::Response& res) {
    int64_t now = MonotonicClock().NowNs();
    json list = d.model->Read([&](const auto& all, const ModelCounters&) {
      json out = json::array();
      for (const auto& [key, p] : all) {
        std::optional<WindowStats> w = p.windows.Current("10s", now);
        out.push_back(ProcessToJson(p, d.model->HealthOf(p, now), d.wall, w ? &*w : nullptr));
        if (d.process_fields) d.process_fields(p, out.back());
      }
      return out;
    });
    SendJson(res, json{{"now_ms", d.wall.ToMs(now)}, {"processes", std::move(list)}});
  });
  s.Get(R"(/api/v1/processes/(\d+))", [&d](const httplib::Request& req, httplib::Response& res) {
    int64_t now = MonotonicClock().NowNs();
    d.model->Read([&](const auto& all, const ModelCounters&) {
      const ProcessState* p = FindProcess(all, req, res);
      if (p == nullptr) return 0;
      std::optional<WindowStats> w = p->windows.Current("10s", now);
      json j = ProcessToJson(*p, d.model->HealthOf(*p, now), d.wall, w ? &*w : nullptr);
      if (d.process_fields) d.process_fields(*p, j);
      SendJson(res, j);
      return 0;
    });
  });
  s.Get(R"(/api/v1/processes/(\d+)/cycles)",
        [&d](const httplib::Request& req, httplib::Response& res) {
          d.model->Read([&](const auto& all, const ModelCounters&) {
            const ProcessState* p = FindProcess(all, req, res);
            if (p == nullptr) return 0;
            SendPage<StoredCycle>(p->cycles, *p, req, res, d.wall, "cycles", &CycleToApiJson,
                                  [](const StoredCycle& c) { return c.cycle.end_ns(); });
            return 0;
          });
        });
  s.Get(R"(/api/v1/processes/(\d+)/stops)",
        [&d](const httplib::Request& req, httplib::Response& res) {
          d.model->Read([&](const auto& all, const ModelCounters&) {
            const ProcessState* p = FindProcess(all, req, res);
            if (p == nullptr) return 0;
            SendPage<StoredStop>(p->stops, *p, req, res, d.wall, "stops", &StopToApiJson,
                                 [](const StoredStop& s) { return s.stop.start_ns; });
            return 0;
          });
        });
  s.Get(R"(/api/v1/processes/(\d+)/windows)",
        [&d](const httplib::Request& req, httplib::Response& res) {
          std::string view = req.has_param("view") ? req.get_param_value("view") : "10s";
          int64_t limit = 120;
          if (!IntParam(req, res, "limit", 0, ServeModel::kRecentWindows, &limit)) return;
          int64_t now = MonotonicClock().NowNs();
          d.model->Read([&](const auto& all, const ModelCounters&) {
            const ProcessState* p = FindProcess(all, req, res);
            if (p == nullptr) return 0;
            std::optional<WindowStats> cur = p->windows.Current(view, now);
            if (!cur) {
              SendError(res, 400, "unknown view '" + view + "' (views: 1s, 10s, 1m)");
              return 0;
            }
            json recent = json::array();
            auto r = p->recent.find(view);
            if (r != p->recent.end()) {
              size_t skip = r->second.size() > static_cast<size_t>(limit)
                                ? r->second.size() - static_cast<size_t>(limit)
                                : 0;
              for (size_t i = skip; i < r->second.size(); ++i) {
                recent.push_back(WindowToJson(r->second[i], d.wall));
              }
            }
            SendJson(res, json{{"pid", p->key.pid},
                               {"generation", p->key.generation},
                               {"view", view},
                               {"current", WindowToJson(*cur, d.wall)},
                               {"recent", std::move(recent)}});
            return 0;
          });
        });
  s.Get("/api/v1/stream", [&d](const httplib::Request& req, httplib::Response& res) {
    std::set<int32_t> pids;
    auto range = req.params.equal_range("pid");
    for (auto it = range.first; it != range.second; ++it) {
      int32_t pid = 0;
      const std::string& v = it->second;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), pid);
      if (ec != std::errc() || end != v.data() + v.size() || pid <= 0) {
        SendError(res, 400, "query parameter 'pid' must be a positive integer");
        return;
      }
      pids.insert(pid);
    }
    std::string hello = SseHub::Format(0, "hello", DumpJson(d.status ? d.status() : json{}));
    std::shared_ptr<SseHub::Client> client = d.hub->Connect(std::move(pids), hello);
    if (!client) {
      SendError(res, 503, "too many stream clients (max_stream_clients)");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    SseHub* hub = d.hub;
    res.set_chunked_content_provider(
        "text/event-stream",
        [hub, client](size_t, httplib::DataSink& sink) {
          return hub->Pump(
              *client, [&sink](const std::string& s) { return sink.write(s.data(), s.size()); },
              1000);
        },
        [hub, client](bool) { hub->Disconnect(client); });
  });
  for (const auto& add : d.extra_routes) add(s);
  s.Get("/(.*)", [](const httplib::Request& req, httplib::Response& res) {
#if GCPILOT_HAVE_WEB
    if (const web::WebAsset* a = web::FindWebAsset(req.path)) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(a->body), std::string(a->content_type));
      return;
    }
#endif
    SendError(res, 404, "no such page: " + req.path);
  });
  auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Allow", "GET, HEAD");
    SendError(res, 405, "method not allowed (this agent only serves GET)");
  };
  s.Post(".*", not_allowed);
  s.Put(".*", not_allowed);
  s.Patch(".*", not_allowed);
  s.Delete(".*", not_allowed);
  // httplib bounds each header line (8 KiB), not their number.
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.headers.size() <= kMaxHeaders) return httplib::Server::HandlerResponse::Unhandled;
    SendError(res, 431, "too many request headers (at most " + std::to_string(kMaxHeaders) + ")");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_logger([&d](const httplib::Request& req, const httplib::Response& res) {
    d.metrics->CountRequest(RouteName(req.path), res.status);
  });
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        SendError(res, 500, what);
      });
}

void AgentHttpServer::Configure(httplib::Server& s) {
  size_t threads = deps_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_timeout(5);
  s.set_keep_alive_max_count(1000);
  s.set_payload_max_length(64 * 1024);
  // Events are small writes: without this, Nagle + the client's delayed ACK
  // hold each one up to ~40 ms.
  s.set_tcp_nodelay(true);
  Routes(s);
}

StatusOr<int> AgentHttpServer::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  Configure(*server_);
  errno = 0;
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound < 0) bound = 0;
  } else if (!server_->bind_to_port(host, port)) {
    bound = 0;
  }
  if (bound <= 0) {
    int err = errno;
    std::string why = err != 0 ? std::string(": ") + std::strerror(err) : "";
    return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + why +
                               " (in use, or not an address of this host; change it with "
                               "--listen or 'listen' in the config file)");
  }
  running_ = true;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

namespace {

// A cpp-httplib server that serves an already listening socket.
class AdoptingServer : public httplib::Server {
 public:
  void Adopt(int fd) { svr_sock_ = fd; }
};

}  // namespace

StatusOr<int> ListenUnixSocket(const std::string& path, mode_t mode) {
  sockaddr_un addr{};
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument("unix socket '" + path + "' must be an absolute path");
  }
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("unix socket path '" + path + "' is longer than " +
                                   std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto fail = [&](int fd, const std::string& what) {
    int err = errno;
    if (fd >= 0) close(fd);
    return Status::Unavailable("unix socket " + path + ": " + what + ": " + std::strerror(err));
  };
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::InvalidArgument("unix socket " + path +
                                     ": the path exists and is not a socket (not removed)");
    }
    // Something accepting there is another agent; nothing is a stale file.
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return fail(-1, "socket");
    int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    int err = errno;
    close(probe);
    if (rc == 0) {
      return Status::Unavailable("unix socket " + path +
                                 ": another process is listening on it (another agent?)");
    }
    if (err != ECONNREFUSED) {
      errno = err;
      return fail(-1, "checking the existing socket");
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return fail(-1, "removing the stale socket");
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(-1, "socket");
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail(fd, errno == ENOENT ? "bind (its directory must exist)" : "bind");
  }
  // The mode is set before listen(): until then nobody can connect.
  if (chmod(path.c_str(), mode) != 0) {
    Status s = fail(fd, "chmod");
    unlink(path.c_str());
    return s;
  }
  if (listen(fd, SOMAXCONN) != 0) {
    Status s = fail(fd, "listen");
    unlink(path.c_str());
    return s;
  }
  return fd;
}

Status AgentHttpServer::StartUnix(const std::string& path, mode_t mode) {
  if (!running_) return Status::Internal("StartUnix before Start");
  StatusOr<int> fd = ListenUnixSocket(path, mode);
  if (!fd.ok()) return fd.status();
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    unix_dev_ = st.st_dev;
    unix_ino_ = st.st_ino;
  }
  unix_path_ = path;
  auto server = std::make_unique<AdoptingServer>();
  Configure(*server);
  server->Adopt(*fd);
  unix_server_ = std::move(server);
  unix_thread_ = std::thread([this] { unix_server_->listen_after_bind(); });
  // stop() only ends a server that runs: wait for it (microseconds).
  for (int i = 0; i < 1000 && !unix_server_->is_running(); ++i) usleep(1000);
  return Status::Ok();
}

void AgentHttpServer::Stop() {
  if (!running_.exchange(false)) return;
  if (deps_.hub != nullptr) deps_.hub->Shutdown();
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (unix_server_) {
    unix_server_->stop();
    if (unix_thread_.joinable()) unix_thread_.join();
    // Only our own socket file: not one another agent put there meanwhile.
    struct stat st {};
    if (lstat(unix_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == unix_dev_ &&
        st.st_ino == unix_ino_) {
      unlink(unix_path_.c_str());
    }
  }
}

}  // namespace gcpilot::serve
