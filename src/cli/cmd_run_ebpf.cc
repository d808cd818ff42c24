// `gcpilot run` with the eBPF source (see cmd_run_ebpf.h).
#include "cli/cmd_run_ebpf.h"

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "cli/child_process.h"
#include "cli/cmd_run.h"
#include "cli/signal_forwarder.h"
#include "core/clock.h"
#include "golang/go_binary.h"
#include "sources/ebpf/ebpf_source.h"
#include "sources/ebpf/probe_plan.h"

namespace gcpilot::cli {

namespace {
constexpr int64_t kNsPerSec = 1'000'000'000;
// After the child exits, how long to wait for the probes' last records.
constexpr int64_t kDrainAfterExitNs = kNsPerSec;
}  // namespace

StatusOr<std::unique_ptr<EbpfRun>> PrepareEbpfRun(const RunOptions& options) {
  auto run = std::make_unique<EbpfRun>();
  StatusOr<std::string> program = ResolveProgram(options.argv[0]);
  if (!program.ok()) return program.status();
  run->program = *program;
  StatusOr<golang::GoBinary> binary = golang::GoBinary::Open(run->program);
  if (!binary.ok()) return binary.status();
  StatusOr<ebpf::ProbePlan> plan = ebpf::MakeProbePlan(*binary);
  if (!plan.ok()) return plan.status();
  EbpfRun* raw = run.get();
  StatusOr<std::unique_ptr<ebpf::EbpfSource>> source = ebpf::EbpfSource::Create(
      ebpf::EbpfSourceOptions{},
      [raw](const Event& e) {
        if (raw->session) raw->session->OnEvent(e);
      },
      [](const std::string& msg) { std::fprintf(stderr, "gcpilot: %s\n", msg.c_str()); });
  if (!source.ok()) return source.status();
  run->source = std::move(*source);
  // Attach now: if the kernel refuses, gctrace can still be used.
  GCPILOT_RETURN_IF_ERROR(run->source->PrepareProgram(run->program));
  return run;
}

int RunWithEbpf(const RunOptions& options, std::unique_ptr<EbpfRun> run) {
  MonotonicClock clock;
  std::signal(SIGPIPE, SIG_IGN);
  StatusOr<SignalForwarder> signals = SignalForwarder::Create();
  if (!signals.ok()) {
    std::fprintf(stderr, "gcpilot: %s\n", signals.status().message().c_str());
    return 1;
  }
  Session session(options.session);
  run->session = &session;
  ChildProcess::Options child_options;
  child_options.argv = options.argv;
  child_options.capture_stderr = false;
  Status traced = Status::Ok();
  child_options.before_exec = [&](pid_t pid) {
    traced = run->source->TraceChild(pid, run->program);
  };
  StatusOr<ChildProcess> child = ChildProcess::Spawn(child_options);
  if (!child.ok()) {
    std::fprintf(stderr, "gcpilot: %s\n", child.status().message().c_str());
    return child.status().code() == StatusCode::kNotFound ? 127 : 126;
  }
  if (!traced.ok()) {
    std::fprintf(stderr, "gcpilot: cannot trace '%s': %s\n", run->program.c_str(),
                 traced.message().c_str());
  }

  const int64_t interval_ns =
      options.interval_s > 0 ? static_cast<int64_t>(options.interval_s * kNsPerSec) : 0;
  int64_t next_tick_ns = clock.NowNs() + (interval_ns > 0 ? interval_ns : kNsPerSec);
  std::optional<ExitInfo> exit;
  int64_t exit_seen_ns = 0;
  while (true) {
    int64_t now = clock.NowNs();
    if (now >= next_tick_ns) {
      session.Tick(now, interval_ns > 0);
      next_tick_ns = now + (interval_ns > 0 ? interval_ns : kNsPerSec);
    }
    // Done once the probes reported the exit (or a second went by).
    if (exit && (run->source->traced() == 0 || now - exit_seen_ns >= kDrainAfterExitNs)) break;
    int timeout_ms = static_cast<int>(std::clamp<int64_t>((next_tick_ns - now) / 1'000'000, 0, 50));
    Status s = run->source->Poll(timeout_ms);
    if (!s.ok()) {
      std::fprintf(stderr, "gcpilot: %s\n", s.message().c_str());
      break;
    }
    signals->ForwardPending([&](int sig) { child->Signal(sig); });
    if (!exit) {
      if (auto e = child->TryWait()) {
        exit = *e;
        exit_seen_ns = clock.NowNs();
      }
    }
  }
  if (!exit) exit = child->Wait();
  run->source->Stop();
  const int64_t end_ns = clock.NowNs();
  session.Tick(end_ns, false);
  ebpf::EbpfSourceStats st = run->source->stats();
  InputStats stats;
  stats.source = "ebpf";
  stats.probe_records = st.cycles + st.stops;
  stats.drops = st.drops;
  WriteRunReport(options, session, end_ns, DescribeExit(*exit), stats);
  return exit->ShellCode();
}

}  // namespace gcpilot::cli
