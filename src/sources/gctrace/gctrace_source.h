// GctraceSource: turns gctrace / gcpacertrace text lines into model events.
//
// Feed it lines from a wrapped child's stderr, a log file or stdin. It emits
// ProcessSeen on the first trace line, GcCycleObserved per "gc N" line,
// Pacer*Observed and TimeTriggerObserved for the lines that precede a cycle
// (the CycleAssembler attaches them), and InputProblem for every line that
// looked like trace output but could not be read, with its line number.
//
// A log may hold several runs of a service (container restarts, rotated logs
// concatenated): when the runtime's cycle counter goes backwards a new
// process generation starts. Times: a cycle's "@T s" is seconds since the
// process started; events carry options.time_base_ns + T.
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "model/events.h"
#include "sources/gctrace/gctrace_parser.h"

namespace gcpilot::gctrace {

struct SourceStats {
  uint64_t lines = 0;           // Every line seen, trace or not.
  uint64_t trace_lines = 0;     // Lines consumed as trace output.
  uint64_t cycles = 0;          // "gc N" lines read.
  uint64_t pacer_lines = 0;     // "pacer:" lines read.
  uint64_t time_triggers = 0;   // "GC forced" lines.
  uint64_t malformed = 0;       // Looked like trace output, could not be read.
  uint64_t unknown_pacer = 0;   // "pacer:" lines of an unknown form.
  uint64_t duplicates = 0;      // A repeated "gc N" line, ignored.
  uint64_t overlong_lines = 0;  // Longer than any trace line; not parsed.
  uint64_t restarts = 0;        // New process generations detected.
  uint64_t cut_at_end = 0;      // Unterminated last line, cut off as the program exited.
};

class GctraceSource {
 public:
  struct Options {
    int32_t pid = 0;           // 0 when unknown.
    int64_t time_base_ns = 0;  // Added to the runtime's "@T s".
    ProcessInfo info;          // Announced with ProcessSeen.
  };
  using Emit = std::function<void(const Event&)>;

  GctraceSource(Options options, Emit emit);

  // Feeds one line (no newline). Returns true when it was trace output (run
  // mode hides those from the child's stderr). `unterminated_at_end` marks
  // the input's last line when no newline ended it: a trace line cut there
  // is what a program exiting mid-print leaves, counted in cut_at_end
  // rather than reported as malformed.
  bool OnLine(std::string_view line, bool unterminated_at_end = false);
  // Announces the process now (run mode: when the program starts), instead
  // of at its first trace line, so it is known before its first GC.
  // ProcessSeen always carries time_base_ns: the process start on its axis.
  void Begin() { Announce(); }
  // Feeds a line too long to be trace output; counted and reported.
  void OnOverlongLine(uint64_t length_bytes);
  // The process ended (run mode).
  void OnExit(const ProcessExited& exit, int64_t ts_ns);

  const SourceStats& stats() const { return stats_; }
  ProcessKey current_process() const { return key_; }

 private:
  void Announce();
  void Problem(std::string problem, std::string_view line);
  Event MakeEvent(EventPayload payload) const;

  Options options_;
  Emit emit_;
  SourceStats stats_;
  ParsedLine parsed_;
  ProcessKey key_;
  bool announced_ = false;
  uint64_t last_number_ = 0;
  int64_t last_ts_ns_ = 0;
};

// Printable excerpt of a line for an error message: at most `max_bytes`,
// control and non-ASCII bytes shown as '?', "..." when cut.
std::string Excerpt(std::string_view line, size_t max_bytes = 120);

}  // namespace gcpilot::gctrace
