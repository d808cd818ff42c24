// `gcpilot ps`: lists every Go process on the host: pid, command, binary,
// Go version and main package (from .go.buildinfo), stripped or not,
// container id, and GOMAXPROCS / GOGC / GOMEMLIMIT read from the process's
// memory (or why they could not be read). `--json` prints JSON lines.
#pragma once

namespace gcpilot::cli {

struct PsOptions {
  bool json = false;
  bool all = false;  // Also list non-Go processes with the reason.
};

int PsCommand(const PsOptions& options);

}  // namespace gcpilot::cli
