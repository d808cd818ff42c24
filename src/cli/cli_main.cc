// Command-line parsing (CLI11) and dispatch to the subcommands.
#include "cli/cli_main.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "cli/cmd_history.h"
#include "cli/cmd_ingest.h"
#include "cli/cmd_ps.h"
#include "cli/cmd_run.h"
#include "cli/cmd_serve.h"
#include "cli/cmd_tune.h"
#include "cli/cmd_watch.h"

namespace gcpilot::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

// Opens `path` for writing, or prints why not and returns nullptr.
std::FILE* OpenOut(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (!f) std::fprintf(stderr, "gcpilot: cannot write '%s': %s\n", path.c_str(), strerror(errno));
  return f;
}

// Index in `args` ("run", options..., program...) where the program starts.
size_t SplitRunArgs(const std::vector<std::string>& args) {
  static const std::set<std::string> kTakesValue = {"--interval", "--report-out", "--json-out",
                                                    "--record", "--alloc-risk-mbps"};
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return i + 1;
    if (a.empty() || a[0] != '-') return i;
    if (kTakesValue.count(a)) ++i;  // Skip the option's value.
  }
  return args.size();
}

// The seed's alloc-rate risk threshold, shared by run, ingest and report.
void AddAllocRiskOption(CLI::App* cmd, double& mbps) {
  cmd->add_option("--alloc-risk-mbps", mbps,
                  "Alloc rate (MB/s) above which a 1 s window is a risk window")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "gcpilot: see, explain and tame Go garbage-collector jitter.\n"
      "Analyses the GC of Go programs from their GODEBUG=gctrace=1 output."};
  app.name("gcpilot");
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  // gcpilot run
  RunOptions run;
  std::string json_out, record_out;
  double risk_mbps = 50;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "Run a Go program and watch its GC: eBPF probes when possible (the program runs "
      "unchanged), else its GC trace (GODEBUG=gctrace=1); print a live summary every second "
      "and a report at exit. Exits with the program's exit code.");
  run_cmd->footer(
      "Usage: gcpilot run [OPTIONS] [--] PROGRAM [ARGS...]\n"
      "Everything from PROGRAM on is the program's own command line.");
  std::string run_source = "auto";
  run_cmd
      ->add_option("--source", run_source,
                   "auto: eBPF if usable (root or CAP_BPF+CAP_PERFMON+CAP_SYS_PTRACE, a Go "
                   "binary gcpilot can read), else gctrace; ebpf or gctrace: only that one")
      ->check(CLI::IsMember({"auto", "ebpf", "gctrace"}))
      ->capture_default_str();
  run_cmd->add_flag("--keep-trace", run.keep_trace,
                    "Also pass the gctrace/pacer lines through to stderr");
  run_cmd->add_option("--interval", run.interval_s, "Seconds between live summaries (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run_cmd->add_option("--report-out", run.report_path,
                      "Write the final report to this file instead of stderr");
  run_cmd->add_option("--json-out", json_out,
                      "Write JSON lines (one per GC cycle, then a summary) to this file");
  run_cmd->add_option("--record", record_out,
                      "Record every event as JSON lines (replay with `gcpilot report FILE`)");
  AddAllocRiskOption(run_cmd, risk_mbps);

  // gcpilot ingest / report
  IngestOptions ingest;
  CLI::App* ingest_cmd = app.add_subcommand(
      "ingest",
      "Analyse a gctrace log (e.g. `kubectl logs pod | gcpilot ingest -`) or a recorded event "
      "file, and print the report.");
  ingest_cmd->add_option("input", ingest.path, "Log file, or - for standard input")->required();
  ingest_cmd->add_flag("--json", ingest.json,
                       "JSON lines on stdout: one object per GC cycle, then a summary object");
  ingest_cmd->add_option("--record", ingest.record_path, "Also record the events as JSON lines");
  ingest_cmd->add_option("--pid", ingest.pid, "Label the process with this pid");
  ingest_cmd->add_option("--store", ingest.store_path,
                         "Also record the cycles into this history store (SQLite; created if "
                         "missing) for `gcpilot history`");
  ingest_cmd->add_option("--start", ingest.start,
                         "With --store: wall time of the log's time 0 (the process start; e.g. "
                         "2026-11-27T03:00, ...Z for UTC, or 2h for 2 hours ago). Default: the "
                         "log ends at the file's modification time (now for stdin)");
  AddAllocRiskOption(ingest_cmd, ingest.alloc_risk_mbps);

  IngestOptions report;
  report.command = "report";
  CLI::App* report_cmd = app.add_subcommand(
      "report", "Print the report of a recorded event file (`--record`) or of a gctrace log.");
  report_cmd->add_option("input", report.path, "Recorded events or gctrace log (- for stdin)")
      ->required();
  report_cmd->add_flag("--json", report.json, "JSON lines instead of text");
  AddAllocRiskOption(report_cmd, report.alloc_risk_mbps);

  // `run`: everything from the first non-option argument (or after "--") is
  // the program's own command line, so it is split off before parsing.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> program;
  if (!args.empty() && args[0] == "run") {
    size_t program_at = SplitRunArgs(args);
    program.assign(args.begin() + static_cast<long>(program_at), args.end());
    args.resize(program_at);
    if (!args.empty() && args.back() == "--") args.pop_back();
  }
  std::reverse(args.begin(), args.end());  // CLI11 wants them reversed.

  PsOptions ps;
  CLI::App* ps_cmd = app.add_subcommand(
      "ps",
      "List the Go processes on this host: Go version, package, stripped, container, and "
      "GOMAXPROCS/GOGC/GOMEMLIMIT read from their memory.");
  ps_cmd->add_flag("--json", ps.json, "JSON lines, one per process");
  ps_cmd->add_flag("--all", ps.all,
                   "Also list the other processes, with why they are not Go or not readable");

  WatchOptions watch;
  CLI::App* watch_cmd = app.add_subcommand(
      "watch",
      "Watch Go processes live with eBPF (no change to them): per process GCs/s, STW pause "
      "p50/p99/max, non-GC stops with their reason, alloc rate, heap live->goal and GC CPU over "
      "the last 10 s, refreshed every second. Default: every Go process on the host, including "
      "ones that start later. Needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE.");
  watch_cmd->add_option("--pid", watch.pids, "Only this process (repeatable)")
      ->check(CLI::PositiveNumber);
  watch_cmd->add_option("--exe", watch.exes,
                        "Every process running this executable, now and later (repeatable)");
  watch_cmd->add_flag("--json", watch.json,
                      "JSON lines instead of the table: every event (process_seen, gc_cycle, "
                      "stw_pause, process_exited; the format `gcpilot report` reads) and one "
                      "\"watch\" row per process per interval");
  watch_cmd->add_option("--duration", watch.duration_s, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  watch_cmd->add_option("--interval", watch.interval_s, "Seconds between refreshes (default 1)")
      ->check(CLI::Range(0.1, 3600.0));

  ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve",
      "Run the node agent: watch every Go process on this host with eBPF and serve a live web "
      "dashboard, Prometheus /metrics, a JSON API and an event stream (docs/serve.md). "
      "Listens on 127.0.0.1:9464 unless told otherwise. Needs root, or CAP_BPF, CAP_PERFMON "
      "and CAP_SYS_PTRACE.");
  serve_cmd->add_option("--config", serve.config,
                        "TOML config file (every option and its default: docs/serve.md)");
  serve_cmd->add_option("--listen", serve.listen, "host:port to serve on (default 127.0.0.1:9464)");
  serve_cmd->add_option("--unix-socket", serve.unix_socket,
                        "Also serve on this unix socket (mode: unix_socket_mode, default 0660)");
  serve_cmd->add_option("--store", serve.store,
                        "Also keep history in this SQLite file (read it with `gcpilot history`)");
  serve_cmd->add_option("--slo-pause", serve.slo_pause,
                        "STW P99 at or above this breaks the SLO (default 5ms)");
  serve_cmd->add_option("--retention", serve.retention,
                        "In-memory history per process (default 1h)");
  serve_cmd->add_option("--token-file", serve.token_file,
                        "File with the token state-changing endpoints require");
  serve_cmd
      ->add_option("--max-processes", serve.max_processes,
                   "Processes tracked at most (default 512)")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--pid", serve.pids, "Only this process (repeatable)")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--exe", serve.exes, "Every process running this executable (repeatable)");
  serve_cmd->add_option("--duration", serve.duration_s, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_flag("--apply", serve.apply,
                      "Hand the tuner's GOGC/GOMEMLIMIT recommendations to the processes' "
                      "actuators (agent/go); default: recommendations are only shown");

  TuneOptions tune;
  CLI::App* tune_cmd = app.add_subcommand(
      "tune",
      "Recommend GOGC and GOMEMLIMIT for a Go process (dry run: nothing is changed): watch it "
      "with eBPF, read its cgroup memory limit and the memory pressure, and print what the "
      "policy recommends, why, and the expected effect on GC CPU, GC rate and heap peak. Needs "
      "root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE.");
  tune_cmd->add_option("--pid", tune.pid, "The process")->required()->check(CLI::PositiveNumber);
  tune_cmd
      ->add_option("--policy", tune.policy,
                   "pause-deviation (the seed's), memory-headroom (share of the cgroup limit), "
                   "node-pressure (PSI / node memory use), or all")
      ->capture_default_str();
  tune_cmd->add_flag("--json", tune.json, "One JSON object: inputs and recommendations");
  tune_cmd->add_option("--watch-seconds", tune.watch_seconds, "How long to watch the process")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();

  HistoryOptions history;
  CLI::App* history_cmd = app.add_subcommand(
      "history",
      "Show what the GC did in a past time range, from a history store (`gcpilot serve --store "
      "PATH`, `gcpilot ingest --store PATH FILE`): per process and minute GC cycles, forced "
      "cycles, STW pause p50/p99/max, non-GC stops (top reason), alloc rate, heap live/goal.");
  history_cmd->add_option("--store", history.store_path, "The history store (SQLite file)")
      ->envname("GCPILOT_STORE");
  history_cmd
      ->add_option("--since", history.since,
                   "Start: a duration before now (30s, 30m, 2h, 7d) or a time "
                   "(2026-11-27T03:00[:SS] local, ...Z UTC, ...+01:00)")
      ->capture_default_str();
  history_cmd->add_option("--until", history.until, "End (exclusive), same forms")
      ->capture_default_str();
  history_cmd->add_option("--pid", history.pid, "Only this pid")->check(CLI::PositiveNumber);
  history_cmd->add_option("--binary", history.binary,
                          "Only processes with this command name, executable path or file name");
  history_cmd->add_flag("--cycles", history.cycles, "One row per GC cycle instead of per minute");
  history_cmd->add_flag("--json", history.json, "JSON lines, one object per row");

  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*run_cmd) {
    run.argv = program;
    run.source = run_source == "ebpf"      ? RunSource::kEbpf
                 : run_source == "gctrace" ? RunSource::kGctrace
                                           : RunSource::kAuto;
    if (run.argv.empty()) {
      std::fprintf(stderr, "gcpilot run: no program given\nusage: %s\n",
                   "gcpilot run [OPTIONS] [--] PROGRAM [ARGS...]");
      return 2;
    }
    std::FILE* json = nullptr;
    std::FILE* rec = nullptr;
    if (!json_out.empty() && !(json = OpenOut(json_out))) return 2;
    if (!record_out.empty() && !(rec = OpenOut(record_out))) return 2;
    run.session.json_out = json;
    run.session.record_out = rec;
    run.session.live_out = stderr;
    run.session.alloc_risk_bytes_per_sec = risk_mbps * 1024 * 1024;
    int code = RunCommand(run);
    if (json) std::fclose(json);
    if (rec) std::fclose(rec);
    return code;
  }
  if (*ingest_cmd) return IngestCommand(ingest);
  if (*report_cmd) return IngestCommand(report);
  if (*ps_cmd) return PsCommand(ps);
  if (*history_cmd) return HistoryCommand(history);
  if (*watch_cmd) return WatchCommand(watch);
  if (*serve_cmd) return ServeCommand(serve);
  if (*tune_cmd) return TuneCommand(tune);
  return 1;
}

}  // namespace gcpilot::cli
