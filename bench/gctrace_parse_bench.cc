// gcpilot_parse_bench: single-core parse throughput of gctrace lines, the
// hand-written scanner (gctrace::ParseLineInto) against a std::regex
// baseline (bench/regex_gctrace_parser.h).
//
// 1. Generates a realistic corpus in memory (bench/gctrace_corpus.h).
// 2. Parses every line with both parsers and checks that they agree on the
//    kind and on every field; exits 1 on the first disagreement.
// 3. Times each parser with a hand-timed loop (std::chrono::steady_clock):
//    N passes, the two parsers' passes interleaved, keeping for each tenth
//    of the lines its fastest time (min of N, robust to bursts of load from
//    other processes). The scanner runs over the whole corpus; the regex
//    parser, one to two orders of magnitude slower, over its first
//    --regex-lines lines (the generator keeps the same mix throughout, so a
//    prefix is representative).
//
// Output (stdout): '#' comment lines, then one tab-separated line per parser:
//   result <parser> <lines per repetition> <bytes per repetition> <best seconds>
// scripts/bench.sh turns that into the comparison table. Bytes count each
// line and its newline.
//
// Usage: gcpilot_parse_bench [--lines=N] [--regex-lines=N] [--reps=N]
//                            [--regex-reps=N] [--seed=N]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>

#include "bench/gctrace_corpus.h"
#include "bench/regex_gctrace_parser.h"
#include "sources/gctrace/gctrace_parser.h"

namespace gcpilot::bench {
namespace {

using gctrace::LineKind;
using gctrace::ParsedLine;

struct Options {
  size_t lines = 1'000'000;
  size_t regex_lines = 100'000;
  int reps = 15;
  int regex_reps = 5;
  uint64_t seed = 0x6763706c6f74;  // "gcplot"
};

// Reads "--name=value" into `out`; false when `arg` is another option.
bool Flag(std::string_view arg, std::string_view name, uint64_t& out) {
  if (arg.size() <= name.size() + 3 || arg.substr(0, 2) != "--" ||
      arg.substr(2, name.size()) != name || arg[2 + name.size()] != '=') {
    return false;
  }
  std::string value(arg.substr(3 + name.size()));
  char* end = nullptr;
  out = std::strtoull(value.c_str(), &end, 0);
  if (end == value.c_str() || *end != '\0') {
    std::fprintf(stderr, "bad value for --%.*s: %s\n", static_cast<int>(name.size()), name.data(),
                 value.c_str());
    std::exit(2);
  }
  return true;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    uint64_t v = 0;
    if (Flag(a, "lines", v)) {
      o.lines = v;
    } else if (Flag(a, "regex-lines", v)) {
      o.regex_lines = v;
    } else if (Flag(a, "reps", v)) {
      o.reps = static_cast<int>(v);
    } else if (Flag(a, "regex-reps", v)) {
      o.regex_reps = static_cast<int>(v);
    } else if (Flag(a, "seed", v)) {
      o.seed = v;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--lines=N] [--regex-lines=N] [--reps=N] [--regex-reps=N] "
                   "[--seed=N]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (o.lines == 0 || o.reps < 1 || o.regex_reps < 1) {
    std::fprintf(stderr, "--lines, --reps and --regex-reps must be positive\n");
    std::exit(2);
  }
  if (o.regex_lines == 0 || o.regex_lines > o.lines) o.regex_lines = o.lines;
  return o;
}

// Compares two parses field by field; returns the first difference, or
// nullopt when they agree. Only the fields of the line's kind are compared.
std::optional<std::string> Difference(const ParsedLine& a, const ParsedLine& b) {
  std::ostringstream d;
  auto check = [&](const char* field, const auto& x, const auto& y) {
    if (x == y || d.tellp() > 0) return;
    d << field << ": scanner " << x << " vs regex " << y;
  };
  auto check_opt = [&](const char* field, const std::optional<uint64_t>& x,
                       const std::optional<uint64_t>& y) {
    if (x == y || d.tellp() > 0) return;
    d << field << ": scanner " << (x ? std::to_string(*x) : "none") << " vs regex "
      << (y ? std::to_string(*y) : "none");
  };
  check("kind", gctrace::LineKindName(a.kind), gctrace::LineKindName(b.kind));
  if (d.tellp() > 0) return d.str();
  switch (a.kind) {
    case LineKind::kGcCycle: {
      const GcCycle& x = a.cycle;
      const GcCycle& y = b.cycle;
      check("number", x.number, y.number);
      check("start_ns", x.start_ns, y.start_ns);
      check("cpu_percent_since_start", x.cpu_percent_since_start, y.cpu_percent_since_start);
      check("sweep_term_ns", x.sweep_term_ns, y.sweep_term_ns);
      check("mark_ns", x.mark_ns, y.mark_ns);
      check("mark_term_ns", x.mark_term_ns, y.mark_term_ns);
      check("cpu.sweep_term_ns", x.cpu.sweep_term_ns, y.cpu.sweep_term_ns);
      check("cpu.assist_ns", x.cpu.assist_ns, y.cpu.assist_ns);
      check("cpu.background_ns", x.cpu.background_ns, y.cpu.background_ns);
      check("cpu.idle_ns", x.cpu.idle_ns, y.cpu.idle_ns);
      check("cpu.mark_term_ns", x.cpu.mark_term_ns, y.cpu.mark_term_ns);
      check("heap_start_bytes", x.heap_start_bytes, y.heap_start_bytes);
      check("heap_end_bytes", x.heap_end_bytes, y.heap_end_bytes);
      check("heap_live_bytes", x.heap_live_bytes, y.heap_live_bytes);
      check("heap_goal_bytes", x.heap_goal_bytes, y.heap_goal_bytes);
      check_opt("stacks_bytes", x.stacks_bytes, y.stacks_bytes);
      check_opt("globals_bytes", x.globals_bytes, y.globals_bytes);
      check("gomaxprocs", x.gomaxprocs, y.gomaxprocs);
      check("trigger", GcTriggerName(x.trigger), GcTriggerName(y.trigger));
      check("byte_resolution", x.byte_resolution, y.byte_resolution);
      check("source", EventSourceName(x.source), EventSourceName(y.source));
      break;
    }
    case LineKind::kPacerStart: {
      const PacerStart& x = a.pacer_start;
      const PacerStart& y = b.pacer_start;
      check("assist_ratio", x.assist_ratio, y.assist_ratio);
      check("heap_scan_bytes", x.heap_scan_bytes, y.heap_scan_bytes);
      check("heap_live_start_bytes", x.heap_live_start_bytes, y.heap_live_start_bytes);
      check("heap_goal_bytes", x.heap_goal_bytes, y.heap_goal_bytes);
      check("dedicated_workers", x.dedicated_workers, y.dedicated_workers);
      check("fractional_utilization_goal", x.fractional_utilization_goal,
            y.fractional_utilization_goal);
      break;
    }
    case LineKind::kPacerEnd: {
      const PacerEnd& x = a.pacer_end;
      const PacerEnd& y = b.pacer_end;
      check("utilization_percent", x.utilization_percent, y.utilization_percent);
      check("goal_utilization_percent", x.goal_utilization_percent, y.goal_utilization_percent);
      check("heap_scan_work_bytes", x.heap_scan_work_bytes, y.heap_scan_work_bytes);
      check("stack_scan_work_bytes", x.stack_scan_work_bytes, y.stack_scan_work_bytes);
      check("globals_scan_work_bytes", x.globals_scan_work_bytes, y.globals_scan_work_bytes);
      check("expected_scan_work_bytes", x.expected_scan_work_bytes, y.expected_scan_work_bytes);
      check("trigger_heap_bytes", x.trigger_heap_bytes, y.trigger_heap_bytes);
      check("heap_live_bytes", x.heap_live_bytes, y.heap_live_bytes);
      check("goal_delta_bytes", x.goal_delta_bytes, y.goal_delta_bytes);
      check("cons_mark", x.cons_mark, y.cons_mark);
      check("controller_reset", x.controller_reset, y.controller_reset);
      break;
    }
    case LineKind::kPacerSweepDone: {
      const PacerSweepDone& x = a.sweep_done;
      const PacerSweepDone& y = b.sweep_done;
      check("heap_bytes", x.heap_bytes, y.heap_bytes);
      check("allocated_during_sweep_bytes", x.allocated_during_sweep_bytes,
            y.allocated_during_sweep_bytes);
      check("pages_swept", x.pages_swept, y.pages_swept);
      check("pages_per_byte", x.pages_per_byte, y.pages_per_byte);
      break;
    }
    case LineKind::kMalformed:
      // The corpus is well formed: a malformed line is a generator or
      // scanner bug, not a difference to tolerate.
      d << "scanner says malformed: expected " << a.error << " at column " << a.error_column;
      break;
    default:
      break;
  }
  if (d.tellp() > 0) return d.str();
  return std::nullopt;
}

// Checks both parsers on every line; returns false (after printing the
// line) on the first disagreement.
bool Verify(std::span<const std::string_view> lines) {
  ParsedLine scanner, regex;
  size_t kinds[8] = {};
  for (size_t i = 0; i < lines.size(); ++i) {
    gctrace::ParseLineInto(lines[i], scanner);
    RegexParseLineInto(lines[i], regex);
    if (std::optional<std::string> diff = Difference(scanner, regex)) {
      std::fprintf(stderr, "parsers disagree on line %zu: %s\n  %.*s\n", i + 1, diff->c_str(),
                   static_cast<int>(lines[i].size()), lines[i].data());
      return false;
    }
    ++kinds[static_cast<size_t>(scanner.kind)];
  }
  std::printf("# verified: both parsers agree on every field of all %zu lines (", lines.size());
  const char* sep = "";
  for (size_t k = 0; k < std::size(kinds); ++k) {
    if (kinds[k] == 0) continue;
    std::printf("%s%s %zu", sep, gctrace::LineKindName(static_cast<LineKind>(k)).data(), kinds[k]);
    sep = ", ";
  }
  std::printf(")\n");
  return true;
}

// Keeps the parse results observable so the loops cannot be optimised away.
volatile uint64_t g_sink = 0;

// Times repeated passes of one parser over `lines`. The lines are cut into
// kChunks chunks and each chunk keeps its fastest time over all passes, so a
// burst of load from other processes spoils one chunk of one pass, not the
// result; the total is the sum of the per-chunk minima.
class ChunkedTimer {
 public:
  static constexpr size_t kChunks = 10;

  explicit ChunkedTimer(std::span<const std::string_view> lines) : lines_(lines) {
    best_.fill(1e300);
  }

  template <typename Parse>
  void Pass(Parse parse) {
    uint64_t sum = 0;
    for (size_t k = 0; k < kChunks; ++k) {
      std::span<const std::string_view> chunk = Chunk(k);
      auto t0 = std::chrono::steady_clock::now();
      for (std::string_view line : chunk) sum += static_cast<uint64_t>(parse(line, out_));
      auto t1 = std::chrono::steady_clock::now();
      best_[k] = std::min(best_[k], std::chrono::duration<double>(t1 - t0).count());
    }
    g_sink = g_sink + sum;
  }

  double BestSeconds() const {
    double total = 0;
    for (double b : best_) total += b;
    return total;
  }

 private:
  std::span<const std::string_view> Chunk(size_t k) const {
    size_t begin = lines_.size() * k / kChunks;
    size_t end = lines_.size() * (k + 1) / kChunks;
    return lines_.subspan(begin, end - begin);
  }

  std::span<const std::string_view> lines_;
  std::array<double, kChunks> best_;
  ParsedLine out_;
};

size_t Bytes(std::span<const std::string_view> lines) {
  size_t n = 0;
  for (std::string_view l : lines) n += l.size() + 1;
  return n;
}

void Report(const char* parser, std::span<const std::string_view> lines, double seconds) {
  std::printf("result\t%s\t%zu\t%zu\t%.9f\n", parser, lines.size(), Bytes(lines), seconds);
}

int Main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  auto t0 = std::chrono::steady_clock::now();
  GctraceCorpus corpus = GenerateGctraceCorpus(o.lines, o.seed);
  double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "# corpus: %zu lines, %zu bytes (%zu gc, %zu pacer, %zu program output), "
      "seed %llu, generated in %.2f s\n",
      corpus.lines.size(), corpus.text.size(), corpus.gc_lines, corpus.pacer_lines,
      corpus.other_lines, static_cast<unsigned long long>(o.seed), gen_s);
  std::fflush(stdout);

  std::span<const std::string_view> all(corpus.lines);
  t0 = std::chrono::steady_clock::now();
  if (!Verify(all)) return 1;
  std::printf("# verification took %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::fflush(stdout);

  // The two parsers' passes are interleaved, so both see the same machine
  // (frequency, load from other processes).
  std::span<const std::string_view> some = all.first(o.regex_lines);
  ChunkedTimer scanner(all), regex(some);
  for (int r = 0; r < std::max(o.reps, o.regex_reps); ++r) {
    if (r < o.reps) {
      scanner.Pass(
          [](std::string_view line, ParsedLine& out) { return gctrace::ParseLineInto(line, out); });
    }
    if (r < o.regex_reps) {
      regex.Pass(
          [](std::string_view line, ParsedLine& out) { return RegexParseLineInto(line, out); });
    }
  }
  std::printf(
      "# scanner: %d passes over %zu lines; regex: %d passes over the first %zu lines; "
      "each the sum of the fastest time of each tenth of the lines\n",
      o.reps, all.size(), o.regex_reps, some.size());
  Report("scanner", all, scanner.BestSeconds());
  Report("regex", some, regex.BestSeconds());
  return 0;
}

}  // namespace
}  // namespace gcpilot::bench

int main(int argc, char** argv) { return gcpilot::bench::Main(argc, argv); }
