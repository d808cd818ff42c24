// `gcpilot serve` (see cmd_serve.h): wires the eBPF source, the cycle
// assembler, the ServeModel and its listeners (metrics, stream) and the HTTP
// server, and runs the ingest loop: poll the source, and once a second
// advance windows and read gauges; every 5 s publish the status.
#include "cli/cmd_serve.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>

#include "cli/serve_tuner.h"
#include "control/breaker_service.h"
#include "control/control_api.h"
#include "control/control_token.h"
#include "control/pidns_resolver.h"
#include "core/clock.h"
#include "detect/detector_engine.h"
#include "detect/serve_findings.h"
#include "detect/site_tracker.h"
#include "detect/stop_callers.h"
#include "model/cycle_assembler.h"
#include "serve/agent_http.h"
#include "serve/gctrace_follower.h"
#include "serve/metrics_exporter.h"
#include "serve/serve_config.h"
#include "serve/serve_model.h"
#include "serve/sse_hub.h"
#include "serve/stream_publisher.h"
#include "serve/webhook_sender.h"
#include "sources/ebpf/ebpf_source.h"
#include "store/history_store.h"
#include "store/store_sink.h"
#include "tune/policy.h"

namespace gcpilot::cli {
namespace {

using nlohmann::json;
using serve::ServeConfig;

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

constexpr char kVersion[] = "0.1.0";

void Say(const std::string& msg) {
  std::fprintf(stderr, "gcpilot serve: %s\n", msg.c_str());
  std::fflush(stderr);
}

StatusOr<ServeConfig> BuildConfig(const ServeOptions& o) {
  ServeConfig c;
  if (!o.config.empty()) {
    StatusOr<ServeConfig> loaded = serve::LoadServeConfig(o.config);
    if (!loaded.ok()) return loaded.status();
    c = std::move(*loaded);
  }
  auto duration = [](const std::string& text, const char* flag, int64_t* out) -> Status {
    if (text.empty()) return Status::Ok();
    StatusOr<int64_t> d = serve::ParseDuration(text);
    if (!d.ok()) return Status::InvalidArgument(std::string(flag) + ": " + d.status().message());
    *out = *d;
    return Status::Ok();
  };
  if (!o.listen.empty()) c.listen = o.listen;
  if (!o.unix_socket.empty()) c.unix_socket = o.unix_socket;
  if (!o.store.empty()) c.store = o.store;
  if (!o.token_file.empty()) c.token_file = o.token_file;
  if (o.max_processes > 0) c.max_processes = o.max_processes;
  if (o.apply) c.tuner.apply = true;
  for (Status s : {duration(o.slo_pause, "--slo-pause", &c.slo_pause_ns),
                   duration(o.retention, "--retention", &c.retention_ns)}) {
    if (!s.ok()) return s;
  }
  if (!o.pids.empty() || !o.exes.empty()) {
    c.pids = o.pids;
    c.exes = o.exes;
  }
  Status valid = serve::ValidateServeConfig(c);
  if (!valid.ok()) return valid;
  return c;
}

// What the HTTP threads may read of the ingest thread's state.
struct SharedStatus {
  std::mutex mu;
  ebpf::EbpfSourceStats stats;
  size_t attached_binaries = 0;
  bool ready = false;
  int64_t heartbeat_ns = 0;
};

}  // namespace

int ServeCommand(const ServeOptions& options) {
  // Many HTTP threads would each get a malloc arena (up to 8 per core) that
  // keeps freed memory resident; two are plenty for this agent.
  mallopt(M_ARENA_MAX, 2);
  StatusOr<ServeConfig> config = BuildConfig(options);
  if (!config.ok()) {
    Say(config.status().message());
    return 2;
  }
  const ServeConfig& cfg = *config;
  std::string host;
  int port = 0;
  (void)serve::SplitListenAddress(cfg.listen, &host, &port);

  serve::ServeLimits limits;
  limits.retention_ns = cfg.retention_ns;
  limits.max_cycles = static_cast<size_t>(cfg.max_cycles_per_process);
  limits.max_processes = static_cast<size_t>(cfg.max_processes);
  limits.exited_retention_ns = cfg.exited_retention_ns;
  limits.slo_pause_ns = cfg.slo_pause_ns;
  serve::ServeModel model(limits);
  serve::WallClockMap wall = serve::WallClockMap::Now();
  serve::MetricsExporter metrics(kVersion, cfg.gctrace.empty() ? "ebpf" : "ebpf+gctrace");
  serve::SseHub hub(static_cast<size_t>(cfg.max_stream_clients));
  serve::StreamPublisher publisher(&hub, wall);
  model.AddListener(&metrics);
  model.AddListener(&publisher);
  // The tuner (docs/serve.md "Tuner"): a recommendation per process every
  // 5 s, shown in the API and /metrics, handed to actuators with --apply.
  std::shared_ptr<ServeTuner> tuner;
  if (cfg.tuner.policy != "off") {
    StatusOr<std::unique_ptr<tune::TunerPolicy>> policy = tune::MakePolicy(cfg.tuner.policy);
    if (!policy.ok()) {
      Say(policy.status().message());
      return 2;
    }
    tuner =
        std::make_shared<ServeTuner>(std::shared_ptr<const tune::TunerPolicy>(std::move(*policy)),
                                     cfg.tuner.apply, wall, &metrics);
    tuner->PublishTo(&hub);
    Say("tuner: policy " + cfg.tuner.policy +
        (cfg.tuner.apply ? ", applied through the actuators" : ", dry run (recommendations only)"));
  }
  // The GC-jitter breaker and the actuator's control API (docs/serve.md
  // "Breaker and control API").
  control::BreakerParams breaker_params;
  breaker_params.threshold_ns =
      cfg.breaker.threshold_ns > 0 ? cfg.breaker.threshold_ns : cfg.slo_pause_ns;
  breaker_params.view = cfg.breaker.window;
  breaker_params.cool_down_ns = cfg.breaker.cool_down_ns;
  breaker_params.recovery_windows = cfg.breaker.recovery_windows;
  if (Status v = control::ValidateBreakerParams(breaker_params); !v.ok()) {
    Say(v.message());
    return 2;
  }
  // Webhooks ([breaker] and [findings] webhook): one background sender
  // each, counted in /metrics (gcpilot_webhook_posts_total).
  auto webhook_metrics = std::make_shared<serve::WebhookMetrics>();
  metrics.AddCollectable(webhook_metrics);
  auto start_webhook = [&](const char* name, const std::string& url,
                           std::unique_ptr<serve::WebhookSender>* out) {
    if (url.empty()) return true;
    StatusOr<std::unique_ptr<serve::WebhookSender>> w = serve::WebhookSender::Start(name, url);
    if (!w.ok()) {
      Say(w.status().message());
      return false;
    }
    *out = std::move(*w);
    webhook_metrics->Add(out->get());
    return true;
  };
  std::unique_ptr<serve::WebhookSender> breaker_webhook, findings_webhook;
  if (!start_webhook("breaker", cfg.breaker.webhook, &breaker_webhook) ||
      !start_webhook("findings", cfg.findings.webhook, &findings_webhook)) {
    return 2;
  }
  control::BreakerService breakers(breaker_params, wall, &hub, breaker_webhook.get());
  model.AddListener(&breakers);
  metrics.AddCollectable(breakers.registry());
  control::PidNsResolver pidns_resolver;
  control::ControlApiDeps control_deps;
  control_deps.breakers = &breakers;
  control_deps.resolver = &pidns_resolver;
  control_deps.wall = wall;
  if (!cfg.token_file.empty()) {
    StatusOr<std::string> token = control::LoadToken(cfg.token_file);
    if (!token.ok()) {
      Say("token_file: " + token.status().message());
      return 2;
    }
    control_deps.token = *token;
  }
  if (tuner) {
    control_deps.gc_settings = [tuner](int32_t host_pid) -> std::optional<control::GcSettings> {
      std::optional<TunerSettings> s = tuner->Settings(host_pid);
      if (!s) return std::nullopt;
      control::GcSettings g;
      g.gogc = s->gogc;
      g.memory_limit_bytes = s->memory_limit_bytes;
      g.policy = s->policy;
      g.reason = s->reason;
      g.revision = s->revision;
      g.apply = s->apply;
      return g;
    };
  }
  control::ControlApi control_api(std::move(control_deps));
  // Detectors: findings in the API, the stream and /metrics.
  detect::DetectorConfig detector_config;
  {
    detect::DetectorConfig& dc = detector_config;
    const serve::DetectorsConfig& in = cfg.detectors;
    dc.slo_pause_ns = cfg.slo_pause_ns;
    if (in.trend_window_ns) dc.trend_window_ns = *in.trend_window_ns;
    if (in.trend_min_span_ns) dc.trend_min_span_ns = *in.trend_min_span_ns;
    if (in.creation_sites_duration_ns) dc.sites_duration_ns = *in.creation_sites_duration_ns;
    if (in.creation_sites_interval_ns) dc.sites_interval_ns = *in.creation_sites_interval_ns;
    if (in.creation_sites_cooldown_ns) dc.sites_cooldown_ns = *in.creation_sites_cooldown_ns;
    if (in.creation_sites_max_goroutines) {
      dc.sites_max_goroutines = *in.creation_sites_max_goroutines;
    }
    if (in.fragmentation_ratio) dc.frag_ratio = *in.fragmentation_ratio;
    if (in.fragmentation_min_excess_mib) {
      dc.frag_min_excess_bytes = static_cast<double>(*in.fragmentation_min_excess_mib) * (1 << 20);
    }
    if (in.fragmentation_window_ns) dc.frag_window_ns = *in.fragmentation_window_ns;
    if (in.finalizer_min_backlog)
      dc.fin_min_backlog = static_cast<double>(*in.finalizer_min_backlog);
    if (in.finalizer_min_added) dc.fin_min_added = static_cast<double>(*in.finalizer_min_added);
    if (in.finalizer_window_ns) dc.fin_window_ns = *in.finalizer_window_ns;
    if (in.finalizer_min_span_ns) dc.fin_min_span_ns = *in.finalizer_min_span_ns;
    Status valid = detect::ValidateDetectorConfig(dc);
    if (!valid.ok()) {
      Say("[detectors]: " + valid.message());
      return 2;
    }
  }
  detect::DetectorEngine detectors(
      detect::MakeDetectors(detector_config),
      {detect::DataNeed::kAnySource, detect::DataNeed::kEbpf, detect::DataNeed::kGauges});
  detect::ServeFindings findings(&detectors, &hub, &metrics, wall, findings_webhook.get());
  // Observer stops: the callers' stacks, time-boxed (detect/stop_callers.h).
  detect::StopCallerCapture stop_callers;
  model.AddListener(&findings);
  FanOutSink sinks;
  sinks.Add(&model);
  std::unique_ptr<HistoryStore> store;
  std::unique_ptr<StoreSink> store_sink;
  if (!cfg.store.empty()) {
    StatusOr<std::unique_ptr<HistoryStore>> opened = HistoryStore::Open(cfg.store);
    if (!opened.ok()) {
      Say("--store: " + opened.status().message());
      return 1;
    }
    store = std::move(*opened);
    store_sink = std::make_unique<StoreSink>(store.get(), wall.offset_ns());
    sinks.Add(store_sink.get());
    Say("keeping history in " + cfg.store + " for " +
        serve::FormatDuration(cfg.store_retention_ns));
  }
  CycleAssembler assembler(&sinks);

  ebpf::EbpfSourceOptions so;
  so.pids = cfg.pids;
  so.exes = cfg.exes;
  so.all = cfg.pids.empty() && cfg.exes.empty();
  auto emit = [&](const Event& e) { assembler.Consume(e); };
  StatusOr<std::unique_ptr<ebpf::EbpfSource>> created = ebpf::EbpfSource::Create(so, emit, &Say);
  std::unique_ptr<ebpf::EbpfSource> ebpf_source;
  if (created.ok()) {
    ebpf_source = std::move(*created);
    ebpf_source->set_stop_stack_handler(
        [&stop_callers](const ProcessKey& p, const StopStack& st) { stop_callers.Add(p, st); });
  } else if (cfg.gctrace.empty()) {
    Say(created.status().message());
    return 1;
  } else {
    Say(created.status().message() + "; following only the gctrace logs of the config file");
  }
  std::vector<std::unique_ptr<serve::GctraceFollower>> logs;
  for (size_t i = 0; i < cfg.gctrace.size(); ++i) {
    const serve::GctraceLogConfig& g = cfg.gctrace[i];
    serve::GctraceTarget t{g.path, g.name,
                           g.pid > 0 ? g.pid : serve::kFirstLogPid + static_cast<int32_t>(i)};
    logs.push_back(std::make_unique<serve::GctraceFollower>(t, emit, &Say));
    Say("following gctrace log " + t.path + " as '" + logs.back()->target().name + "' (pid " +
        std::to_string(t.pid) + ")");
  }

  MonotonicClock clock;
  const int64_t started_ns = clock.NowNs();
  SharedStatus shared;
  shared.heartbeat_ns = started_ns;
  // The port actually bound (--listen 127.0.0.1:0 picks one), for status.
  std::atomic<int> bound_port{0};
  auto status_json = [&]() {
    ebpf::EbpfSourceStats st;
    size_t binaries = 0;
    bool ready = false;
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      st = shared.stats;
      binaries = shared.attached_binaries;
      ready = shared.ready;
    }
    auto [processes, live, counters] = model.Read([](const auto& all, const auto& c) {
      size_t l = 0;
      for (const auto& [k, p] : all) l += p.exited ? 0 : 1;
      return std::make_tuple(all.size(), l, c);
    });
    serve::SseHub::Stats hs = hub.stats();
    return json{{"version", kVersion},
                {"uptime_s", static_cast<double>(clock.NowNs() - started_ns) / 1e9},
                {"source", ebpf_source ? (logs.empty() ? "ebpf" : "ebpf+gctrace") : "gctrace"},
                {"ready", ready},
                {"listen", bound_port.load() > 0
                               ? (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                     ":" + std::to_string(bound_port.load())
                               : cfg.listen},
                {"unix_socket", cfg.unix_socket.empty() ? json(nullptr) : json(cfg.unix_socket)},
                {"slo_pause_ms", static_cast<double>(cfg.slo_pause_ns) / 1e6},
                {"processes", processes},
                {"processes_live", live},
                {"attached_binaries", binaries},
                {"stats",
                 {{"cycles", st.cycles},
                  {"stops", st.stops},
                  {"drops", st.drops},
                  {"processes_traced", st.processes_traced},
                  {"refused", st.refused},
                  {"unreadable", st.unreadable},
                  {"bad_records", st.bad_records},
                  {"unattributed", st.unattributed},
                  {"missed", st.missed},
                  {"over_limit", counters.over_limit},
                  {"evicted", counters.evicted}}},
                {"sse",
                 {{"clients", hs.clients},
                  {"dropped_clients", hs.dropped_clients},
                  {"refused_clients", hs.refused_clients},
                  {"messages", hs.messages}}},
                {"history",
                 {{"retention_s", static_cast<double>(cfg.retention_ns) / 1e9},
                  {"max_cycles_per_process", cfg.max_cycles_per_process},
                  {"max_processes", cfg.max_processes},
                  {"exited_retention_s", static_cast<double>(cfg.exited_retention_ns) / 1e9},
                  {"store", cfg.store.empty() ? json(nullptr) : json(cfg.store)}}}};
  };
  std::atomic<uint64_t> store_dropped{0};
  auto refresh_health = [&]() {
    serve::AgentHealth h;
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      h.processes_traced = shared.stats.processes_traced;
      h.refused = shared.stats.refused;
      h.dropped_events = shared.stats.drops;
      h.bad_records = shared.stats.bad_records + shared.stats.unattributed;
    }
    model.Read([&](const auto& all, const serve::ModelCounters& c) {
      for (const auto& [k, p] : all) (p.exited ? h.processes_exited : h.processes_live)++;
      h.evicted = c.evicted;
      h.over_limit = c.over_limit;
      return 0;
    });
    serve::SseHub::Stats hs = hub.stats();
    h.sse_clients = hs.clients;
    h.sse_dropped_clients = hs.dropped_clients;
    h.sse_refused_clients = hs.refused_clients;
    h.store_dropped_rows = store_dropped.load();
    metrics.SetAgentHealth(h);
  };

  serve::AgentHttpDeps deps;
  deps.model = &model;
  deps.metrics = &metrics;
  deps.hub = &hub;
  deps.wall = wall;
  deps.status = status_json;
  deps.ready = [&] {
    std::lock_guard<std::mutex> lock(shared.mu);
    return shared.ready;
  };
  deps.alive = [&] {
    std::lock_guard<std::mutex> lock(shared.mu);
    return MonotonicClock().NowNs() - shared.heartbeat_ns < 10'000'000'000;
  };
  deps.before_scrape = refresh_health;
  if (tuner) deps.extra_routes.push_back([tuner](httplib::Server& s) { tuner->AddRoutes(s); });
  deps.extra_routes.push_back([&control_api](httplib::Server& s) { control_api.Register(s); });
  deps.process_fields = [&control_api, tuner](const serve::ProcessState& p, json& j) {
    control_api.AddProcessFields(p, j);
    if (tuner) j["tuner"] = tuner->ProcessJson(p.key);
  };
  deps.threads = static_cast<size_t>(cfg.http_threads);
  deps.extra_routes.push_back([&findings](httplib::Server& s) { findings.AddRoutes(s); });
  serve::AgentHttpServer http(deps);
  StatusOr<int> bound = http.Start(host, port);
  if (!bound.ok()) {
    Say(bound.status().message());
    return 1;
  }
  bound_port = *bound;
  std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  Say("listening on http://" + url_host + ":" + std::to_string(*bound) +
      " (dashboard /, Prometheus /metrics, API /api/v1)");
  if (!cfg.unix_socket.empty()) {
    Status u = http.StartUnix(cfg.unix_socket, static_cast<mode_t>(cfg.unix_socket_mode));
    if (!u.ok()) {
      Say(u.message());
      return 1;
    }
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(cfg.unix_socket_mode));
    Say("listening on unix:" + cfg.unix_socket + " (mode " + mode + "; the same routes)");
  }

  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGPIPE, SIG_IGN);
  if (ebpf_source) {
    size_t started = ebpf_source->Start();
    Say("tracing " + std::to_string(started) + " Go process(es) through " +
        std::to_string(ebpf_source->attached_binaries()) + " binary probe set(s)" +
        (so.all ? "; new ones are found as they start" : ""));
  }
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    shared.ready = true;
  }

  const int64_t end_ns =
      options.duration_s > 0 ? started_ns + static_cast<int64_t>(options.duration_s * 1e9) : 0;
  int64_t next_tick = clock.NowNs();
  int64_t next_status = next_tick + 5'000'000'000;
  int64_t next_prune = next_tick;
  std::string last_store_error;
  int rc = 0;
  ebpf::EbpfSource* src = ebpf_source.get();
  // Goroutine creation sites, read from process memory while goroutine_leak
  // or heap_surge suspects a process (bounded sessions; see site_tracker.h).
  detect::SiteTracker site_tracker(
      &detectors, detector_config,
      [&](const ProcessKey& p, int64_t max_goroutines) -> StatusOr<detect::SiteSample> {
        if (src == nullptr || p.pid >= serve::kFirstLogPid) {
          return Status::NotFound("no process memory to read (a gctrace log)");
        }
        proc::GoroutineWalkLimits limits;
        limits.max_goroutines = static_cast<size_t>(max_goroutines);
        StatusOr<proc::GoroutineWalk> w = src->WalkGoroutines(p.pid, limits);
        if (!w.ok()) return w.status();
        return detect::SampleFromWalk(*w);
      });
  while (!g_stop) {
    int64_t now = clock.NowNs();
    if (end_ns != 0 && now >= end_ns) break;
    int wait_ms = static_cast<int>(std::clamp<int64_t>((next_tick - now) / 1'000'000, 0, 200));
    if (src != nullptr) {
      Status s = src->Poll(wait_ms);
      if (!s.ok()) {
        Say(s.message());
        rc = 1;
        break;
      }
    } else {
      usleep(static_cast<useconds_t>(wait_ms) * 1000);
    }
    now = clock.NowNs();
    for (auto& log : logs) log->Poll(now);
    if (now < next_tick) continue;
    next_tick = now + 1'000'000'000;
    model.Tick(
        now,
        [&](int32_t pid) {
          return src != nullptr && pid < serve::kFirstLogPid ? src->Gauges(pid) : std::nullopt;
        },
        [&](int32_t pid) { return src != nullptr ? src->drops(pid) : 0; });
    if (tuner) tuner->Tick(model, now);
    if (src != nullptr) {
      stop_callers.Service(
          now, [src](int32_t pid, bool on) { return src->SetStopStacks(pid, on); }, &detectors);
    }
    site_tracker.Tick(now);
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (src != nullptr) {
        shared.stats = src->stats();
        shared.attached_binaries = src->attached_binaries();
      }
      shared.heartbeat_ns = now;
    }
    if (store) {
      Status f = store->Flush();
      if (!f.ok() && f.message() != last_store_error) {
        last_store_error = f.message();
        Say("history store: " + f.message() +
            " (rows are kept in memory up to a bound, then "
            "dropped and counted)");
      }
      if (now >= next_prune) {
        next_prune = now + 60'000'000'000;
        StatusOr<int64_t> pruned = store->Prune(wall.ToWallNs(now) - cfg.store_retention_ns);
        if (!pruned.ok()) Say("history store: " + pruned.status().message());
      }
      store_dropped = store->dropped_rows();
    }
    if (now >= next_status) {
      next_status = now + 5'000'000'000;
      hub.Publish(0, "status", serve::DumpJson(status_json()));
    }
  }
  Say("stopping");
  http.Stop();
  if (src != nullptr) src->Stop();
  if (store) {
    Status f = store->Flush();
    if (!f.ok()) Say("history store: last flush failed: " + f.message());
  }
  for (const auto& log : logs) {
    const gctrace::SourceStats& ls = log->stats();
    Say("gctrace log " + log->target().path + ": " + std::to_string(ls.cycles) + " GC cycles, " +
        std::to_string(ls.malformed) + " malformed trace lines, " +
        std::to_string(log->rotations()) + " rotations");
  }
  if (src == nullptr) return rc;
  ebpf::EbpfSourceStats st = src->stats();
  Say(std::to_string(st.cycles) + " GC cycles, " + std::to_string(st.stops) + " non-GC stops, " +
      std::to_string(st.drops) + " events dropped; " + std::to_string(st.processes_traced) +
      " processes traced, " + std::to_string(st.refused) + " refused");
  return rc;
}

}  // namespace gcpilot::cli
