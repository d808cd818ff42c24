// `gcpilot ps` (see cmd_ps.h).
#include "cli/cmd_ps.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "golang/go_binary_cache.h"
#include "sources/proc/procfs.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::cli {
namespace {

std::string Opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string Limit(const std::optional<int64_t>& v) {
  if (!v) return "-";
  if (*v == INT64_MAX) return "off";
  return fmt::format("{}MiB", *v >> 20);
}

}  // namespace

int PsCommand(const PsOptions& options) {
  golang::GoBinaryCache cache;
  size_t go_count = 0, denied = 0;
  if (!options.json) {
    std::printf("%-7s %-16s %-9s %-8s %-6s %-4s %-8s %-6s %-12s %s\n", "PID", "COMM", "GO",
                "STRIPPED", "PROCS", "GOGC", "MEMLIMIT", "GOR", "CONTAINER", "PACKAGE / BINARY");
  }
  for (pid_t pid : proc::ListPids()) {
    if (pid == getpid()) continue;
    StatusOr<proc::ProcessIdentity> id = proc::ReadIdentity(pid);
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kPermissionDenied) ++denied;
      continue;  // Gone, or a kernel thread.
    }
    StatusOr<std::shared_ptr<const golang::GoBinary>> bin = cache.Get(id->exe_open);
    if (!bin.ok()) {
      if (options.all && !options.json) {
        std::printf("%-7d %-16s not Go: %s\n", pid, id->comm.c_str(),
                    bin.status().message().c_str());
      }
      continue;
    }
    ++go_count;
    const golang::GoBinary& b = **bin;
    proc::RuntimeGauges g = proc::ReadRuntimeGauges(pid, b);
    std::optional<int64_t> procs, gogc;
    if (g.gomaxprocs) procs = *g.gomaxprocs;
    if (g.gogc) gogc = *g.gogc;
    if (options.json) {
      nlohmann::json j{{"pid", pid},
                       {"comm", id->comm},
                       {"exe", id->exe_path},
                       {"exe_deleted", id->exe_deleted},
                       {"go_version", b.go_version()},
                       {"module", b.module_path()},
                       {"package", b.main_package_path()},
                       {"stripped", b.stripped()},
                       {"dwarf", b.has_dwarf()},
                       {"pie", b.pie()},
                       {"build_id", b.build_id()},
                       {"container", id->container}};
      j["gomaxprocs"] = procs ? nlohmann::json(*procs) : nlohmann::json();
      j["gogc"] = gogc ? nlohmann::json(*gogc) : nlohmann::json();
      j["memory_limit_bytes"] = g.memory_limit ? nlohmann::json(*g.memory_limit) : nlohmann::json();
      j["goroutines"] = g.goroutines ? nlohmann::json(*g.goroutines) : nlohmann::json();
      if (!g.unavailable_reason.empty()) j["gauges_unavailable"] = g.unavailable_reason;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::string what = b.main_package_path().empty() ? id->exe_path : b.main_package_path();
      std::printf("%-7d %-16s %-9s %-8s %-6s %-4s %-8s %-6s %-12s %s%s\n", pid, id->comm.c_str(),
                  b.go_version().c_str(), b.stripped() ? "yes" : "no", Opt(procs).c_str(),
                  Opt(gogc).c_str(), Limit(g.memory_limit).c_str(), Opt(g.goroutines).c_str(),
                  id->container.empty() ? "-" : id->container.substr(0, 12).c_str(), what.c_str(),
                  g.unavailable_reason.empty() ? "" : ("  (" + g.unavailable_reason + ")").c_str());
    }
  }
  if (!options.json) {
    std::fprintf(stderr, "%zu Go process(es)", go_count);
    if (denied > 0) {
      std::fprintf(stderr, "; %zu process(es) not readable (run as root or with CAP_SYS_PTRACE)",
                   denied);
    }
    std::fprintf(stderr, "\n");
  }
  return 0;
}

}  // namespace gcpilot::cli
