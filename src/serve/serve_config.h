// ServeConfig: every option of `gcpilot serve`, its default, and how it is
// read from the TOML config file (see docs/serve.md "Configuration"). Command
// line flags override the file. Durations are strings such as "5ms", "90s",
// "1h", "7d".
// Thread-safety: plain value type and pure functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gcpilot::serve {

// [breaker]: the GC-jitter circuit breaker (src/control/breaker.h).
struct BreakerConfig {
  int64_t threshold_ns = 0;               // STW P99 above this opens it; 0 = slo_pause.
  std::string window = "1s";              // The window view judged: 1s, 10s or 1m.
  int64_t cool_down_ns = 10'000'000'000;  // OPEN -> HALF_OPEN after this.
  int64_t recovery_windows = 3;           // HALF_OPEN -> CLOSED after this many.
  std::string webhook;                    // "" = none; "http://host:port/path".
};

// Detector findings ([findings] table; docs/serve.md "Detectors").
struct FindingsConfig {
  std::string webhook;  // "" = none; "http://host:port/path": raises and clears POSTed.
};

// The tuner ([tuner] table; docs/serve.md "Tuner").
struct TunerConfig {
  // pause-deviation, memory-headroom, node-pressure, or off.
  std::string policy = "pause-deviation";
  // Hand recommendations to the actuators (else they are only shown).
  bool apply = false;
};

// [detectors]: thresholds of the detectors that read process memory and of
// the goroutine creation-site tracking (docs/serve.md "Detectors"); unset
// keys keep detect::DetectorConfig's defaults. cmd_serve copies them into
// a DetectorConfig and validates them there.
struct DetectorsConfig {
  std::optional<int64_t> trend_window_ns;
  std::optional<int64_t> trend_min_span_ns;
  std::optional<int64_t> creation_sites_duration_ns;
  std::optional<int64_t> creation_sites_interval_ns;
  std::optional<int64_t> creation_sites_cooldown_ns;
  std::optional<int64_t> creation_sites_max_goroutines;
  std::optional<double> fragmentation_ratio;
  std::optional<int64_t> fragmentation_min_excess_mib;
  std::optional<int64_t> fragmentation_window_ns;
  std::optional<int64_t> finalizer_min_backlog;
  std::optional<int64_t> finalizer_min_added;
  std::optional<int64_t> finalizer_window_ns;
  std::optional<int64_t> finalizer_min_span_ns;
};

// A log file receiving a Go program's gctrace output ([[gctrace]] tables).
struct GctraceLogConfig {
  std::string path;
  std::string name;  // "" = the file name.
  int32_t pid = 0;   // 0 = assigned (kFirstLogPid + index).
};
inline constexpr int32_t kFirstLogPid = 1 << 30;  // Above any kernel pid.

struct ServeConfig {
  // host:port to listen on. Only loopback unless configured otherwise.
  std::string listen = "127.0.0.1:9464";
  // Also serve every route on this unix socket ("" = none), with this mode.
  std::string unix_socket;
  int64_t unix_socket_mode = 0660;
  // A window whose STW P99 is at or above this breaks the SLO (dashboard line,
  // process health).
  int64_t slo_pause_ns = 5'000'000;
  // In-memory history per process: cycles and stops younger than this ...
  int64_t retention_ns = 3600LL * 1'000'000'000;
  // ... and at most this many cycles (and as many non-GC stops).
  int64_t max_cycles_per_process = 10000;
  // Processes with series and history; more live processes are not tracked
  // (counted in gcpilot_agent_processes_over_limit_total).
  int64_t max_processes = 512;
  // An exited process stays (API, metrics) this long, then is removed.
  int64_t exited_retention_ns = 300LL * 1'000'000'000;
  // SQLite history file ("" = none) and how long rows are kept there.
  std::string store;
  int64_t store_retention_ns = 7LL * 86400 * 1'000'000'000;
  // File holding the token that state-changing endpoints require.
  std::string token_file;
  // Stream clients at most; more get 503.
  int64_t max_stream_clients = 128;
  // HTTP worker threads (each open connection holds one while it is served).
  int64_t http_threads = 192;
  // What to watch: these pids / binaries; both empty = every Go process.
  std::vector<pid_t> pids;
  std::vector<std::string> exes;
  TunerConfig tuner;
  BreakerConfig breaker;
  FindingsConfig findings;
  DetectorsConfig detectors;
  // Services the agent follows through their gctrace log instead of probes.
  std::vector<GctraceLogConfig> gctrace;
};

// Parses "250us", "5ms", "1.5s", "90s", "30m", "1h", "7d" into nanoseconds.
StatusOr<int64_t> ParseDuration(std::string_view text);
// "5ms", "1h", "7d": the shortest exact form of a duration.
std::string FormatDuration(int64_t ns);

// Reads a TOML config file over `base` (keys absent from the file keep
// base's values). Unknown keys and wrong types are errors naming the key.
StatusOr<ServeConfig> LoadServeConfig(const std::string& path, ServeConfig base = {});
// Same, from the file's text (for tests); `origin` names it in errors.
StatusOr<ServeConfig> ParseServeConfig(std::string_view toml_text, std::string_view origin,
                                       ServeConfig base = {});

// Checks ranges (positive durations, limits >= 1, a parsable listen
// address). InvalidArgument naming the option otherwise.
Status ValidateServeConfig(const ServeConfig& config);

// Splits "host:port" ("[::1]:9464" for IPv6). InvalidArgument if malformed.
Status SplitListenAddress(const std::string& listen, std::string* host, int* port);

}  // namespace gcpilot::serve
