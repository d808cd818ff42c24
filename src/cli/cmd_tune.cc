// `gcpilot tune` (see cmd_tune.h): eBPF source -> cycle assembler ->
// one SlidingWindows over the whole watch -> TuneInput -> policies.
#include "cli/cmd_tune.h"

#include <sys/stat.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/sliding_windows.h"
#include "core/clock.h"
#include "model/cycle_assembler.h"
#include "sources/ebpf/ebpf_source.h"
#include "tune/memory_sources.h"
#include "tune/process_tuner.h"
#include "tune/recommendation_json.h"

namespace gcpilot::cli {
namespace {

using nlohmann::json;

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

void Err(const std::string& msg) {
  std::fprintf(stderr, "gcpilot tune: %s\n", msg.c_str());
  std::fflush(stderr);
}

// Keeps one process's windows over the whole watch.
class TuneSink final : public ModelSink {
 public:
  TuneSink(pid_t pid, int64_t window_ns)
      : pid_(pid), windows_(std::vector<ViewSpec>{{"watch", window_ns, 1'000'000'000}}) {}
  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override {
    if (p.pid != pid_) return;
    info_ = info;
    if (!seen_) windows_.SetOrigin(ts_ns);
    seen_ = true;
  }
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override {
    if (p.pid == pid_) windows_.AddCycle(cycle);
  }
  void OnPause(const ProcessKey& p, const StwPause& pause) override {
    if (p.pid == pid_) windows_.AddPause(pause);
  }
  void OnProcessExited(const ProcessKey& p, const ProcessExited& /*e*/, int64_t /*ts*/) override {
    if (p.pid == pid_) exited_ = true;
  }
  WindowStats Window(int64_t now_ns) {
    windows_.AdvanceTo(now_ns);
    return windows_.Current("watch", now_ns).value_or(WindowStats{});
  }
  const ProcessInfo& info() const { return info_; }
  bool exited() const { return exited_; }

 private:
  pid_t pid_;
  SlidingWindows windows_;
  ProcessInfo info_;
  bool seen_ = false;
  bool exited_ = false;
};

}  // namespace

int TuneCommand(const TuneOptions& o) {
  if (o.pid <= 0) {
    Err("--pid is required");
    return 2;
  }
  if (!(o.watch_seconds >= 1 && o.watch_seconds <= 3600)) {
    Err("--watch-seconds must be between 1 and 3600");
    return 2;
  }
  std::vector<std::string> names;
  if (o.policy == "all") {
    names = tune::PolicyNames();
  } else {
    names.push_back(o.policy);
  }
  std::vector<std::shared_ptr<const tune::TunerPolicy>> policies;
  for (const std::string& n : names) {
    StatusOr<std::unique_ptr<tune::TunerPolicy>> p = tune::MakePolicy(n);
    if (!p.ok()) {
      Err(p.status().message() + " (or all)");
      return 2;
    }
    policies.push_back(std::move(*p));
  }
  struct stat st;
  const std::string proc_dir = "/proc/" + std::to_string(o.pid);
  if (::stat(proc_dir.c_str(), &st) != 0) {
    Err("process " + std::to_string(o.pid) + " not found (no " + proc_dir + ")");
    return 1;
  }

  const int64_t window_ns = static_cast<int64_t>(std::ceil(o.watch_seconds)) * 1'000'000'000;
  TuneSink sink(o.pid, window_ns);
  CycleAssembler assembler(&sink);
  std::vector<std::string> notices;
  ebpf::EbpfSourceOptions so;
  so.pids = {o.pid};
  auto emit = [&](const Event& e) { assembler.Consume(e); };
  auto notice = [&](const std::string& msg) { notices.push_back(msg); };
  StatusOr<std::unique_ptr<ebpf::EbpfSource>> source = ebpf::EbpfSource::Create(so, emit, notice);
  if (!source.ok()) {
    Err(source.status().message());
    return 1;
  }
  if ((*source)->Start() == 0) {
    std::string why;
    for (const std::string& n : notices) why += (why.empty() ? "" : "; ") + n;
    Err("process " + std::to_string(o.pid) +
        " cannot be tuned: " + (why.empty() ? "it is not a Go process gcpilot can trace" : why));
    return 1;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  if (!o.json) {
    std::fprintf(stderr, "gcpilot tune: watching pid %d for %.0f s (dry run: nothing is changed)\n",
                 o.pid, std::ceil(o.watch_seconds));
    std::fflush(stderr);
  }
  MonotonicClock clock;
  const int64_t start_ns = clock.NowNs();
  const int64_t end_ns = start_ns + window_ns;
  while (!g_stop && !sink.exited()) {
    int64_t now = clock.NowNs();
    if (now >= end_ns) break;
    Status s =
        (*source)->Poll(static_cast<int>(std::min<int64_t>((end_ns - now) / 1'000'000, 200)));
    if (!s.ok()) {
      Err(s.message());
      return 1;
    }
  }
  const int64_t now = clock.NowNs();
  std::optional<proc::RuntimeGauges> gauges = (*source)->Gauges(o.pid);
  (*source)->Stop();
  if (sink.exited()) {
    Err("process " + std::to_string(o.pid) + " exited while it was watched: nothing to tune");
    return 1;
  }
  if (g_stop) {
    Err("interrupted");
    return 1;
  }

  tune::TuneInput in;
  in.now_ns = now;
  in.window = sink.Window(now);
  in.process.pid = o.pid;
  if (gauges) {
    in.process.gogc = gauges->gogc;
    in.process.memory_limit = gauges->memory_limit;
    in.process.gomaxprocs = gauges->gomaxprocs;
  }
  tune::FillMemoryInputs(o.pid, &in);
  if (in.cgroup_error.find("is gone") != std::string::npos) {
    Err("process " + std::to_string(o.pid) + " vanished while it was watched");
    return 1;
  }

  json out{{"pid", o.pid},
           {"comm", sink.info().comm},
           {"exe", sink.info().exe},
           {"go_version", sink.info().go_version},
           {"watched_s", static_cast<double>(now - start_ns) / 1e9},
           {"settings_known", gauges && gauges->gogc.has_value()},
           {"inputs", tune::TuneInputsToJson(in)},
           {"recommendations", json::array()}};
  if (!gauges || !gauges->gogc) {
    std::string why = gauges ? gauges->unavailable_reason : "process not traced";
    out["settings_note"] =
        "GOGC/GOMEMLIMIT could not be read (" + why + "): assuming the defaults GOGC=100, no limit";
  }
  int ok = 0;
  std::string text;
  for (const auto& policy : policies) {
    tune::ProcessTuner tuner(policy);
    StatusOr<tune::Recommendation> r = tuner.Update(in);
    if (r.ok()) {
      ++ok;
      out["recommendations"].push_back(tune::RecommendationToJson(*r));
      text += tune::FormatRecommendationText(*r, in) + "\n";
    } else {
      json e = tune::TunerErrorToJson(r.status());
      e["policy"] = std::string(policy->name());
      out["recommendations"].push_back(e);
      text += "policy:      " + std::string(policy->name()) +
              "\nerror:       " + r.status().message() + "\n\n";
    }
  }
  if (o.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "pid %d (%s, %s): %llu GC cycles in %.0f s, GC CPU %.2f%%, %.2f GC/s, alloc %.1f MB/s\n",
        o.pid, sink.info().comm.c_str(), sink.info().go_version.c_str(),
        static_cast<unsigned long long>(in.window.gc_cycles),
        static_cast<double>(in.window.covered_ns) / 1e9, in.window.gc_cpu_share * 100,
        in.window.gcs_per_sec, in.window.alloc_bytes_per_sec / (1 << 20));
    if (out.contains("settings_note"))
      std::printf("note: %s\n", out["settings_note"].get<std::string>().c_str());
    std::printf("\n%s", text.c_str());
    std::printf(
        "dry run: nothing was changed. Apply with the env vars above, or `gcpilot serve --apply` "
        "with the actuator.\n");
  }
  std::fflush(stdout);
  return ok > 0 ? 0 : 1;
}

}  // namespace gcpilot::cli
