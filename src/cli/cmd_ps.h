// `gcpilot ps`: lists every Go process on the host: pid, command, binary,
// Go version and main package (from .go.buildinfo; without it, the version
// from runtime.buildVersion), stripped or not, flags (PIE, cgo, no build
// info), container id, and GOMAXPROCS / GOGC / GOMEMLIMIT read from the
// process's memory (or why they could not be read). `--json` prints JSON
// lines. Processes whose /proc/PID/exe the kernel refuses are not known to
// be Go: counted on stderr with the first one's reason, listed with --all.
#pragma once

namespace gcpilot::cli {

struct PsOptions {
  bool json = false;
  bool all = false;  // Also list non-Go and unreadable processes with the reason.
};

int PsCommand(const PsOptions& options);

}  // namespace gcpilot::cli
