// `gcpilot ps` (see cmd_ps.h).
#include "cli/cmd_ps.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "golang/go_binary_cache.h"
#include "sources/proc/procfs.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::cli {
namespace {

constexpr const char* kRowFormat = "%-7s %-16s %-9s %-8s %-12s %-6s %-4s %-8s %-6s %-12s %s%s\n";

std::string Opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string Limit(const std::optional<int64_t>& v) {
  if (!v) return "-";
  if (*v == INT64_MAX) return "off";
  return fmt::format("{}MiB", *v >> 20);
}

template <typename T>
nlohmann::json OptJson(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// The FLAGS column: "pie", "cgo", "nobi" (no .go.buildinfo: version from
// runtime.buildVersion), comma-separated; "-" for none.
std::string Flags(const golang::GoBinary& b) {
  std::string out;
  auto add = [&](const char* flag) { out += (out.empty() ? "" : ",") + std::string(flag); };
  if (b.pie()) add("pie");
  if (b.uses_cgo()) add("cgo");
  if (!b.has_build_info()) add("nobi");
  return out.empty() ? "-" : out;
}

void PrintJson(const proc::ProcessIdentity& id, const golang::GoBinary& b,
               const proc::RuntimeGauges& g) {
  nlohmann::json j{{"pid", id.pid},
                   {"comm", id.comm},
                   {"exe", id.exe_path},
                   {"exe_deleted", id.exe_deleted},
                   {"go_version", b.go_version()},
                   {"version_source", golang::VersionSourceName(b.version_source())},
                   {"build_info", b.has_build_info()},
                   {"module", b.module_path()},
                   {"package", b.main_package_path()},
                   {"stripped", b.stripped()},
                   {"dwarf", b.has_dwarf()},
                   {"pie", b.pie()},
                   {"cgo", b.uses_cgo()},
                   {"build_id", b.build_id()},
                   {"container", id.container}};
  j["gomaxprocs"] = OptJson(g.gomaxprocs);
  j["gogc"] = OptJson(g.gogc);
  j["memory_limit_bytes"] = OptJson(g.memory_limit);
  j["goroutines"] = OptJson(g.goroutines);
  if (!g.unavailable_reason.empty()) j["gauges_unavailable"] = g.unavailable_reason;
  std::printf("%s\n", j.dump().c_str());
}

void PrintRow(const proc::ProcessIdentity& id, const golang::GoBinary& b,
              const proc::RuntimeGauges& g) {
  std::optional<int64_t> procs, gogc;
  if (g.gomaxprocs) procs = *g.gomaxprocs;
  if (g.gogc) gogc = *g.gogc;
  const std::string what = b.main_package_path().empty() ? id.exe_path : b.main_package_path();
  const std::string note = g.unavailable_reason.empty() ? "" : "  (" + g.unavailable_reason + ")";
  std::printf(kRowFormat, std::to_string(id.pid).c_str(), id.comm.c_str(), b.go_version().c_str(),
              b.stripped() ? "yes" : "no", Flags(b).c_str(), Opt(procs).c_str(), Opt(gogc).c_str(),
              Limit(g.memory_limit).c_str(), Opt(g.goroutines).c_str(),
              id.container.empty() ? "-" : id.container.substr(0, 12).c_str(), what.c_str(),
              note.c_str());
}

// A process left out, with why: "cannot read /proc/1/exe (init): ...".
struct Skipped {
  pid_t pid = 0;
  std::string reason;
};

// The stderr summary: how many Go processes, and (in one line each) why
// unreadable processes are missing, with the first one's reason.
void PrintSummary(size_t go_count, const std::vector<Skipped>& unreadable, bool listed) {
  std::fprintf(stderr, "%zu Go process(es)", go_count);
  if (!unreadable.empty()) {
    std::fprintf(stderr, "; %zu process(es) not readable", unreadable.size());
    if (listed) {
      std::fprintf(stderr, " (listed above)");
    } else {
      std::fprintf(stderr, " (--all lists them), e.g. pid %d: %s", unreadable.front().pid,
                   unreadable.front().reason.c_str());
    }
  }
  std::fprintf(stderr, "\n");
}

}  // namespace

int PsCommand(const PsOptions& options) {
  golang::GoBinaryCache cache;
  size_t go_count = 0;
  std::vector<Skipped> unreadable;
  const bool list_others = options.all && !options.json;
  if (!options.json) {
    std::printf(kRowFormat, "PID", "COMM", "GO", "STRIPPED", "FLAGS", "PROCS", "GOGC", "MEMLIMIT",
                "GOR", "CONTAINER", "PACKAGE / BINARY", "");
  }
  for (pid_t pid : proc::ListPids()) {
    if (pid == getpid()) continue;
    StatusOr<proc::ProcessIdentity> id = proc::ReadIdentity(pid);
    if (!id.ok()) {
      if (id.status().code() != StatusCode::kPermissionDenied) continue;  // Gone, kernel thread.
      // Not known to be Go: counted, listed only with --all.
      unreadable.push_back(Skipped{pid, id.status().message()});
      if (list_others) std::printf("%-7d not readable: %s\n", pid, id.status().message().c_str());
      continue;
    }
    StatusOr<std::shared_ptr<const golang::GoBinary>> bin = cache.Get(id->exe_open);
    if (!bin.ok()) {
      if (list_others) {
        const StatusCode code = bin.status().code();
        const bool not_go = code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument;
        std::printf("%-7d %-16s %s: %s\n", pid, id->comm.c_str(),
                    not_go ? "not Go" : "unusable binary", bin.status().message().c_str());
      }
      continue;
    }
    ++go_count;
    const proc::RuntimeGauges g = proc::ReadRuntimeGauges(pid, **bin);
    if (options.json) {
      PrintJson(*id, **bin, g);
    } else {
      PrintRow(*id, **bin, g);
    }
  }
  if (!options.json) PrintSummary(go_count, unreadable, list_others);
  return 0;
}

}  // namespace gcpilot::cli
