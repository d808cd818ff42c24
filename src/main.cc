// gcpilot's entry point: everything lives in the libraries (src/cli).
#include "cli/cli_main.h"

int main(int argc, char** argv) { return gcpilot::cli::Main(argc, argv); }
