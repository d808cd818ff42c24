// `gcpilot watch` (see cmd_watch.h).
#include "cli/cmd_watch.h"

#include <signal.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "golang/go_binary_cache.h"
#include "sources/ebpf/gc_cycle_probe.h"
#include "sources/proc/procfs.h"

namespace gcpilot::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

int WatchCommand(const WatchOptions& options) {
  if (options.pids.empty()) {
    std::fprintf(stderr, "gcpilot watch: give --pid N (discovery of all processes comes next)\n");
    return 2;
  }
  uint64_t cycles = 0;
  StatusOr<std::unique_ptr<ebpf::GcCycleProbe>> probe =
      ebpf::GcCycleProbe::Create([&](const gcp_cycle_event& e) {
        ++cycles;
        nlohmann::json j{{"type", "ebpf_gc_cycle"},
                         {"pid", e.pid},
                         {"gc", e.numgc},
                         {"pause_ns", e.pause_ns},
                         {"pause_end_unix_ns", e.pause_end_unix_ns},
                         {"ktime_ns", e.probe_ktime_ns}};
        std::printf("%s\n", j.dump().c_str());
      });
  if (!probe.ok()) {
    std::fprintf(stderr, "gcpilot watch: %s\n", probe.status().message().c_str());
    return 1;
  }
  golang::GoBinaryCache cache;
  std::vector<pid_t> traced;
  for (pid_t pid : options.pids) {
    StatusOr<proc::ProcessIdentity> id = proc::ReadIdentity(pid);
    if (!id.ok()) {
      std::fprintf(stderr, "gcpilot watch: pid %d: %s\n", pid, id.status().message().c_str());
      continue;
    }
    StatusOr<std::shared_ptr<const golang::GoBinary>> bin = cache.Get(id->exe_open);
    if (!bin.ok()) {
      std::fprintf(stderr, "gcpilot watch: pid %d: %s\n", pid, bin.status().message().c_str());
      continue;
    }
    Status s = (*probe)->Trace(pid, **bin);
    if (!s.ok()) {
      std::fprintf(stderr, "gcpilot watch: pid %d (%s): cannot trace: %s\n", pid, id->comm.c_str(),
                   s.message().c_str());
      continue;
    }
    traced.push_back(pid);
  }
  if (traced.empty()) return 1;
  std::fprintf(stderr, "gcpilot watch: tracing %zu process(es) through %zu probe(s)\n",
               traced.size(), (*probe)->attached_binaries());
  std::fflush(stderr);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  MonotonicClock clock;
  const int64_t end_ns =
      options.duration_s > 0 ? clock.NowNs() + static_cast<int64_t>(options.duration_s * 1e9) : 0;
  while (!g_stop && !traced.empty() && (end_ns == 0 || clock.NowNs() < end_ns)) {
    StatusOr<int> n = (*probe)->Poll(100);
    if (!n.ok()) {
      std::fprintf(stderr, "gcpilot watch: %s\n", n.status().message().c_str());
      break;
    }
    std::fflush(stdout);
    for (auto it = traced.begin(); it != traced.end();) {
      if (Alive(*it)) {
        ++it;
        continue;
      }
      (*probe)->Poll(0);  // Deliver what the process left in the ring.
      (*probe)->Untrace(*it);
      it = traced.erase(it);
    }
  }
  (*probe)->Poll(0);
  std::fflush(stdout);
  std::fprintf(stderr, "gcpilot watch: %llu GC cycles, %llu events dropped (ring buffer full)\n",
               static_cast<unsigned long long>(cycles),
               static_cast<unsigned long long>((*probe)->drops()));
  return 0;
}

}  // namespace gcpilot::cli
