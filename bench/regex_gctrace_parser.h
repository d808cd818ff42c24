// Baseline for the parse benchmark: a straightforward std::regex parser of
// gctrace / gcpacertrace lines, written the way one normally would (one
// regex per line form, compiled once, fields converted with std::stod /
// std::stoull), so the benchmark can show what the hand-written scanner in
// src/sources/gctrace/gctrace_parser.cc buys.
//
// It fills the same ParsedLine as the scanner, so the benchmark can check
// that both agree on every field before timing them. It only has to agree on
// well-formed lines (the benchmark corpus); it does not report malformed
// lines with a column as the scanner does.
// Thread-safety: stateless apart from the regexes, which are built once
// (thread-safe static initialisation) and only read.
#pragma once

#include <string_view>

#include "sources/gctrace/gctrace_parser.h"

namespace gcpilot::bench {

// Parses one line (no trailing newline) into `out`, reusing it. Returns
// out.kind: kGcCycle, kPacerStart, kPacerEnd, kPacerSweepDone, kPacerOther,
// kTimeTrigger, kMalformed (a "gc " / "pacer: " line no regex matched) or
// kNotTrace.
gctrace::LineKind RegexParseLineInto(std::string_view line, gctrace::ParsedLine& out);

}  // namespace gcpilot::bench
