// Synthetic gctrace corpus (see the header).
#include "bench/gctrace_corpus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gcpilot::bench {
namespace {

// splitmix64: tiny, fast and fully specified, unlike the std distributions.
class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // Log-uniform in [lo, hi]: durations and sizes spread over decades.
  double LogUniform(double lo, double hi) {
    return std::exp(std::log(lo) + Unit() * (std::log(hi) - std::log(lo)));
  }

 private:
  uint64_t state_;
};

// The runtime's fmtNSAsMS: whole milliseconds from 10 ms up, otherwise two
// significant digits with at most three decimals ("0.034", "0.67", "1.2").
std::string FormatMs(uint64_t ns) {
  char buf[32];
  if (ns >= 10'000'000) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(ns / 1'000'000));
    return buf;
  }
  uint64_t x = ns / 1000;
  if (x == 0) return "0";
  int dec = 3;
  while (x >= 100) {
    x /= 10;
    --dec;
  }
  uint64_t pow10 = 1;
  for (int i = 0; i < dec; ++i) pow10 *= 10;
  if (dec == 0) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(x));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu.%0*llu", static_cast<unsigned long long>(x / pow10), dec,
                  static_cast<unsigned long long>(x % pow10));
  }
  return buf;
}

// The runtime's print(float64): "+5.254071e-002" (three exponent digits).
std::string FormatGoFloat(double v) {
  char mantissa[40];
  std::snprintf(mantissa, sizeof(mantissa), "%+.6e", v);  // "+5.254071e-02"
  char* e = std::strchr(mantissa, 'e');
  if (e == nullptr) return mantissa;
  int exponent = std::atoi(e + 1);
  *e = '\0';
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%se%c%03d", mantissa, exponent < 0 ? '-' : '+',
                exponent < 0 ? -exponent : exponent);
  return buf;
}

// One simulated process: what stays the same from cycle to cycle.
struct Process {
  uint64_t gc_number = 0;
  uint64_t now_ms = 0;  // Milliseconds since process start.
  int gomaxprocs = 1;
  bool has_stacks = true;     // Go 1.18+ prints stacks and globals.
  double live_mb = 4;         // Current live heap.
  double target_live_mb = 4;  // Where the live heap drifts to.
  uint64_t globals_mb = 0;
  double cpu_percent = 1;
};

Process NewProcess(Prng& rng) {
  static constexpr int kProcs[] = {1, 2, 4, 8, 16, 32, 64};
  Process p;
  p.gomaxprocs = kProcs[rng.Below(std::size(kProcs))];
  p.has_stacks = rng.Chance(0.8);
  p.target_live_mb = rng.LogUniform(2, 4000);
  p.live_mb = std::max(1.0, p.target_live_mb * rng.LogUniform(0.05, 1));
  p.globals_mb = rng.Chance(0.7) ? 0 : static_cast<uint64_t>(rng.Range(1, 12));
  p.cpu_percent = rng.LogUniform(0.5, 30);
  return p;
}

void AppendGcLine(Prng& rng, Process& p, std::string& out) {
  ++p.gc_number;
  p.now_ms += static_cast<uint64_t>(rng.LogUniform(1, 120'000));
  p.live_mb = std::max(0.0, p.live_mb + (p.target_live_mb - p.live_mb) * rng.Unit() * 0.3 +
                                p.target_live_mb * (rng.Unit() - 0.5) * 0.1);
  auto live = static_cast<uint64_t>(p.live_mb);
  uint64_t goal = std::max<uint64_t>(4, live * 2);
  auto start = static_cast<uint64_t>(static_cast<double>(goal) * rng.LogUniform(0.75, 0.98));
  uint64_t end = start + static_cast<uint64_t>(static_cast<double>(goal) * rng.Unit() * 0.1);
  bool forced = rng.Chance(0.03);
  if (forced) start = static_cast<uint64_t>(static_cast<double>(start) * rng.Unit());

  // Sub-millisecond STW phases as a rule, whole milliseconds now and then.
  auto sweep_term = static_cast<uint64_t>(rng.Chance(0.04) ? rng.LogUniform(10e6, 150e6)
                                                           : rng.LogUniform(3e3, 2e6));
  auto mark = static_cast<uint64_t>(rng.LogUniform(40e3, 400e6));
  auto mark_term = static_cast<uint64_t>(rng.Chance(0.04) ? rng.LogUniform(10e6, 90e6)
                                                          : rng.LogUniform(3e3, 3e6));
  auto procs = static_cast<uint64_t>(p.gomaxprocs);
  uint64_t cpu_sweep = sweep_term * procs;
  uint64_t assist = rng.Chance(0.35) ? 0 : static_cast<uint64_t>(mark * rng.LogUniform(0.001, 2));
  auto background = static_cast<uint64_t>(static_cast<double>(mark) *
                                          std::max(1.0, static_cast<double>(procs) / 4.0) *
                                          rng.LogUniform(0.3, 1));
  uint64_t idle = rng.Chance(0.3) ? 0 : static_cast<uint64_t>(mark * rng.LogUniform(0.01, 3));
  uint64_t cpu_mark_term = mark_term * procs;
  p.cpu_percent = std::clamp(p.cpu_percent + (rng.Unit() - 0.5), 0.0, 60.0);

  char buf[512];
  int n = std::snprintf(
      buf, sizeof(buf),
      "gc %llu @%llu.%03llus %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, %llu->%llu->%llu MB, "
      "%llu MB goal, ",
      static_cast<unsigned long long>(p.gc_number),
      static_cast<unsigned long long>(p.now_ms / 1000),
      static_cast<unsigned long long>(p.now_ms % 1000), static_cast<int>(p.cpu_percent),
      FormatMs(sweep_term).c_str(), FormatMs(mark).c_str(), FormatMs(mark_term).c_str(),
      FormatMs(cpu_sweep).c_str(), FormatMs(assist).c_str(), FormatMs(background).c_str(),
      FormatMs(idle).c_str(), FormatMs(cpu_mark_term).c_str(),
      static_cast<unsigned long long>(start), static_cast<unsigned long long>(end),
      static_cast<unsigned long long>(live), static_cast<unsigned long long>(goal));
  out.append(buf, static_cast<size_t>(n));
  if (p.has_stacks) {
    auto stacks = static_cast<unsigned long long>(rng.LogUniform(1, 64)) - 1;
    n = std::snprintf(buf, sizeof(buf), "%llu MB stacks, %llu MB globals, ", stacks,
                      static_cast<unsigned long long>(p.globals_mb));
    out.append(buf, static_cast<size_t>(n));
  }
  n = std::snprintf(buf, sizeof(buf), "%d P%s\n", p.gomaxprocs, forced ? " (forced)" : "");
  out.append(buf, static_cast<size_t>(n));
}

void AppendPacerLine(Prng& rng, const Process& p, std::string& out) {
  auto live = static_cast<uint64_t>(p.live_mb);
  uint64_t goal = std::max<uint64_t>(4, live * 2);
  char buf[512];
  int n = 0;
  uint64_t kind = rng.Below(1000);
  if (kind < 460) {
    auto scan = static_cast<unsigned long long>(static_cast<double>(live) * rng.Unit());
    n = std::snprintf(buf, sizeof(buf),
                      "pacer: assist ratio=%s (scan %llu MB in %llu->%llu MB) "
                      "workers=%d+%s\n",
                      FormatGoFloat(rng.LogUniform(0.01, 8)).c_str(), scan,
                      static_cast<unsigned long long>(goal * 9 / 10),
                      static_cast<unsigned long long>(goal), p.gomaxprocs / 4,
                      FormatGoFloat(p.gomaxprocs % 4 == 0 ? 0.0 : 0.25).c_str());
  } else if (kind < 920) {
    uint64_t trigger = goal * (1 << 20) * 9 / 10;
    uint64_t heap_live = trigger + static_cast<uint64_t>(rng.LogUniform(1e3, 64e6));
    auto delta = static_cast<long long>(heap_live) - static_cast<long long>(goal * (1 << 20));
    auto heap_work = static_cast<uint64_t>(rng.LogUniform(1e4, 4e9));
    n = std::snprintf(
        buf, sizeof(buf),
        "pacer: %d%% CPU (25 exp.) for %llu+%llu+%llu B work (%llu B exp.) in %llu B -> %llu B "
        "(\xE2\x88\x86goal %lld, cons/mark %s)%s\n",
        static_cast<int>(rng.Range(20, 60)), static_cast<unsigned long long>(heap_work),
        static_cast<unsigned long long>(rng.LogUniform(1e3, 4e7)),
        static_cast<unsigned long long>(rng.LogUniform(1e4, 4e6)),
        static_cast<unsigned long long>(static_cast<double>(heap_work) * rng.LogUniform(0.5, 2)),
        static_cast<unsigned long long>(trigger), static_cast<unsigned long long>(heap_live), delta,
        FormatGoFloat(rng.Chance(0.2) ? 0.0 : rng.LogUniform(0.01, 20)).c_str(),
        rng.Chance(0.01) ? "[controller reset]" : "");
  } else if (kind < 995) {
    n = std::snprintf(buf, sizeof(buf),
                      "pacer: sweep done at heap size %lluMB; allocated %lluMB during sweep; "
                      "swept %llu pages at %s pages/byte\n",
                      static_cast<unsigned long long>(live),
                      static_cast<unsigned long long>(rng.LogUniform(1, 200)) - 1,
                      static_cast<unsigned long long>(rng.LogUniform(10, 5e5)),
                      FormatGoFloat(rng.LogUniform(1e-6, 1e-3)).c_str());
  } else {
    n = std::snprintf(buf, sizeof(buf), "GC forced\n");
  }
  out.append(buf, static_cast<size_t>(n));
}

void AppendProgramLine(Prng& rng, std::string& out) {
  static constexpr const char* kPaths[] = {"/api/v1/items", "/api/v1/orders", "/healthz",
                                           "/metrics", "/api/v2/users/search"};
  static constexpr const char* kTables[] = {"orders", "users", "inventory", "sessions"};
  char buf[512];
  int n = 0;
  switch (rng.Below(4)) {
    case 0:
      n = std::snprintf(buf, sizeof(buf),
                        "2025/01/14 09:%02d:%02d.%06d INFO request served method=GET path=%s/%d "
                        "status=200 dur=%d.%03dms\n",
                        static_cast<int>(rng.Below(60)), static_cast<int>(rng.Below(60)),
                        static_cast<int>(rng.Below(1'000'000)),
                        kPaths[rng.Below(std::size(kPaths))], static_cast<int>(rng.Below(100'000)),
                        static_cast<int>(rng.Below(300)), static_cast<int>(rng.Below(1000)));
      break;
    case 1:
      n = std::snprintf(buf, sizeof(buf),
                        "level=info ts=2025-01-14T09:00:%02dZ caller=worker.go:%d "
                        "msg=\"batch flushed\" size=%d\n",
                        static_cast<int>(rng.Below(60)), static_cast<int>(rng.Range(20, 400)),
                        static_cast<int>(rng.Range(1, 4096)));
      break;
    case 2:
      n = std::snprintf(buf, sizeof(buf),
                        "{\"level\":\"warn\",\"msg\":\"slow query\",\"ms\":%d,\"table\":\"%s\"}\n",
                        static_cast<int>(rng.Range(100, 5000)),
                        kTables[rng.Below(std::size(kTables))]);
      break;
    default:
      n = std::snprintf(buf, sizeof(buf), "worker %d: processed %d jobs, %d retries\n",
                        static_cast<int>(rng.Below(64)), static_cast<int>(rng.Range(1, 100'000)),
                        static_cast<int>(rng.Below(10)));
      break;
  }
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

GctraceCorpus GenerateGctraceCorpus(size_t line_count, uint64_t seed) {
  GctraceCorpus c;
  c.text.reserve(line_count * 150);
  std::vector<size_t> ends;
  ends.reserve(line_count);
  Prng rng(seed);
  Process proc = NewProcess(rng);
  size_t lines_left_in_process = static_cast<size_t>(rng.Range(500, 20'000));
  for (size_t i = 0; i < line_count; ++i) {
    if (lines_left_in_process-- == 0) {
      proc = NewProcess(rng);
      lines_left_in_process = static_cast<size_t>(rng.Range(500, 20'000));
    }
    uint64_t roll = rng.Below(100);
    if (roll < 85) {
      AppendGcLine(rng, proc, c.text);
      ++c.gc_lines;
    } else if (roll < 95) {
      AppendPacerLine(rng, proc, c.text);
      ++c.pacer_lines;
    } else {
      AppendProgramLine(rng, c.text);
      ++c.other_lines;
    }
    ends.push_back(c.text.size() - 1);  // Position of the '\n'.
  }
  c.lines.reserve(ends.size());
  size_t begin = 0;
  for (size_t end : ends) {
    c.lines.emplace_back(c.text.data() + begin, end - begin);
    begin = end + 1;
  }
  return c;
}

}  // namespace gcpilot::bench
