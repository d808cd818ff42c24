// `gcpilot serve`: the node agent. Watches every Go process on the node with
// the eBPF source (or the given pids / binaries) and serves the dashboard,
// Prometheus /metrics, the JSON API and the event stream (docs/serve.md)
// until SIGINT/SIGTERM (or --duration).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gcpilot::cli {

struct ServeOptions {
  std::string config;  // TOML file; "" = defaults.
  // Overrides of the config file; empty / 0 = keep.
  std::string listen;
  std::string unix_socket;
  std::string store;
  std::string slo_pause;
  std::string retention;
  std::string token_file;
  int64_t max_processes = 0;
  std::vector<pid_t> pids;
  std::vector<std::string> exes;
  double duration_s = 0;  // 0: until a signal.
  // Hand the tuner's recommendations to the actuators ([tuner] apply).
  bool apply = false;
};

int ServeCommand(const ServeOptions& options);

}  // namespace gcpilot::cli
