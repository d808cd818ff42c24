// libFuzzer target for the text ingestion path: bytes -> LineSplitter (with
// a small maximum line, so over-long lines are exercised) -> GctraceSource
// -> events, wired as `gcpilot ingest` wires them. The first input byte
// picks the size of the chunks the rest is fed in, so lines split across
// reads are exercised too. Checks that nothing crashes or hits undefined
// behaviour and that the source's counters stay consistent with the lines
// and events it saw.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz/fuzz_check.h"
#include "model/events.h"
#include "sources/gctrace/gctrace_source.h"
#include "sources/line_splitter.h"

namespace {

constexpr size_t kMaxLineBytes = 256;
// A CLOCK_MONOTONIC-like start time, as `gcpilot run` passes it.
constexpr int64_t kTimeBaseNs = 123'456'789'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  uint64_t events = 0, cycles = 0, problems = 0;
  gcpilot::gctrace::GctraceSource::Options options;
  options.pid = 4242;
  options.time_base_ns = kTimeBaseNs;
  gcpilot::gctrace::GctraceSource source(options, [&](const gcpilot::Event& e) {
    ++events;
    FUZZ_CHECK(e.source == gcpilot::EventSource::kGctrace);
    FUZZ_CHECK(e.process.pid == 4242);
    if (const auto* c = std::get_if<gcpilot::GcCycleObserved>(&e.payload)) {
      ++cycles;
      FUZZ_CHECK(c->cycle.sweep_term_ns >= 0 && c->cycle.mark_ns >= 0 &&
                 c->cycle.mark_term_ns >= 0);
      FUZZ_CHECK(c->cycle.start_ns >= kTimeBaseNs);
    } else if (const auto* p = std::get_if<gcpilot::InputProblem>(&e.payload)) {
      ++problems;
      FUZZ_CHECK(!p->problem.empty());
    }
  });

  uint64_t lines = 0, long_bytes = 0;
  gcpilot::LineSplitter splitter(
      [&](std::string_view piece, gcpilot::LineSplitter::Piece kind, bool newline) {
        using Piece = gcpilot::LineSplitter::Piece;
        FUZZ_CHECK(piece.find('\n') == std::string_view::npos);
        switch (kind) {
          case Piece::kLine:
            FUZZ_CHECK(piece.size() <= kMaxLineBytes);
            ++lines;
            source.OnLine(piece, !newline);
            break;
          case Piece::kLongStart:
          case Piece::kLongMiddle:
            long_bytes += piece.size();
            break;
          case Piece::kLongEnd:
            long_bytes += piece.size();
            FUZZ_CHECK(long_bytes > kMaxLineBytes);
            ++lines;
            source.OnOverlongLine(long_bytes);
            long_bytes = 0;
            break;
        }
      },
      kMaxLineBytes);
  for (size_t i = 0; i < input.size(); i += chunk) splitter.Feed(input.substr(i, chunk));
  splitter.Finish();

  const gcpilot::gctrace::SourceStats& s = source.stats();
  FUZZ_CHECK(s.lines == lines);
  FUZZ_CHECK(s.trace_lines + s.overlong_lines <= s.lines);
  FUZZ_CHECK(s.cycles == cycles);
  FUZZ_CHECK(s.cycles + s.pacer_lines + s.time_triggers + s.malformed + s.cut_at_end +
                 s.duplicates <=
             s.trace_lines);
  FUZZ_CHECK(s.malformed + s.duplicates + s.unknown_pacer + s.overlong_lines <= problems);
  FUZZ_CHECK(events >= cycles + problems);
  return 0;
}
