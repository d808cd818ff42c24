// The gcpilot command line: parses arguments and runs a subcommand.
#pragma once

namespace gcpilot::cli {

// Returns the process exit code.
int Main(int argc, char** argv);

}  // namespace gcpilot::cli
