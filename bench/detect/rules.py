#!/usr/bin/env python3
"""The Prometheus side of the detection benchmark: one alerting rule per gcpilot
detector, written in PromQL over gcpilot's exported metrics the way a user would
build it without gcpilot's detectors, plus two rules that merely forward gcpilot's
own verdicts (gcpilot_finding_active, gcpilot_breaker_state).

`R` is the rate window: 4 x the scrape interval (1m at the common 15 s, 4s at 1 s),
the usual rule of thumb (at least two samples in every window even with a missed
scrape). The growth rules (leak, surge) use 5 minutes like the detectors and
`for: 1m`, since a burst of goroutines or heap is not a leak and gcpilot also wants
60 s of samples; every other rule fires on the first evaluation that holds
(for: 0). Standard library only: `python3 rules.py 15 > rules.yml` prints the file.
"""

import sys

# The labels of one process (every per-process gcpilot series carries them).
BY = "job, instance, pid, binary, comm"
# 5 ms bucket edge of gcpilot_stw_pause_seconds (exact in the histogram).
SLO_LE = "0.005"

# detector -> (alert name, expr with {R}, for, note). None: no PromQL equivalent.
DETECTORS = {
    "allocation_storm": (
        "AllocationStorm",
        "rate(gcpilot_heap_allocated_bytes_total[{R}]) > 50e6",
        "0s", "alloc rate > 50 MB/s"),
    "pause_spike": (
        # A histogram has no per-window maximum and the spikes are ~1% of the pauses
        # (a P99 rule misses them): more than one GC pause above the 2.5 ms bucket in
        # R (gcpilot also wants a second spike) while the hour's P95 is under a third
        # of it (the "3 x its own P95" part).
        "PauseSpike",
        "sum by ({BY}) (increase(gcpilot_stw_pause_seconds_count{{reason=\"gc\"}}[{R}]))\n"
        "  - sum by ({BY}) (increase(gcpilot_stw_pause_seconds_bucket{{reason=\"gc\", le=\"0.0025\"}}[{R}])) > 1\n"
        "  and\n"
        "histogram_quantile(0.95, sum by ({BY}, le) (rate(gcpilot_stw_pause_seconds_bucket{{reason=\"gc\"}}[1h]))) < 0.0025 / 3",
        "0s", "more than one GC pause > 2.5 ms in R while the hour's P95 < 0.83 ms"),
    "mark_assist_stall": (
        "MarkAssistStall",
        "sum without (class) (rate(gcpilot_gc_cpu_seconds_total{{class=\"assist\"}}[{R}]))\n"
        "  / sum without (class) (rate(gcpilot_gc_cpu_seconds_total[{R}])) > 0.25\n"
        "  and\n"
        "sum without (class) (rate(gcpilot_gc_cpu_seconds_total{{class!=\"idle\"}}[{R}])) / gcpilot_gomaxprocs >= 0.05",
        "0s", "assist > 25% of GC CPU while GC >= 5% of the CPU"),
    "long_write_barrier": None,  # the concurrent mark's wall time is not exported
    "observer_stops": (
        "ObserverStops",
        "sum by ({BY}, reason) (rate(gcpilot_stw_pause_seconds_count{{kind=\"other\"}}[{R}])) >= 0.2",
        "0s", "non-GC stops of one reason >= 0.2/s"),
    "memory_limit_thrash": (
        "MemoryLimitThrash",
        "(gcpilot_heap_live_bytes >= 0.9 * gcpilot_memory_limit_bytes\n"
        "   or gcpilot_heap_goal_bytes >= 0.95 * gcpilot_memory_limit_bytes)\n"
        "  and gcpilot_memory_limit_bytes < 9e18\n"
        "  and (sum without (class) (rate(gcpilot_gc_cpu_seconds_total{{class!=\"idle\"}}[{R}])) / gcpilot_gomaxprocs >= 0.2\n"
        "       or rate(gcpilot_gc_cycles_total[{R}]) >= 2)",
        "0s", "live heap >= 90% of GOMEMLIMIT (or goal at it) and GC CPU >= 20% or >= 2 GC/s"),
    "goroutine_leak": (
        "GoroutineLeak",
        "deriv(gcpilot_goroutines[5m]) > 0\n"
        "  and gcpilot_goroutines - min_over_time(gcpilot_goroutines[5m]) >= 100\n"
        "  and gcpilot_goroutines >= 1.5 * min_over_time(gcpilot_goroutines[5m])",
        "1m", "goroutines +100 and +50% over 5 min, growing, for 1 min"),
    "heap_surge": (
        "HeapSurge",
        "deriv(gcpilot_heap_live_bytes[5m]) > 0\n"
        "  and gcpilot_heap_live_bytes - min_over_time(gcpilot_heap_live_bytes[5m]) >= 16777216\n"
        "  and gcpilot_heap_live_bytes >= 1.25 * min_over_time(gcpilot_heap_live_bytes[5m])",
        "1m", "live heap +16 MiB and +25% over 5 min, growing, for 1 min"),
}

# The breaker's Prometheus counterpart: share of pauses (GC and non-GC, as the
# breaker judges them) above the 5 ms bucket, > 1% (the SLO rules' bad window).
BREAKER = (
    "PauseSloBreach",
    "(sum by ({BY}) (rate(gcpilot_stw_pause_seconds_count[{R}]))\n"
    "   - sum by ({BY}) (rate(gcpilot_stw_pause_seconds_bucket{{le=\"{LE}\"}}[{R}])))\n"
    "  / sum by ({BY}) (rate(gcpilot_stw_pause_seconds_count[{R}])) > 0.01",
    "0s", "share of pauses above the 5 ms bucket > 1%")

# gcpilot's own verdicts through Prometheus (what a user routes to Alertmanager).
FORWARD = [
    ("GcpilotFinding", "gcpilot_finding_active == 1"),
    ("GcpilotBreakerOpen", "gcpilot_breaker_state == 2"),
]


def window(scrape_s):
    s = 4 * scrape_s
    return f"{s // 60}m" if s % 60 == 0 else f"{s}s"


def render(scrape_s):
    r = window(scrape_s)
    out = ["groups:", "  - name: gcpilot-detect-bench", "    rules:"]

    def rule(name, expr, for_, detector=None):
        out.append(f"      - alert: {name}")
        out.append("        expr: |")
        for line in expr.format(R=r, BY=BY, LE=SLO_LE).split("\n"):
            out.append("          " + line)
        out.append(f"        for: {for_}")
        if detector:
            out.append("        labels:")
            out.append(f"          bench_detector: {detector}")

    for det, spec in DETECTORS.items():
        if spec:
            rule(spec[0], spec[1], spec[2], det)
    rule(BREAKER[0], BREAKER[1], BREAKER[2], "breaker")
    for name, expr in FORWARD:
        rule(name, expr, "0s")
    return "\n".join(out) + "\n"


def alert_name(detector):
    if detector == "breaker":
        return BREAKER[0]
    spec = DETECTORS.get(detector)
    return spec[0] if spec else None


if __name__ == "__main__":
    sys.stdout.write(render(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
