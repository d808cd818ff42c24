// `gcpilot watch` (see cmd_watch.h).
#include "cli/cmd_watch.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>

#include "cli/event_line_sink.h"
#include "cli/watch_model.h"
#include "core/clock.h"
#include "detect/detecting_sink.h"
#include "detect/finding_text.h"
#include "detect/site_tracker.h"
#include "detect/stop_callers.h"
#include "export/watch_table.h"
#include "model/cycle_assembler.h"
#include "serve/agent_http.h"
#include "sources/ebpf/ebpf_source.h"

namespace gcpilot::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// Prints each raised and cleared finding as a {"type":"finding"} JSON line.
class FindingLinePrinter final : public detect::FindingListener {
 public:
  FindingLinePrinter(std::FILE* out, int64_t wall_offset_ns)
      : out_(out), wall_offset_ns_(wall_offset_ns) {}
  void OnFindingRaised(const detect::Finding& f) override { Print(f, "raised"); }
  void OnFindingCleared(const detect::Finding& f) override { Print(f, "cleared"); }

 private:
  void Print(const detect::Finding& f, const char* change) {
    nlohmann::json j = detect::FindingToJson(f, wall_offset_ns_);
    j["type"] = "finding";
    j["change"] = change;
    std::fprintf(out_, "%s\n", serve::DumpJson(j).c_str());
  }
  std::FILE* out_;
  int64_t wall_offset_ns_;
};

std::string Title(size_t processes, bool tty) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof(when), "%H:%M:%S", std::localtime(&now));
  std::string t = std::string("gcpilot watch  ") + when + "  " + std::to_string(processes) +
                  " Go process(es), last 10 s";
  if (tty) t += "  (Ctrl-C to stop)";
  return t;
}

}  // namespace

int WatchCommand(const WatchOptions& options) {
  ebpf::EbpfSourceOptions so;
  so.pids = options.pids;
  so.exes = options.exes;
  so.all = options.pids.empty() && options.exes.empty();
  std::FILE* out = stdout;
  WatchModel model;
  EventLineSink lines(out, EventSource::kEbpf);
  FanOutSink sinks;
  sinks.Add(&model);
  if (options.json) sinks.Add(&lines);
  detect::DetectorEngine detectors(
      detect::MakeDetectors(detect::DetectorConfig()),
      {detect::DataNeed::kAnySource, detect::DataNeed::kEbpf, detect::DataNeed::kGauges});
  detect::DetectingSink detecting(&detectors, /*replay=*/false);
  // Observer stops: the callers' stacks, time-boxed (detect/stop_callers.h).
  detect::StopCallerCapture stop_callers;
  sinks.Add(&detecting);
  FindingLinePrinter finding_lines(out, serve::WallClockMap::Now().offset_ns());
  if (options.json) detectors.AddListener(&finding_lines);
  CycleAssembler assembler(&sinks);
  auto emit = [&](const Event& e) { assembler.Consume(e); };
  auto notice = [](const std::string& msg) {
    std::fprintf(stderr, "gcpilot watch: %s\n", msg.c_str());
  };
  StatusOr<std::unique_ptr<ebpf::EbpfSource>> source = ebpf::EbpfSource::Create(so, emit, notice);
  if (!source.ok()) {
    std::fprintf(stderr, "gcpilot watch: %s\n", source.status().message().c_str());
    return 1;
  }
  (*source)->set_stop_stack_handler(
      [&stop_callers](const ProcessKey& p, const StopStack& st) { stop_callers.Add(p, st); });
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGPIPE, SIG_IGN);
  size_t started = (*source)->Start();
  const bool only_pids = !so.all && options.exes.empty();
  if (only_pids && started == 0) {
    std::fprintf(stderr, "gcpilot watch: none of the given processes can be traced\n");
    return 1;
  }
  std::fprintf(stderr, "gcpilot watch: tracing %zu process(es) through %zu binary probe set(s)\n",
               started, (*source)->attached_binaries());
  std::fflush(stderr);

  // Goroutine creation sites while goroutine_leak / heap_surge suspects a
  // process (reads of its memory; see detect/site_tracker.h).
  detect::SiteTracker site_tracker(
      &detectors, detect::DetectorConfig(),
      [&](const ProcessKey& p, int64_t max_goroutines) -> StatusOr<detect::SiteSample> {
        proc::GoroutineWalkLimits limits;
        limits.max_goroutines = static_cast<size_t>(max_goroutines);
        StatusOr<proc::GoroutineWalk> w = (*source)->WalkGoroutines(p.pid, limits);
        if (!w.ok()) return w.status();
        return detect::SampleFromWalk(*w);
      });
  const bool tty = !options.json && isatty(fileno(out));
  MonotonicClock clock;
  const int64_t interval_ns = static_cast<int64_t>(options.interval_s * 1e9);
  const int64_t end_ns =
      options.duration_s > 0 ? clock.NowNs() + static_cast<int64_t>(options.duration_s * 1e9) : 0;
  int64_t next_refresh = clock.NowNs() + interval_ns;
  int rc = 0;
  while (!g_stop) {
    int64_t now = clock.NowNs();
    if (end_ns != 0 && now >= end_ns) break;
    if (only_pids && (*source)->traced() == 0) break;
    int64_t wait_ns = next_refresh - now;
    if (end_ns != 0) wait_ns = std::min(wait_ns, end_ns - now);
    Status s = (*source)->Poll(static_cast<int>(std::clamp<int64_t>(wait_ns / 1'000'000, 0, 200)));
    if (!s.ok()) {
      std::fprintf(stderr, "gcpilot watch: %s\n", s.message().c_str());
      rc = 1;
      break;
    }
    now = clock.NowNs();
    if (now < next_refresh) continue;
    next_refresh = now + interval_ns;
    std::vector<WatchRow> rows = model.Rows(now);
    for (WatchRow& r : rows) {
      if (r.exited) continue;
      std::optional<proc::RuntimeGauges> g = (*source)->Gauges(r.pid);
      if (!g) continue;
      r.gogc = g->gogc;
      r.memory_limit = g->memory_limit;
      r.heap_now_bytes = g->heap_live_bytes;
      r.goroutines = g->goroutines;
      r.drops = (*source)->drops(r.pid);
      detecting.SetGaugesOfPid(r.pid, detect::GaugeValues::From(*g));
    }
    detecting.AdvanceTo(now);
    stop_callers.Service(
        now, [&](int32_t pid, bool on) { return (*source)->SetStopStacks(pid, on); }, &detectors);
    site_tracker.Tick(now);
    if (options.json) {
      for (const WatchRow& r : rows)
        std::fprintf(out, "%s\n", WatchRowToJson(r, now).dump().c_str());
    } else {
      std::string table = FormatWatchTable(rows, Title(rows.size(), tty));
      std::vector<std::string> found = detect::FindingLines(detectors.Active(), false);
      if (!found.empty()) {
        table += "\nfindings (GET /api/v1/findings in `gcpilot serve` has evidence and fixes):";
        for (const std::string& l : found) table += "\n" + l;
      }
      std::fprintf(out, "%s%s\n", tty ? "\x1b[H\x1b[J" : "", table.c_str());
    }
    std::fflush(out);
  }
  (*source)->Stop();
  std::fflush(out);
  ebpf::EbpfSourceStats st = (*source)->stats();
  std::fprintf(stderr,
               "gcpilot watch: %llu GC cycles, %llu non-GC stops, %llu events dropped (ring "
               "buffer full); %llu processes traced, %llu refused\n",
               static_cast<unsigned long long>(st.cycles),
               static_cast<unsigned long long>(st.stops), static_cast<unsigned long long>(st.drops),
               static_cast<unsigned long long>(st.processes_traced),
               static_cast<unsigned long long>(st.refused));
  if (st.missed > 0) {
    std::fprintf(stderr, "gcpilot watch: %llu Go process(es) ended before they could be traced\n",
                 static_cast<unsigned long long>(st.missed));
  }
  if (st.exec_notice_drops > 0) {
    std::fprintf(stderr,
                 "gcpilot watch: %llu exec notice(s) lost (ring buffer full): new processes may "
                 "have been found late, by the 10 s rescan\n",
                 static_cast<unsigned long long>(st.exec_notice_drops));
  }
  if (st.unattributed > 0 || st.bad_records > 0) {
    std::fprintf(stderr,
                 "gcpilot watch: %llu record(s) of processes no longer traced and %llu malformed "
                 "record(s) were not used\n",
                 static_cast<unsigned long long>(st.unattributed),
                 static_cast<unsigned long long>(st.bad_records));
  }
  if (st.unreadable > 0) {
    std::fprintf(stderr,
                 "gcpilot watch: %llu process(es) not inspected: their /proc/PID/exe could not "
                 "be read (no CAP_SYS_PTRACE, or a container or sandbox restriction)\n",
                 static_cast<unsigned long long>(st.unreadable));
  }
  return rc;
}

}  // namespace gcpilot::cli
