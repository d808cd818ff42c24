// `gcpilot ingest` / `gcpilot report` (see cmd_ingest.h).
#include "cli/cmd_ingest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"
#include "sources/gctrace/gctrace_source.h"
#include "sources/line_splitter.h"
#include "sources/replay/replay_source.h"

namespace gcpilot::cli {

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

  SessionOptions so;
  so.alloc_risk_bytes_per_sec = options.alloc_risk_mbps * 1024 * 1024;
  so.json_out = options.json ? stdout : nullptr;
  so.text_report = !options.json;
  so.record_out = record;
  Session session(so);

  gctrace::GctraceSource::Options go;
  go.pid = options.pid;
  if (!from_stdin) go.info.exe = options.path;
  gctrace::GctraceSource trace(go, [&](const Event& e) { session.OnEvent(e); });
  ReplaySource replay([&](const Event& e) { session.OnEvent(e); });
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
  if (record) std::fclose(record);
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
