// `gcpilot ingest` / `gcpilot report` (see cmd_ingest.h).
#include "cli/cmd_ingest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "core/unique_fd.h"
#include "detect/detecting_sink.h"
#include "detect/finding_text.h"
#include "detect/serve_findings.h"
#include "model/cycle_assembler.h"
#include "sources/gctrace/gctrace_source.h"
#include "sources/line_splitter.h"
#include "sources/replay/replay_source.h"
#include "store/history_store.h"
#include "store/store_sink.h"
#include "store/time_spec.h"

namespace gcpilot::cli {
namespace {

// Places the held records on the wall clock (see cmd_ingest.h) and writes
// them. False (after saying why) when the store cannot be written.
bool WriteStore(const IngestOptions& options, bool replay, int fd,
                std::optional<int64_t> start_wall_ns, HistoryStore& store, StoreSink& sink) {
  if (!sink.first_ts_ns()) {
    std::fprintf(stderr, "gcpilot: nothing to record into '%s'\n", store.path().c_str());
    return true;
  }
  int64_t offset;
  if (start_wall_ns) {
    offset = *start_wall_ns - (replay ? *sink.first_ts_ns() : 0);
  } else {
    int64_t end_wall = WallClockNowNs();
    struct stat st {};
    if (options.path != "-" && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      end_wall = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    offset = end_wall - *sink.last_ts_ns();
  }
  sink.SetWallOffset(offset);
  Status s = store.Flush();
  if (!s.ok()) {
    std::fprintf(stderr, "gcpilot: %s\n", s.message().c_str());
    return false;
  }
  std::fprintf(stderr, "gcpilot: recorded %llu rows into %s (run %lld), %s to %s (local time %s)\n",
               static_cast<unsigned long long>(store.written_rows()), store.path().c_str(),
               static_cast<long long>(store.run_id()),
               FormatLocalTime(*sink.first_ts_ns() + offset, "%Y-%m-%d %H:%M:%S").c_str(),
               FormatLocalTime(*sink.last_ts_ns() + offset, "%Y-%m-%d %H:%M:%S").c_str(),
               LocalZoneName(*sink.last_ts_ns() + offset).c_str());
  return true;
}

// Prints what the detectors found over the whole input: text after the
// report, or {"type":"finding"} / {"type":"detectors"} JSON lines.
void PrintFindings(const detect::DetectorEngine& engine, bool json, std::FILE* out) {
  std::vector<detect::Finding> all = engine.All();
  if (json) {
    for (const detect::Finding& f : all) {
      nlohmann::json j = detect::FindingToJson(f, 0);
      j["type"] = "finding";
      std::fprintf(out, "%s\n",
                   j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    nlohmann::json d{{"type", "detectors"}, {"detectors", detect::DetectorsJson(engine)}};
    std::fprintf(out, "%s\n", d.dump().c_str());
    return;
  }
  std::fprintf(out,
               "\nFindings (detectors over the whole input; times are offsets from the "
               "process start):\n");
  if (all.empty()) std::fprintf(out, "  none\n");
  for (const std::string& l : detect::FindingLines(all, true)) std::fprintf(out, "%s\n", l.c_str());
  std::string skipped;
  for (const detect::Detector* d : engine.skipped()) {
    skipped += (skipped.empty() ? "" : ", ") + std::string(d->name()) + " (needs " +
               std::string(detect::DataNeedName(d->needs())) + ")";
  }
  if (!skipped.empty()) {
    std::fprintf(out,
                 "  not run on this input: %s; `gcpilot serve` / `watch` run them live (gauges: "
                 "read from the running process's memory).\n",
                 skipped.c_str());
  }
}

}  // namespace

int IngestCommand(const IngestOptions& options) {
  const bool from_stdin = options.path == "-";
  const std::string name = from_stdin ? "standard input" : "'" + options.path + "'";
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (!from_stdin) {
    owned.Reset(open(options.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) {
      std::fprintf(stderr, "gcpilot: cannot open %s: %s\n", name.c_str(), std::strerror(errno));
      return 2;
    }
    fd = owned.get();
  }
  std::FILE* record = nullptr;
  if (!options.record_path.empty()) {
    record = std::fopen(options.record_path.c_str(), "we");
    if (!record) {
      std::fprintf(stderr, "gcpilot: cannot write '%s': %s\n", options.record_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }

  // --store: a second assembler feeds the store (the session keeps its own).
  std::unique_ptr<HistoryStore> store;
  std::unique_ptr<StoreSink> store_sink;
  std::unique_ptr<CycleAssembler> store_assembler;
  std::optional<int64_t> start_wall_ns;
  if (!options.start.empty()) {
    if (options.store_path.empty()) {
      std::fprintf(stderr, "gcpilot: --start only applies with --store\n");
      return 2;
    }
    StatusOr<int64_t> t = ParseTimeSpec(options.start, WallClockNowNs());
    if (!t.ok()) {
      std::fprintf(stderr, "gcpilot: --start: %s\n", t.status().message().c_str());
      return 2;
    }
    start_wall_ns = *t;
  }
  if (!options.store_path.empty()) {
    HistoryStoreOptions ho;
    ho.writer = "gcpilot " + options.command;
    StatusOr<std::unique_ptr<HistoryStore>> opened = HistoryStore::Open(options.store_path, ho);
    if (!opened.ok()) {
      std::fprintf(stderr, "gcpilot: %s\n", opened.status().message().c_str());
      return 2;
    }
    store = std::move(opened).value();
    store_sink = std::make_unique<StoreSink>(store.get(), std::nullopt);
    store_assembler = std::make_unique<CycleAssembler>(store_sink.get());
  }
  SessionOptions so;
  so.alloc_risk_bytes_per_sec = options.alloc_risk_mbps * 1024 * 1024;
  so.json_out = options.json ? stdout : nullptr;
  so.text_report = !options.json;
  so.record_out = record;
  Session session(so);
  // Detectors over the log: those the source's data supports (gctrace:
  // cycles only; recorded streams may also hold non-GC stops).
  std::unique_ptr<detect::DetectorEngine> detectors;
  std::unique_ptr<detect::DetectingSink> detecting;
  std::unique_ptr<CycleAssembler> detect_assembler;
  bool replay_mode = false;
  auto on_event = [&](const Event& e) {
    session.OnEvent(e);
    if (store_assembler) store_assembler->Consume(e);
    if (!detectors) {
      std::set<detect::DataNeed> needs{detect::DataNeed::kAnySource};
      if (replay_mode) needs.insert(detect::DataNeed::kEbpf);
      detectors = std::make_unique<detect::DetectorEngine>(
          detect::MakeDetectors(detect::DetectorConfig()), needs);
      detecting = std::make_unique<detect::DetectingSink>(detectors.get(), /*replay=*/true);
      detect_assembler = std::make_unique<CycleAssembler>(detecting.get());
    }
    detect_assembler->Consume(e);
  };

  gctrace::GctraceSource::Options go;
  go.pid = options.pid;
  if (!from_stdin) go.info.exe = options.path;
  gctrace::GctraceSource trace(go, on_event);
  ReplaySource replay(on_event);
  enum class Mode { kUndecided, kTrace, kReplay } mode = Mode::kUndecided;
  uint64_t long_bytes = 0;

  LineSplitter splitter([&](std::string_view piece, LineSplitter::Piece kind, bool newline) {
    if (kind == LineSplitter::Piece::kLongStart || kind == LineSplitter::Piece::kLongMiddle) {
      long_bytes += piece.size();
      return;
    }
    if (kind == LineSplitter::Piece::kLongEnd) {
      long_bytes += piece.size();
      if (mode == Mode::kReplay) {
        replay.OnOverlongLine(long_bytes);
      } else {
        trace.OnOverlongLine(long_bytes);
      }
      long_bytes = 0;
      return;
    }
    if (mode == Mode::kUndecided && piece.find_first_not_of(" \t\r") != std::string_view::npos) {
      mode = LooksLikeEventStream(piece) ? Mode::kReplay : Mode::kTrace;
      replay_mode = mode == Mode::kReplay;
    }
    if (mode == Mode::kReplay) {
      replay.OnLine(piece);
    } else {
      trace.OnLine(piece, !newline);
    }
  });

  std::vector<char> buf(1 << 16);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "gcpilot: error reading %s: %s\n", name.c_str(), std::strerror(errno));
      return 2;
    }
    if (n == 0) break;
    splitter.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  splitter.Finish();

  InputStats stats = ToInputStats(trace.stats());
  if (mode == Mode::kReplay) {
    stats = InputStats{};
    stats.source = "replay";
    stats.lines = replay.stats().lines;
    stats.trace_lines = replay.stats().events;
    stats.malformed = replay.stats().bad;
  }
  std::string header = "gcpilot " + options.command + ": " + name +
                       (mode == Mode::kReplay ? " (recorded events)" : " (gctrace log)");
  uint64_t cycles = session.Finish(0, stdout, header, stats);
  if (detectors && cycles > 0) {
    detecting->Finish();
    PrintFindings(*detectors, options.json, stdout);
  }
  if (record) std::fclose(record);
  if (store &&
      !WriteStore(options, mode == Mode::kReplay, fd, start_wall_ns, *store, *store_sink)) {
    return 2;
  }
  if (cycles == 0) {
    std::fprintf(stderr,
                 "gcpilot: no GC cycles found in %s (%llu lines read, %llu malformed trace "
                 "lines).\n  Was the program run with GODEBUG=gctrace=1? "
                 "(`gcpilot run -- PROGRAM` sets it for you.)\n",
                 name.c_str(), static_cast<unsigned long long>(stats.lines),
                 static_cast<unsigned long long>(stats.malformed));
    return 3;
  }
  return 0;
}

}  // namespace gcpilot::cli
