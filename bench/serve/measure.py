#!/usr/bin/env python3
"""Measurements of the serve benchmark (bench/serve/driver.py uses them).

The 1-s sampler of the agent and the workloads and the per-phase summary (CPU %
of one core from utime+stime deltas, RSS, GC/s from the agent's cycle count), the
timed GETs of /metrics, the latency joins (pause end -> SSE client, pause end ->
Prometheus query), Prometheus's own scrape_duration_seconds, and the optional perf
profile of the agent. Standard library only.
"""

import csv
import os
import statistics
import subprocess
import threading
import time

from services import http_get, loadavg, log, mono_ns, proc_cpu_s, proc_rss_mb


def pct(xs, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def dist(xs):
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99),
            "max": max(xs), "mean": statistics.fmean(xs)}


# ---------------------------------------------------------------- sampling


class Sampler:
    """Every second: agent CPU and RSS, workloads' CPU, the agent's status."""

    def __init__(self):
        self.lock = threading.Lock()
        self.agent = None
        self.workloads = None
        self.extra_pids = {}  # name -> callable returning pids (prometheus, chromium...)
        self.samples = []
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def take(self):
        t = time.monotonic()
        s = {"t": t}
        agent, workloads = self.agent, self.workloads
        if agent is not None:
            s["agent_cpu_s"] = proc_cpu_s(agent.pid)
            s["agent_rss_mb"] = proc_rss_mb(agent.pid)
            try:
                st = agent.status()
                s["cycles"] = st["stats"]["cycles"]
                s["drops"] = st["stats"]["drops"]
                s["missed"] = st["stats"]["missed"]
                s["sse_clients"] = st["sse"]["clients"]
                s["sse_dropped"] = st["sse"]["dropped_clients"]
                s["sse_messages"] = st["sse"]["messages"]
                s["processes_live"] = st["processes_live"]
            except Exception as e:  # a busy agent: the CPU sample still counts
                s["status_error"] = str(e)
        if workloads is not None:
            s["workloads_cpu_s"] = workloads.cpu_s()
        for name, pids in list(self.extra_pids.items()):
            s[f"{name}_cpu_s"] = sum(proc_cpu_s(p) for p in pids())
        return s

    def loop(self):
        next_t = time.monotonic()
        while not self.stop_ev.is_set():
            s = self.take()
            with self.lock:
                self.samples.append(s)
            next_t += 1.0
            self.stop_ev.wait(max(0.0, next_t - time.monotonic()))

    def phase(self, name, seconds):
        """Waits `seconds` and returns the phase's statistics."""
        log(f"phase {name}: {seconds:.0f} s (load average {loadavg()})")
        first = self.take()
        start_mono = mono_ns()
        with self.lock:
            i0 = len(self.samples)
        time.sleep(seconds)
        last = self.take()
        with self.lock:
            inner = self.samples[i0:]
        ss = [first] + inner + [last]
        return summarize_phase(name, ss, start_mono, mono_ns())


def summarize_phase(name, ss, start_ns, end_ns):
    el = ss[-1]["t"] - ss[0]["t"]
    r = {"phase": name, "seconds": el, "start_ns": start_ns, "end_ns": end_ns,
         "loadavg_end": loadavg()}

    def rate(key):
        xs = [s for s in ss if key in s]
        if len(xs) < 2:
            return None, None
        whole = (xs[-1][key] - xs[0][key]) / (xs[-1]["t"] - xs[0]["t"])
        # Median over 5-s blocks: CPU times tick at 1/CLK_TCK (10 ms), too coarse for
        # 1-s samples of a process using a few % of a core.
        blocks = xs[::5] if (len(xs) - 1) % 5 == 0 else xs[::5] + [xs[-1]]
        per = [(b[key] - a[key]) / (b["t"] - a["t"]) for a, b in zip(blocks, blocks[1:])
               if b["t"] - a["t"] > 2.5]
        return whole, (statistics.median(per) if per else None)

    for key, out in (("agent_cpu_s", "agent_cpu_pct"), ("workloads_cpu_s", "workloads_cpu_pct"),
                     ("prometheus_cpu_s", "prometheus_cpu_pct"),
                     ("chromium_cpu_s", "chromium_cpu_pct"), ("clients_cpu_s", "clients_cpu_pct")):
        whole, med = rate(key)
        if whole is not None:
            r[out] = whole * 100
            r[out + "_median"] = med * 100 if med is not None else None
    rss = [s["agent_rss_mb"] for s in ss if s.get("agent_rss_mb")]
    if rss:
        r["agent_rss_mb_mean"] = statistics.fmean(rss)
        r["agent_rss_mb_max"] = max(rss)
        # Growth while the history fills (least squares over the 1-s samples).
        pts = [(s["t"], s["agent_rss_mb"], s.get("cycles")) for s in ss if s.get("agent_rss_mb")]
        if len(pts) >= 5:
            r["agent_rss_mb_per_min"] = slope([p[0] for p in pts], [p[1] for p in pts]) * 60
            cp = [p for p in pts if p[2] is not None]
            if len(cp) >= 5 and cp[-1][2] > cp[0][2]:
                r["agent_rss_bytes_per_cycle"] = slope([p[2] for p in cp],
                                                       [p[1] for p in cp]) * 1e6
    whole, med = rate("cycles")
    if whole is not None:
        r["gc_per_s"] = whole
        r["gc_per_s_median"] = med
    for key in ("drops", "missed", "sse_dropped", "sse_messages"):
        xs = [s[key] for s in ss if key in s]
        if len(xs) >= 2:
            r[key + "_delta"] = xs[-1] - xs[0]
    xs = [s["sse_clients"] for s in ss if "sse_clients" in s]
    if xs:
        r["sse_clients"] = statistics.median(xs)
    xs = [s["processes_live"] for s in ss if "processes_live" in s]
    if xs:
        r["processes_live"] = statistics.median(xs)
    r["status_errors"] = sum("status_error" in s for s in ss)
    log(f"  agent CPU {fmt(r.get('agent_cpu_pct'), 2)}% (median {fmt(r.get('agent_cpu_pct_median'), 2)}%)"
        f", RSS max {fmt(r.get('agent_rss_mb_max'), 1)} MB, workloads CPU "
        f"{fmt(r.get('workloads_cpu_pct'), 1)}%, GC/s {fmt(r.get('gc_per_s'), 0)}")
    return r


def slope(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def fmt(x, nd=1):
    if x is None:
        return "n/a"
    return f"{x:.{nd}f}"


# ---------------------------------------------------------------- measurements


def time_metrics(port, n, gap_s):
    """n GETs of /metrics on fresh connections: latency, size, series."""
    lat, sizes, series = [], [], []
    for _ in range(n):
        status, _, body, secs = http_get(port, "/metrics", timeout=30)
        if status == 200:
            lat.append(secs * 1e3)
            sizes.append(len(body))
            series.append(sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#")))
        time.sleep(gap_s)
    d = dist(lat)
    d["bytes_median"] = statistics.median(sizes) if sizes else None
    d["series_median"] = statistics.median(series) if series else None
    d["errors"] = n - len(lat)
    return d


def read_cycles(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for r in csv.DictReader(f):
            out.append((int(r["pid"]), int(r["seq"]), int(r["end_ns"]), int(r["arrival_ns"])))
    return out


def sse_latency(cycles, start_ns, end_ns):
    return dist([(a - e) / 1e6 for _, _, e, a in cycles if start_ns <= e < end_ns])


def prom_visibility(cycles, poll_csv, start_ns, end_ns):
    """Pause end -> first Prometheus answer counting it, for cycles ending in [start, end)."""
    first = {}   # pid -> first value seen (cycles up to it predate the window)
    seen = {}    # pid -> [(value, seen_ns)] increasing
    with open(poll_csv) as f:
        for r in csv.DictReader(f):
            pid, v, t = int(r["pid"]), int(r["value"]), int(r["seen_ns"])
            first.setdefault(pid, v)
            seen.setdefault(pid, []).append((v, t))
    lat, unseen = [], 0
    for pid, seq, e, _ in cycles:
        if not (start_ns <= e < end_ns) or pid not in seen or seq <= first[pid]:
            continue
        t = next((t for v, t in seen[pid] if v >= seq), None)
        if t is None:
            unseen += 1
        else:
            lat.append((t - e) / 1e9)
    d = dist(lat)
    d["unseen"] = unseen
    return d


def prom_scrape_stats(prom, seconds):
    rng = f"[{max(5, int(seconds))}s]"
    sel = 'scrape_duration_seconds{job="gcpilot"}'
    out = {}
    for key, expr in (("p50", f"quantile_over_time(0.5, {sel}{rng})"),
                      ("p99", f"quantile_over_time(0.99, {sel}{rng})"),
                      ("max", f"max_over_time({sel}{rng})"),
                      ("n", f"count_over_time({sel}{rng})"),
                      ("samples", 'scrape_samples_scraped{job="gcpilot"}'),
                      ("up", 'up{job="gcpilot"}')):
        try:
            v = prom.query(expr)
        except Exception as e:
            log(f"prometheus query {expr}: {e}")
            v = None
        out[key] = v * 1e3 if v is not None and key in ("p50", "p99", "max") else v
    return out


def perf_profile(pid, seconds, outdir, tag):
    try:
        return _perf_profile(pid, seconds, outdir, tag)
    except Exception as e:  # a profile is a bonus: never lose the run for it
        log(f"perf profile failed: {e}")
        return {"error": str(e)}


def _perf_profile(pid, seconds, outdir, tag):
    data = os.path.join(outdir, f"perf-{tag}.data")
    # DWARF unwinding: the binary has no frame pointers.
    r = subprocess.run(["perf", "record", "-F", "199", "--call-graph", "dwarf,16384", "-p",
                        str(pid), "-o", data, "--", "sleep", str(seconds)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-300:]}
    out = {}
    for name, extra in (("children", ["--children", "--sort", "symbol"]),
                        ("self", ["--no-children", "--sort", "dso,symbol"])):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none",
                              "--percent-limit", "2"] + extra, capture_output=True, text=True)
        with open(os.path.join(outdir, f"perf-report-{tag}-{name}.txt"), "w") as f:
            f.write(rep.stdout)
        lines = [" ".join(line.split()).removesuffix(" - -") for line in rep.stdout.splitlines()
                 if line.strip() and not line.startswith("#") and "(inlined)" not in line]
        if name == "children":
            # Inclusive time of the agent's own functions: where its CPU goes.
            lines = [line[:150] for line in lines
                     if any(k in line for k in ("gcpilot::serve", "gcpilot::Cycle", "SseHub",
                                                 "Sliding", "TextSerializer",
                                                 "httplib::Server::process_r",
                                                 "ring_buffer__poll", "DumpJson"))]
        out[name] = lines[:14]
    return out
