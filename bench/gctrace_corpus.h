// Synthetic, realistic gctrace corpus for the parse benchmark.
//
// Generates, from a fixed seed and its own PRNG (so the corpus is the same
// on every machine and standard library), a stream of lines as a Go service
// run with GODEBUG=gctrace=1,gcpacertrace=1 writes them to stderr:
//   ~85% "gc N @T s P%: ..." lines: sub-millisecond and whole-millisecond
//        clocks (formatted exactly as the runtime's fmtNSAsMS does), heaps
//        from a few MB to thousands of MB, "(forced)" now and then, with and
//        without the Go 1.18+ "MB stacks, MB globals" fields;
//   ~10% pacer lines (assist ratio / end of mark / sweep done, and a rare
//        "GC forced" notice);
//   ~5%  ordinary program output.
// The cycle counter restarts every few thousand lines (a new process with
// other GOMAXPROCS, heap size and Go version).
// Thread-safety: stateless function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gcpilot::bench {

struct GctraceCorpus {
  std::string text;                     // All lines, each ended by '\n'.
  std::vector<std::string_view> lines;  // Views into `text`, without '\n'.
  size_t gc_lines = 0;
  size_t pacer_lines = 0;  // Includes "GC forced" notices.
  size_t other_lines = 0;
};

GctraceCorpus GenerateGctraceCorpus(size_t line_count, uint64_t seed);

}  // namespace gcpilot::bench
