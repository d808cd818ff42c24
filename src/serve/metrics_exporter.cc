// Prometheus series of the serve agent (see metrics_exporter.h).
#include "serve/metrics_exporter.h"

#include <dirent.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "serve/api_json.h"

namespace gcpilot::serve {
namespace {

using prometheus::Labels;

constexpr std::array<const char*, 5> kCpuClasses = {"sweep_termination", "assist", "background",
                                                    "idle", "mark_termination"};

std::string ContainerLabel(const std::string& container) {
  return container.size() > 12 ? container.substr(0, 12) : container;
}

// The agent's own process_* series (the names client libraries use).
std::string SelfProcessMetrics() {
  std::ostringstream o;
  o.precision(12);
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (ticks > 0 && std::getline(stat, line)) {
    size_t close = line.rfind(')');
    std::istringstream fields(close == std::string::npos ? "" : line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    // After "pid (comm) ": state is field 3, utime 14, stime 15, starttime 22.
    if (f.size() > 19) {
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);
      o << "# HELP process_cpu_seconds_total CPU time of the gcpilot agent.\n"
        << "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total " << cpu << "\n";
      std::ifstream up("/proc/uptime");
      double uptime = 0;
      up >> uptime;
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);
      double boot = static_cast<double>(now.tv_sec) - uptime;
      double start = boot + std::stod(f[19]) / static_cast<double>(ticks);
      o << "# HELP process_start_time_seconds Start time of the gcpilot agent (Unix).\n"
        << "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "
        << std::llround(start) << "\n";
    }
  }
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (page > 0 && statm >> size >> resident) {
    o << "# HELP process_resident_memory_bytes Resident memory of the gcpilot agent.\n"
      << "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "
      << resident * static_cast<uint64_t>(page) << "\n";
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int fds = 0;
    while (dirent* e = readdir(d)) fds += e->d_name[0] != '.';
    closedir(d);
    o << "# HELP process_open_fds Open file descriptors of the gcpilot agent.\n"
      << "# TYPE process_open_fds gauge\nprocess_open_fds " << fds - 1 << "\n";
  }
  return o.str();
}

}  // namespace

const std::vector<double>& MetricsExporter::PauseBuckets() {
  static const std::vector<double> kBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                               0.0005,  0.001,    0.0025,  0.005,  0.01,
                                               0.025,   0.05,     0.1,     0.25,   1};
  return kBuckets;
}

MetricsExporter::MetricsExporter(std::string version, std::string source)
    : pause_(prometheus::BuildHistogram()
                 .Name("gcpilot_stw_pause_seconds")
                 .Help("Stop-the-world pauses of the Go process (kind: sweep_termination, "
                       "mark_termination, other; reason: gc or the runtime's stop reason).")
                 .Register(registry_)),
      cycles_(prometheus::BuildCounter()
                  .Name("gcpilot_gc_cycles_total")
                  .Help("Completed GC cycles.")
                  .Register(registry_)),
      forced_(prometheus::BuildCounter()
                  .Name("gcpilot_gc_forced_cycles_total")
                  .Help("GC cycles forced by runtime.GC().")
                  .Register(registry_)),
      alloc_(prometheus::BuildCounter()
                 .Name("gcpilot_heap_allocated_bytes_total")
                 .Help("Bytes allocated, estimated per GC cycle (heap at mark end minus the "
                       "previous live heap).")
                 .Register(registry_)),
      cpu_(prometheus::BuildCounter()
               .Name("gcpilot_gc_cpu_seconds_total")
               .Help("GC CPU time summed over Ps, by class.")
               .Register(registry_)),
      drops_(prometheus::BuildCounter()
                 .Name("gcpilot_probe_dropped_events_total")
                 .Help("Probe records of this process lost (ring buffer full).")
                 .Register(registry_)),
      heap_live_(prometheus::BuildGauge()
                     .Name("gcpilot_heap_live_bytes")
                     .Help("Heap marked live by the last GC cycle.")
                     .Register(registry_)),
      heap_goal_(prometheus::BuildGauge()
                     .Name("gcpilot_heap_goal_bytes")
                     .Help("Heap goal of the last GC cycle.")
                     .Register(registry_)),
      gogc_(prometheus::BuildGauge()
                .Name("gcpilot_gogc_percent")
                .Help("GOGC as the runtime has it now (-1: off).")
                .Register(registry_)),
      memory_limit_(prometheus::BuildGauge()
                        .Name("gcpilot_memory_limit_bytes")
                        .Help("GOMEMLIMIT as the runtime has it now (9.223372036854776e18: none).")
                        .Register(registry_)),
      goroutines_(prometheus::BuildGauge()
                      .Name("gcpilot_goroutines")
                      .Help("Goroutines, read from the runtime (approximate).")
                      .Register(registry_)),
      gomaxprocs_(prometheus::BuildGauge()
                      .Name("gcpilot_gomaxprocs")
                      .Help("GOMAXPROCS of the process.")
                      .Register(registry_)),
      info_(prometheus::BuildGauge()
                .Name("gcpilot_agent_info")
                .Help("Always 1; labels tell the agent's version and source.")
                .Register(registry_)),
      processes_(prometheus::BuildGauge()
                     .Name("gcpilot_agent_processes")
                     .Help("Processes with exported series, by state.")
                     .Register(registry_)),
      traced_(prometheus::BuildCounter()
                  .Name("gcpilot_agent_processes_traced_total")
                  .Help("Processes the source started tracing.")
                  .Register(registry_)
                  .Add({})),
      refused_(prometheus::BuildCounter()
                   .Name("gcpilot_agent_processes_refused_total")
                   .Help("Go processes that could not be traced.")
                   .Register(registry_)
                   .Add({})),
      dropped_(prometheus::BuildCounter()
                   .Name("gcpilot_agent_dropped_events_total")
                   .Help("Probe records lost (ring buffer full), all processes.")
                   .Register(registry_)
                   .Add({})),
      bad_records_(prometheus::BuildCounter()
                       .Name("gcpilot_agent_bad_records_total")
                       .Help("Malformed or unattributable probe records.")
                       .Register(registry_)
                       .Add({})),
      evicted_(prometheus::BuildCounter()
                   .Name("gcpilot_agent_series_evicted_total")
                   .Help("Processes whose series were removed.")
                   .Register(registry_)
                   .Add({})),
      over_limit_(prometheus::BuildCounter()
                      .Name("gcpilot_agent_processes_over_limit_total")
                      .Help("Processes not tracked because max_processes was reached.")
                      .Register(registry_)
                      .Add({})),
      sse_clients_(prometheus::BuildGauge()
                       .Name("gcpilot_agent_sse_clients")
                       .Help("Connected event-stream clients.")
                       .Register(registry_)
                       .Add({})),
      sse_dropped_(prometheus::BuildCounter()
                       .Name("gcpilot_agent_sse_dropped_clients_total")
                       .Help("Event-stream clients disconnected for falling behind.")
                       .Register(registry_)
                       .Add({})),
      sse_refused_(prometheus::BuildCounter()
                       .Name("gcpilot_agent_sse_refused_clients_total")
                       .Help("Event-stream clients refused (max_stream_clients reached).")
                       .Register(registry_)
                       .Add({})),
      store_dropped_(prometheus::BuildCounter()
                         .Name("gcpilot_agent_store_dropped_rows_total")
                         .Help("History rows that could not be written to the store.")
                         .Register(registry_)
                         .Add({})),
      requests_(prometheus::BuildCounter()
                    .Name("gcpilot_agent_http_requests_total")
                    .Help("HTTP requests served, by handler and status code.")
                    .Register(registry_)) {
  info_.Add({{"version", std::move(version)}, {"source", std::move(source)}}).Set(1);
}

MetricsExporter::PerProcess* MetricsExporter::Ensure(const ProcessState& p) {
  auto it = per_process_.find(p.key);
  if (it != per_process_.end()) return &it->second;
  Labels labels{{"pid", std::to_string(p.key.pid)},
                {"comm", p.info.comm},
                {"binary", BinaryName(p.info.exe)},
                {"go_version", p.info.go_version},
                {"container", ContainerLabel(p.info.container)}};
  // Same labels as a process still exported (its pid came back, e.g. after
  // an exec of the same binary): that one's series give way.
  auto clash = by_labels_.find(labels);
  if (clash != by_labels_.end()) {
    auto old = per_process_.find(clash->second);
    if (old != per_process_.end()) {
      RemoveLocked(old->second);
      per_process_.erase(old);
    }
  }
  PerProcess& m = per_process_[p.key];
  m.labels = labels;
  by_labels_[labels] = p.key;
  m.cycles = &cycles_.Add(labels);
  m.forced = &forced_.Add(labels);
  m.alloc = &alloc_.Add(labels);
  for (size_t i = 0; i < kCpuClasses.size(); ++i) {
    Labels l = labels;
    l["class"] = kCpuClasses[i];
    m.cpu[i] = &cpu_.Add(l);
  }
  m.drops = &drops_.Add(labels);
  // The two GC kinds exist from the start so rate() sees their first pause.
  PauseHistogram(m, StwKind::kSweepTermination, StwReason::kGcSweepTermination);
  PauseHistogram(m, StwKind::kMarkTermination, StwReason::kGcMarkTermination);
  return &m;
}

prometheus::Histogram& MetricsExporter::PauseHistogram(PerProcess& m, StwKind kind,
                                                       StwReason reason) {
  if (kind != StwKind::kOther) reason = StwReason::kUnknown;  // One series per GC kind.
  auto key = std::make_pair(kind, reason);
  auto it = m.pauses.find(key);
  if (it != m.pauses.end()) return *it->second;
  Labels l = m.labels;
  l["kind"] = std::string(StwKindName(kind));
  l["reason"] = kind == StwKind::kOther ? std::string(StwReasonName(reason)) : "gc";
  prometheus::Histogram& h = pause_.Add(l, PauseBuckets());
  m.pauses[key] = &h;
  return h;
}

prometheus::Gauge* MetricsExporter::LazyGauge(prometheus::Family<prometheus::Gauge>& f,
                                              prometheus::Gauge*& g, const Labels& labels) {
  if (g == nullptr) g = &f.Add(labels);
  return g;
}

void MetricsExporter::SetCounterTo(prometheus::Counter& c, double value) {
  double now = c.Value();
  if (value > now) c.Increment(value - now);
}

void MetricsExporter::RemoveLocked(PerProcess& m) {
  for (auto& [k, h] : m.pauses) pause_.Remove(h);
  cycles_.Remove(m.cycles);
  forced_.Remove(m.forced);
  alloc_.Remove(m.alloc);
  for (prometheus::Counter* c : m.cpu) cpu_.Remove(c);
  drops_.Remove(m.drops);
  if (m.heap_live) heap_live_.Remove(m.heap_live);
  if (m.heap_goal) heap_goal_.Remove(m.heap_goal);
  if (m.gogc) gogc_.Remove(m.gogc);
  if (m.memory_limit) memory_limit_.Remove(m.memory_limit);
  if (m.goroutines) goroutines_.Remove(m.goroutines);
  if (m.gomaxprocs) gomaxprocs_.Remove(m.gomaxprocs);
  for (auto& [k, g] : m.extra) extra_families_.at(k.first)->Remove(g);
  by_labels_.erase(m.labels);
}

void MetricsExporter::OnProcess(const ProcessState& p) {
  std::lock_guard<std::mutex> lock(mu_);
  Ensure(p);
}

void MetricsExporter::OnCycle(const ProcessState& p, const StoredCycle& c) {
  std::lock_guard<std::mutex> lock(mu_);
  PerProcess* m = Ensure(p);
  const CompactCycle& cy = c.cycle;
  PauseHistogram(*m, StwKind::kSweepTermination, StwReason::kUnknown)
      .Observe(static_cast<double>(cy.sweep_term_ns) / 1e9);
  PauseHistogram(*m, StwKind::kMarkTermination, StwReason::kUnknown)
      .Observe(static_cast<double>(cy.mark_term_ns) / 1e9);
  m->cycles->Increment();
  if (cy.forced()) m->forced->Increment();
  m->alloc->Increment(static_cast<double>(cy.allocated_bytes));
  const std::array<int64_t, 5> cpu = {cy.cpu.sweep_term_ns, cy.cpu.assist_ns, cy.cpu.background_ns,
                                      cy.cpu.idle_ns, cy.cpu.mark_term_ns};
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (cpu[i] > 0) m->cpu[i]->Increment(static_cast<double>(cpu[i]) / 1e9);
  }
  LazyGauge(heap_live_, m->heap_live, m->labels)->Set(static_cast<double>(cy.heap_live_bytes));
  LazyGauge(heap_goal_, m->heap_goal, m->labels)->Set(static_cast<double>(cy.heap_goal_bytes));
  if (cy.gomaxprocs > 0) {
    LazyGauge(gomaxprocs_, m->gomaxprocs, m->labels)->Set(cy.gomaxprocs);
  }
}

void MetricsExporter::OnStop(const ProcessState& p, const StoredStop& s) {
  std::lock_guard<std::mutex> lock(mu_);
  PerProcess* m = Ensure(p);
  PauseHistogram(*m, s.stop.kind, s.stop.reason)
      .Observe(static_cast<double>(s.stop.duration_ns) / 1e9);
}

void MetricsExporter::OnWindow(const ProcessState& p, const WindowStats& /*w*/, Health /*h*/) {
  std::lock_guard<std::mutex> lock(mu_);
  PerProcess* m = Ensure(p);
  const proc::RuntimeGauges& g = p.gauges;
  if (g.gogc) LazyGauge(gogc_, m->gogc, m->labels)->Set(*g.gogc);
  if (g.memory_limit) {
    LazyGauge(memory_limit_, m->memory_limit, m->labels)->Set(static_cast<double>(*g.memory_limit));
  }
  if (g.goroutines) {
    LazyGauge(goroutines_, m->goroutines, m->labels)->Set(static_cast<double>(*g.goroutines));
  }
  if (p.gomaxprocs > 0) LazyGauge(gomaxprocs_, m->gomaxprocs, m->labels)->Set(p.gomaxprocs);
  SetCounterTo(*m->drops, static_cast<double>(p.totals.drops));
}

void MetricsExporter::OnEvicted(const ProcessState& p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_process_.find(p.key);
  if (it == per_process_.end()) return;
  RemoveLocked(it->second);
  per_process_.erase(it);
}

void MetricsExporter::SetProcessGauge(const ProcessKey& key, const std::string& family,
                                      const std::string& help, const Labels& extra, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_process_.find(key);
  if (it == per_process_.end()) return;
  PerProcess& m = it->second;
  Labels labels = m.labels;
  for (const auto& [k, v] : extra) labels[k] = v;
  prometheus::Gauge*& g = m.extra[{family, labels}];
  if (g == nullptr) {
    auto f = extra_families_.find(family);
    if (f == extra_families_.end()) {
      f = extra_families_
              .emplace(family,
                       &prometheus::BuildGauge().Name(family).Help(help).Register(registry_))
              .first;
    }
    g = &f->second->Add(labels);
  }
  g->Set(value);
}

void MetricsExporter::SetAgentHealth(const AgentHealth& h) {
  std::lock_guard<std::mutex> lock(mu_);
  SetCounterTo(traced_, static_cast<double>(h.processes_traced));
  SetCounterTo(refused_, static_cast<double>(h.refused));
  SetCounterTo(dropped_, static_cast<double>(h.dropped_events));
  SetCounterTo(bad_records_, static_cast<double>(h.bad_records));
  SetCounterTo(evicted_, static_cast<double>(h.evicted));
  SetCounterTo(over_limit_, static_cast<double>(h.over_limit));
  SetCounterTo(sse_dropped_, static_cast<double>(h.sse_dropped_clients));
  SetCounterTo(sse_refused_, static_cast<double>(h.sse_refused_clients));
  SetCounterTo(store_dropped_, static_cast<double>(h.store_dropped_rows));
  sse_clients_.Set(static_cast<double>(h.sse_clients));
  processes_.Add({{"state", "live"}}).Set(static_cast<double>(h.processes_live));
  processes_.Add({{"state", "exited"}}).Set(static_cast<double>(h.processes_exited));
}

void MetricsExporter::CountRequest(const std::string& handler, int status) {
  requests_.Add({{"handler", handler}, {"code", std::to_string(status)}}).Increment();
}

void MetricsExporter::AddCollectable(std::shared_ptr<prometheus::Collectable> c) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_.push_back(std::move(c));
}

std::string MetricsExporter::Render() {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<prometheus::MetricFamily> families = registry_.Collect();
    for (const auto& c : extra_) {
      std::vector<prometheus::MetricFamily> more = c->Collect();
      families.insert(families.end(), more.begin(), more.end());
    }
    prometheus::TextSerializer().Serialize(out, families);
  }
  out << SelfProcessMetrics();
  return out.str();
}

}  // namespace gcpilot::serve
