// `gcpilot run` with the eBPF source: the program runs unchanged (no
// GODEBUG, its stderr untouched); the probes go on its binary before it
// execs, so its very first GC cycle is seen.
// Thread-safety: single-threaded CLI code.
#pragma once

#include <memory>
#include <string>

#include "cli/cmd_run.h"
#include "core/status.h"
#include "sources/ebpf/ebpf_source.h"

namespace gcpilot::cli {

// The eBPF source, set up for one program before it starts.
struct EbpfRun {
  std::string program;         // Resolved path of argv[0].
  Session* session = nullptr;  // Where events go, once the run has one.
  std::unique_ptr<ebpf::EbpfSource> source;
};

// Sets up the eBPF source for the program: the error says why it cannot be
// used (not found, not a Go binary gcpilot can read, no permission).
StatusOr<std::unique_ptr<EbpfRun>> PrepareEbpfRun(const RunOptions& options);
int RunWithEbpf(const RunOptions& options, std::unique_ptr<EbpfRun> run);

}  // namespace gcpilot::cli
