// attach_cost: what attaching to one Go binary costs gcpilot before any
// probe fires: parsing the ELF (GoBinary::Open: build info, pclntab or
// symbols), deriving the runtime layout (DWARF, else the table and the
// runtime's code) and planning the probes (RET and CALL sites). Each binary
// is measured in a child process of its own, so its peak RSS is its own:
//   cold   - the first Open + ResolveRuntimeLayout + MakeProbePlan;
//   cached - the same again through GoBinaryCache (what every further
//            process of that binary costs).
// Prints one tab-separated line per binary:
//   path  size_bytes  go_version  how  cold_ms  cached_ms  peak_rss_kib  result
// Usage: attach_cost BINARY...
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "golang/go_binary_cache.h"
#include "golang/runtime_layout.h"
#include "sources/ebpf/probe_plan.h"

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// One attach's worth of work; "ok" or the reason it was refused.
std::string Attach(gcpilot::golang::GoBinaryCache& cache, const std::string& path,
                   std::string* version, std::string* how) {
  auto binary = cache.Get(path);
  if (!binary.ok()) return "refused: " + binary.status().message();
  *version = (*binary)->go_version();
  auto plan = gcpilot::ebpf::MakeProbePlan(**binary);
  if (!plan.ok()) return "refused: " + plan.status().message();
  *how = plan->layout.how();
  return "ok";
}

int Measure(const std::string& path) {
  struct stat st {};
  const long long size = ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
  gcpilot::golang::GoBinaryCache cache;
  std::string version = "-", how = "-";
  const auto t0 = Clock::now();
  const std::string result = Attach(cache, path, &version, &how);
  const double cold = MsSince(t0);
  const auto t1 = Clock::now();
  Attach(cache, path, &version, &how);
  const double cached = MsSince(t1);
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("%s\t%lld\t%s\t%s\t%.1f\t%.3f\t%ld\t%s\n", path.c_str(), size, version.c_str(),
              how.c_str(), cold, cached, ru.ru_maxrss, result.c_str());
  std::fflush(stdout);  // The child leaves by _exit.
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BINARY...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) _exit(Measure(argv[i]));
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
      std::printf("%s\t-\t-\t-\t-\t-\t-\tmeasurement crashed\n", argv[i]);
    }
  }
  return 0;
}
