// Parser for the Go runtime's GODEBUG=gctrace=1 and gcpacertrace=1 lines.
//
// Understands every field the runtime prints in Go 1.19 - 1.23 (and the older
// form without "MB stacks"/"MB globals"):
//   gc N @T s P%: a+b+c ms clock, d+e/f/g+h ms cpu, H0->H1->H2 MB, G MB goal,
//     S MB stacks, L MB globals, NP P [(forced)]
//   pacer: assist ratio=R (scan S MB in H0->G MB) workers=D++F
//   pacer: U% CPU (E exp.) for H+S+G B work (X B exp.) in T B -> L B (∆goal D, cons/mark C)
//   pacer: sweep done at heap size H MB; allocated A MB during sweep; swept P pages at R pages/byte
//   GC forced
// A trace line may carry a prefix (timestamps from kubectl/docker/journald):
// the parser finds the trace text anywhere in the line.
//
// Hand-written scanner over std::string_view with std::from_chars; no
// allocation, no regex, never throws. A line that has the shape of a trace
// line but cannot be read completely is reported as kMalformed with the
// reason and the column, so callers can count it: nothing is dropped silently.
// Thread-safety: stateless free function; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "model/gc_cycle.h"

namespace gcpilot::gctrace {

enum class LineKind : uint8_t {
  kNotTrace = 0,    // Program output: not ours.
  kGcCycle,         // "gc N @..." -> cycle.
  kPacerStart,      // "pacer: assist ratio=..." -> pacer_start.
  kPacerEnd,        // "pacer: N% CPU ..." -> pacer_end.
  kPacerSweepDone,  // "pacer: sweep done ..." -> sweep_done.
  kPacerOther,      // A "pacer:" line of a form this parser does not know.
  kTimeTrigger,     // "GC forced": a periodic GC is about to start.
  kMalformed,       // Looked like a trace line but could not be read.
};

struct ParsedLine {
  LineKind kind = LineKind::kNotTrace;
  GcCycle cycle;  // kGcCycle: number, start_ns (since process start), phases,
                  // cpu, heap sizes (bytes, MB resolution), gomaxprocs,
                  // cpu_percent_since_start, trigger (kForced or kUnknown).
  PacerStart pacer_start;
  PacerEnd pacer_end;
  PacerSweepDone sweep_done;
  std::string_view error;   // kMalformed: what was expected (static text).
  size_t error_column = 0;  // kMalformed: 0-based offset in the line.
};

// Parses one line (without its trailing newline; a trailing '\r' is ignored).
ParsedLine ParseLine(std::string_view line);

// Parses into `out`, reusing it (faster in tight loops). Returns out.kind.
LineKind ParseLineInto(std::string_view line, ParsedLine& out);

std::string_view LineKindName(LineKind kind);

// The precision of a clock or CPU value gctrace printed as `printed_ns`: the
// runtime truncates to two significant digits below 10 ms (1 us steps below
// 0.1 ms, 10 us below 1 ms, 100 us below 10 ms) and to whole ms above. The
// true value lies in [printed_ns, printed_ns + quantum).
int64_t GctraceQuantumNs(int64_t printed_ns);

}  // namespace gcpilot::gctrace
