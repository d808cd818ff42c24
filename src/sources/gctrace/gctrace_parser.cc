// Hand-written scanner for gctrace / gcpacertrace lines (see the header).
#include "sources/gctrace/gctrace_parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace gcpilot::gctrace {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Longest time or duration accepted (~31.7 years): a cycle's end (start plus
// its phases) then stays far from int64 overflow.
constexpr int64_t kMaxNs = 1'000'000'000'000'000'000;
const GcCycle kEmptyCycle{};

constexpr int64_t kPow10[] = {1,       10,        100,        1'000,       10'000,
                              100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

// log10 of a power of ten (1 -> 0, 1000 -> 3).
constexpr int DigitsOfPowerOf10(int64_t p) { return p < 10 ? 0 : 1 + DigitsOfPowerOf10(p / 10); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// A forward-only reader over one line. Every method returns false and leaves
// the position unchanged on failure, so the caller can report the column.
class Cursor {
 public:
  Cursor(const char* begin, const char* end) : begin_(begin), p_(begin), end_(end) {}

  size_t column() const { return static_cast<size_t>(p_ - begin_); }
  bool AtEnd() const { return p_ == end_; }
  std::string_view Rest() const { return {p_, static_cast<size_t>(end_ - p_)}; }

  void Skip(size_t n) { p_ += std::min(n, static_cast<size_t>(end_ - p_)); }

  // Matches a string literal. Its length is a template constant, so the
  // memcmp compiles to a few word compares instead of a byte loop.
  template <size_t N>
  bool Lit(const char (&s)[N]) {
    constexpr size_t kLen = N - 1;  // Without the terminating NUL.
    if (static_cast<size_t>(end_ - p_) < kLen || std::memcmp(p_, s, kLen) != 0) return false;
    p_ += kLen;
    return true;
  }

  // Decimal digits into a uint64_t; fails, as std::from_chars does, on no
  // digit or on overflow. Inlined, unlike from_chars' generic loop.
  bool Uint(uint64_t& v) {
    const char* q = p_;
    uint64_t x = 0;
    while (q != end_ && IsDigit(*q)) {
      if (__builtin_mul_overflow(x, uint64_t{10}, &x) ||
          __builtin_add_overflow(x, static_cast<uint64_t>(*q - '0'), &x)) {
        return false;
      }
      ++q;
    }
    if (q == p_) return false;
    v = x;
    p_ = q;
    return true;
  }

  bool Int(int64_t& v) {
    auto [ptr, ec] = std::from_chars(p_, end_, v);
    if (ec != std::errc() || ptr == p_) return false;
    p_ = ptr;
    return true;
  }

  bool Int32(int32_t& v) {
    auto [ptr, ec] = std::from_chars(p_, end_, v);
    if (ec != std::errc() || ptr == p_) return false;
    p_ = ptr;
    return true;
  }

  // The Go runtime prints floats as "+1.234567e+000"; from_chars rejects a
  // leading '+', so skip it.
  bool Float(double& v) {
    const char* start = p_;
    if (start != end_ && *start == '+') ++start;
    auto [ptr, ec] = std::from_chars(start, end_, v);
    if (ec != std::errc() || ptr == start) return false;
    p_ = ptr;
    return true;
  }

  // A non-negative decimal "123" or "0.016" in units of kUnitNs (a power of
  // ten), converted exactly (fixed point, no floating-point rounding); digits
  // finer than a nanosecond are ignored.
  template <int64_t kUnitNs>
  bool Fixed(int64_t& ns) {
    constexpr int kFracDigits = DigitsOfPowerOf10(kUnitNs);
    const char* q = p_;
    int64_t whole = 0;
    int digits = 0;
    while (q != end_ && IsDigit(*q)) {
      if (++digits > 12) return false;  // Beyond any real duration: refuse.
      whole = whole * 10 + (*q - '0');
      ++q;
    }
    if (digits == 0) return false;
    if (whole > kMaxNs / kUnitNs) return false;  // Beyond kMaxNs: refuse.
    int64_t frac_ns = 0;
    if (q != end_ && *q == '.') {
      ++q;
      const char* frac_begin = q;
      int kept = 0;  // Fraction digits that count (down to 1 ns).
      while (q != end_ && IsDigit(*q)) {
        if (kept < kFracDigits) {
          frac_ns = frac_ns * 10 + (*q - '0');
          ++kept;
        }
        ++q;
      }
      if (q == frac_begin) return false;
      frac_ns *= kPow10[kFracDigits - kept];
    }
    ns = whole * kUnitNs + frac_ns;
    p_ = q;
    return true;
  }

  bool Ms(int64_t& ns) { return Fixed<1'000'000>(ns); }
  bool Seconds(int64_t& ns) { return Fixed<1'000'000'000>(ns); }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
};

// The runtime prints sizes as bytes >> 20, so a printed MB value is always
// below 2^44; anything larger would wrap when converted back to bytes.
bool FitsInBytes(uint64_t mb) { return mb < (uint64_t{1} << 44); }

// Marks `out` malformed at the cursor and returns its kind.
LineKind Fail(ParsedLine& out, const Cursor& c, std::string_view what) {
  out.kind = LineKind::kMalformed;
  out.error = what;
  out.error_column = c.column();
  return out.kind;
}

// Where "gc N @" starts in the line (a word boundary before "gc"), or npos.
size_t FindGcAnchor(std::string_view line) {
  size_t pos = 0;
  while ((pos = line.find("gc ", pos)) != std::string_view::npos) {
    if (pos == 0 || !IsAlnum(line[pos - 1])) {
      size_t q = pos + 3;
      if (q < line.size() && IsDigit(line[q])) {
        while (q < line.size() && IsDigit(line[q])) ++q;
        if (q + 2 < line.size() && line[q] == ' ' && line[q + 1] == '@' && IsDigit(line[q + 2])) {
          return pos;
        }
      }
    }
    pos += 1;
  }
  return std::string_view::npos;
}

size_t FindWord(std::string_view line, std::string_view word) {
  size_t pos = 0;
  while ((pos = line.find(word, pos)) != std::string_view::npos) {
    if (pos == 0 || !IsAlnum(line[pos - 1])) return pos;
    pos += 1;
  }
  return std::string_view::npos;
}

LineKind ParseGc(Cursor& c, ParsedLine& out) {
  GcCycle& g = out.cycle;
  g = kEmptyCycle;  // A plain copy: cheaper than building a temporary each line.
  g.source = EventSource::kGctrace;
  g.byte_resolution = kMiB;
  if (!c.Lit("gc ") || !c.Uint(g.number)) return Fail(out, c, "cycle number");
  if (!c.Lit(" @") || !c.Seconds(g.start_ns) || !c.Lit("s ")) {
    return Fail(out, c, "start time '@<seconds>s'");
  }
  if (!c.Int32(g.cpu_percent_since_start) || !c.Lit("%: ")) {
    return Fail(out, c, "GC CPU percent 'N%:'");
  }
  if (!c.Ms(g.sweep_term_ns) || !c.Lit("+") || !c.Ms(g.mark_ns) || !c.Lit("+") ||
      !c.Ms(g.mark_term_ns) || !c.Lit(" ms clock, ")) {
    return Fail(out, c, "wall-clock phases 'a+b+c ms clock'");
  }
  GcCpuSplit& cpu = g.cpu;
  if (!c.Ms(cpu.sweep_term_ns) || !c.Lit("+") || !c.Ms(cpu.assist_ns) || !c.Lit("/") ||
      !c.Ms(cpu.background_ns) || !c.Lit("/") || !c.Ms(cpu.idle_ns) || !c.Lit("+") ||
      !c.Ms(cpu.mark_term_ns) || !c.Lit(" ms cpu, ")) {
    return Fail(out, c, "CPU split 'd+e/f/g+h ms cpu'");
  }
  uint64_t h0 = 0, h1 = 0, h2 = 0, goal = 0;
  if (!c.Uint(h0) || !c.Lit("->") || !c.Uint(h1) || !c.Lit("->") || !c.Uint(h2) ||
      !c.Lit(" MB, ")) {
    return Fail(out, c, "heap sizes 'H0->H1->H2 MB'");
  }
  if (!c.Uint(goal) || !c.Lit(" MB goal, ")) return Fail(out, c, "heap goal 'G MB goal'");
  if (!FitsInBytes(h0) || !FitsInBytes(h1) || !FitsInBytes(h2) || !FitsInBytes(goal)) {
    return Fail(out, c, "heap sizes below 2^44 MB");
  }
  g.heap_start_bytes = h0 * kMiB;
  g.heap_end_bytes = h1 * kMiB;
  g.heap_live_bytes = h2 * kMiB;
  g.heap_goal_bytes = goal * kMiB;
  // Then any number of "N MB <what>, " fields (stacks, globals, and whatever a
  // later Go adds), and finally "NP P".
  for (int fields = 0;; ++fields) {
    uint64_t n = 0;
    if (!c.Uint(n)) return Fail(out, c, "'N P' (GOMAXPROCS)");
    if (c.Lit(" P")) {
      if (n > 1'000'000) return Fail(out, c, "plausible GOMAXPROCS");
      g.gomaxprocs = static_cast<int32_t>(n);
      break;
    }
    if (fields >= 8 || !(c.Lit(" MB ") || c.Lit("MB "))) {
      return Fail(out, c, "'N MB <field>,' or 'N P'");
    }
    if (!FitsInBytes(n)) return Fail(out, c, "sizes below 2^44 MB");
    if (c.Lit("stacks, ")) {
      g.stacks_bytes = n * kMiB;
    } else if (c.Lit("globals, ")) {
      g.globals_bytes = n * kMiB;
    } else {
      // An unknown "N MB word, " field: skip the word.
      std::string_view rest = c.Rest();
      size_t comma = rest.find(", ");
      if (comma == std::string_view::npos || comma == 0 || comma > 32) {
        return Fail(out, c, "'N MB <field>,' or 'N P'");
      }
      c.Skip(comma + 2);
    }
  }
  if (c.Lit(" (forced)")) g.trigger = GcTrigger::kForced;
  out.kind = LineKind::kGcCycle;
  return out.kind;
}

LineKind ParsePacerStart(Cursor& c, ParsedLine& out) {
  PacerStart& p = out.pacer_start;
  p = PacerStart{};
  uint64_t scan = 0, live = 0, goal = 0;
  if (!c.Float(p.assist_ratio)) return Fail(out, c, "assist ratio");
  if (!c.Lit(" (scan ") || !c.Uint(scan) || !c.Lit(" MB in ") || !c.Uint(live) || !c.Lit("->") ||
      !c.Uint(goal) || !c.Lit(" MB)")) {
    return Fail(out, c, "'(scan S MB in H->G MB)'");
  }
  if (!c.Lit(" workers=") || !c.Int(p.dedicated_workers) || !c.Lit("+") ||
      !c.Float(p.fractional_utilization_goal)) {
    return Fail(out, c, "'workers=D+F'");
  }
  if (!FitsInBytes(scan) || !FitsInBytes(live) || !FitsInBytes(goal)) {
    return Fail(out, c, "sizes below 2^44 MB");
  }
  p.heap_scan_bytes = scan * kMiB;
  p.heap_live_start_bytes = live * kMiB;
  p.heap_goal_bytes = goal * kMiB;
  out.kind = LineKind::kPacerStart;
  return out.kind;
}

LineKind ParsePacerEnd(Cursor& c, ParsedLine& out) {
  PacerEnd& p = out.pacer_end;
  p = PacerEnd{};
  if (!c.Int(p.utilization_percent) || !c.Lit("% CPU (") || !c.Int(p.goal_utilization_percent) ||
      !c.Lit(" exp.) for ")) {
    return Fail(out, c, "'U% CPU (E exp.) for'");
  }
  if (!c.Uint(p.heap_scan_work_bytes) || !c.Lit("+") || !c.Uint(p.stack_scan_work_bytes) ||
      !c.Lit("+") || !c.Uint(p.globals_scan_work_bytes) || !c.Lit(" B work (") ||
      !c.Uint(p.expected_scan_work_bytes) || !c.Lit(" B exp.) ")) {
    return Fail(out, c, "'H+S+G B work (X B exp.)'");
  }
  if (!c.Lit("in ") || !c.Uint(p.trigger_heap_bytes) || !c.Lit(" B -> ") ||
      !c.Uint(p.heap_live_bytes) || !c.Lit(" B (\xE2\x88\x86goal ") || !c.Int(p.goal_delta_bytes) ||
      !c.Lit(", cons/mark ") || !c.Float(p.cons_mark) || !c.Lit(")")) {
    return Fail(out, c, "'in T B -> L B (deltagoal D, cons/mark C)'");
  }
  p.controller_reset = c.Lit("[controller reset]");
  out.kind = LineKind::kPacerEnd;
  return out.kind;
}

LineKind ParseSweepDone(Cursor& c, ParsedLine& out) {
  PacerSweepDone& s = out.sweep_done;
  s = PacerSweepDone{};
  uint64_t heap = 0, allocated = 0;
  if (!c.Uint(heap) || !c.Lit("MB; allocated ") || !c.Uint(allocated) ||
      !c.Lit("MB during sweep; swept ") || !c.Uint(s.pages_swept) || !c.Lit(" pages at ") ||
      !c.Float(s.pages_per_byte) || !c.Lit(" pages/byte")) {
    return Fail(out, c, "'H MB; allocated A MB during sweep; swept P pages at R pages/byte'");
  }
  if (!FitsInBytes(heap) || !FitsInBytes(allocated)) return Fail(out, c, "sizes below 2^44 MB");
  s.heap_bytes = heap * kMiB;
  s.allocated_during_sweep_bytes = allocated * kMiB;
  out.kind = LineKind::kPacerSweepDone;
  return out.kind;
}

LineKind ParsePacer(std::string_view line, size_t at, ParsedLine& out) {
  Cursor c(line.data(), line.data() + line.size());
  c.Skip(at + 7);  // Past "pacer: ".
  if (c.Lit("assist ratio=")) return ParsePacerStart(c, out);
  if (c.Lit("sweep done at heap size ")) return ParseSweepDone(c, out);
  if (!c.AtEnd() && IsDigit(c.Rest()[0])) return ParsePacerEnd(c, out);
  out.kind = LineKind::kPacerOther;
  return out.kind;
}

}  // namespace

LineKind ParseLineInto(std::string_view line, ParsedLine& out) {
  out.kind = LineKind::kNotTrace;
  out.error = {};
  out.error_column = 0;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  size_t at = FindGcAnchor(line);
  if (at != std::string_view::npos) {
    Cursor c(line.data(), line.data() + line.size());
    c.Skip(at);
    return ParseGc(c, out);
  }
  size_t pacer = FindWord(line, "pacer: ");
  if (pacer != std::string_view::npos) return ParsePacer(line, pacer, out);
  size_t forced = FindWord(line, "GC forced");
  if (forced != std::string_view::npos) {
    std::string_view rest = line.substr(forced + 9);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (rest.empty()) out.kind = LineKind::kTimeTrigger;
  }
  return out.kind;
}

ParsedLine ParseLine(std::string_view line) {
  ParsedLine out;
  ParseLineInto(line, out);
  return out;
}

int64_t GctraceQuantumNs(int64_t printed_ns) {
  if (printed_ns < 100'000) return 1'000;
  if (printed_ns < 1'000'000) return 10'000;
  if (printed_ns < 10'000'000) return 100'000;
  return 1'000'000;
}

std::string_view LineKindName(LineKind kind) {
  switch (kind) {
    case LineKind::kNotTrace:
      return "not_trace";
    case LineKind::kGcCycle:
      return "gc_cycle";
    case LineKind::kPacerStart:
      return "pacer_start";
    case LineKind::kPacerEnd:
      return "pacer_end";
    case LineKind::kPacerSweepDone:
      return "pacer_sweep_done";
    case LineKind::kPacerOther:
      return "pacer_other";
    case LineKind::kTimeTrigger:
      return "time_trigger";
    case LineKind::kMalformed:
      return "malformed";
  }
  return "unknown";
}

}  // namespace gcpilot::gctrace
