// The `gcpilot run` loop: child stderr -> gctrace source -> session (see
// cmd_run.h). One thread: poll() on the child's stderr and a signalfd.
#include "cli/cmd_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/child_process.h"
#include "cli/cmd_run_ebpf.h"
#include "cli/signal_forwarder.h"
#include "core/clock.h"
#include "sources/gctrace/gctrace_source.h"
#include "sources/line_splitter.h"

namespace gcpilot::cli {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
// After the child exits, how long to keep reading output still in flight
// (a grandchild may hold the pipe open forever: don't wait for EOF).
constexpr int64_t kDrainAfterExitNs = 2 * kNsPerSec;

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      return;  // Our stderr is gone (EPIPE): nothing left to write to.
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int RunCommand(const RunOptions& options) {
  if (options.source != RunSource::kGctrace) {
    StatusOr<std::unique_ptr<EbpfRun>> ebpf = PrepareEbpfRun(options);
    if (ebpf.ok()) return RunWithEbpf(options, std::move(*ebpf));
    if (options.source == RunSource::kEbpf) {
      std::fprintf(stderr, "gcpilot run --source=ebpf: %s\n", ebpf.status().message().c_str());
      return 1;
    }
    std::fprintf(stderr, "gcpilot: eBPF source unavailable (%s); using the GC trace\n",
                 ebpf.status().message().c_str());
  }
  return RunWithGctrace(options);
}

void WriteRunReport(const RunOptions& options, Session& session, int64_t end_ns,
                    const std::string& how, const InputStats& stats) {
  std::FILE* report = stderr;
  if (!options.report_path.empty()) {
    report = std::fopen(options.report_path.c_str(), "we");
    if (!report) {
      std::fprintf(stderr, "gcpilot: cannot write report to '%s': %s\n",
                   options.report_path.c_str(), std::strerror(errno));
      report = stderr;
    }
  }
  session.Finish(end_ns, report, "gcpilot run: '" + options.argv[0] + "' " + how, stats);
  if (report != stderr) std::fclose(report);
}

std::string DescribeExit(const ExitInfo& exit) {
  return exit.signal ? "killed by signal " + std::to_string(exit.signal) +
                           (exit.core_dumped ? " (core dumped)" : "")
                     : "exited with code " + std::to_string(exit.exit_code);
}

int RunWithGctrace(const RunOptions& options) {
  MonotonicClock clock;
  // A closed stderr must not kill gcpilot (and orphan the child): writes
  // fail with EPIPE instead. The child gets the default disposition back.
  std::signal(SIGPIPE, SIG_IGN);
  // Block and capture signals before the child exists, so none is lost.
  StatusOr<SignalForwarder> signals = SignalForwarder::Create();
  if (!signals.ok()) {
    std::fprintf(stderr, "gcpilot: %s\n", signals.status().message().c_str());
    return 1;
  }
  const char* godebug = std::getenv("GODEBUG");
  ChildProcess::Options child_options;
  child_options.argv = options.argv;
  child_options.set_env = {{"GODEBUG", GodebugWithTrace(godebug ? godebug : "")}};
  const int64_t start_ns = clock.NowNs();
  StatusOr<ChildProcess> child = ChildProcess::Spawn(child_options);
  if (!child.ok()) {
    std::fprintf(stderr, "gcpilot: %s\n", child.status().message().c_str());
    return child.status().code() == StatusCode::kNotFound ? 127 : 126;
  }

  Session session(options.session);
  gctrace::GctraceSource::Options source_options;
  source_options.pid = child->pid();
  source_options.time_base_ns = start_ns;
  source_options.info.comm = Basename(options.argv[0]);
  source_options.info.exe = options.argv[0];
  gctrace::GctraceSource source(source_options, [&](const Event& e) { session.OnEvent(e); });
  source.Begin();

  std::string passthrough;
  uint64_t long_line_bytes = 0;
  LineSplitter splitter([&](std::string_view piece, LineSplitter::Piece kind, bool newline) {
    switch (kind) {
      case LineSplitter::Piece::kLine: {
        bool trace = source.OnLine(piece, !newline);
        if (!trace || options.keep_trace) {
          passthrough.append(piece);
          if (newline) passthrough.push_back('\n');
        }
        break;
      }
      case LineSplitter::Piece::kLongStart:
        long_line_bytes = piece.size();
        passthrough.append(piece);
        break;
      case LineSplitter::Piece::kLongMiddle:
        long_line_bytes += piece.size();
        passthrough.append(piece);
        break;
      case LineSplitter::Piece::kLongEnd:
        long_line_bytes += piece.size();
        passthrough.append(piece);
        if (newline) passthrough.push_back('\n');
        source.OnOverlongLine(long_line_bytes);
        break;
    }
  });

  const int64_t interval_ns =
      options.interval_s > 0 ? static_cast<int64_t>(options.interval_s * kNsPerSec) : 0;
  int64_t next_tick_ns = start_ns + (interval_ns > 0 ? interval_ns : kNsPerSec);
  std::optional<ExitInfo> exit;
  int64_t exit_seen_ns = 0;
  char buf[65536];
  bool stderr_open = true;

  while (true) {
    int64_t now = clock.NowNs();
    if (now >= next_tick_ns) {
      session.Tick(now, interval_ns > 0);
      next_tick_ns = now + (interval_ns > 0 ? interval_ns : kNsPerSec);
      continue;
    }
    if (exit && (!stderr_open || now - exit_seen_ns >= kDrainAfterExitNs)) break;
    int timeout_ms = static_cast<int>((next_tick_ns - now + 999'999) / 1'000'000);
    if (exit) {
      timeout_ms =
          std::min<int64_t>(timeout_ms, (kDrainAfterExitNs - (now - exit_seen_ns)) / 1'000'000 + 1);
    }
    pollfd fds[2] = {{signals->fd(), POLLIN, 0}, {child->stderr_fd(), POLLIN, 0}};
    int nfds = stderr_open ? 2 : 1;
    int r = poll(fds, nfds, timeout_ms);
    if (r < 0 && errno != EINTR) {
      std::fprintf(stderr, "gcpilot: poll: %s\n", std::strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) signals->ForwardPending([&](int sig) { child->Signal(sig); });
    if (!exit) {
      if (auto e = child->TryWait()) {
        exit = *e;
        exit_seen_ns = clock.NowNs();
      }
    }
    if (stderr_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(child->stderr_fd(), buf, sizeof(buf));
      if (n > 0) {
        splitter.Feed(std::string_view(buf, static_cast<size_t>(n)));
        WriteAll(STDERR_FILENO, passthrough);
        passthrough.clear();
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        stderr_open = false;
        child->CloseStderr();
      }
    }
  }
  splitter.Finish();
  WriteAll(STDERR_FILENO, passthrough);
  if (!exit) exit = child->Wait();
  const int64_t end_ns = clock.NowNs();
  source.OnExit(ProcessExited{exit->exit_code, exit->signal}, end_ns);
  session.Tick(end_ns, false);

  WriteRunReport(options, session, end_ns, DescribeExit(*exit), ToInputStats(source.stats()));
  return exit->ShellCode();
}

}  // namespace gcpilot::cli
