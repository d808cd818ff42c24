#!/usr/bin/env python3
"""Driver of the serve benchmark (run it through bench/serve_bench.sh).

What `gcpilot serve` costs on a node and how fast it shows a pause, in one run:

  idle       the agent (--exe WORKLOAD) with nothing to watch
  baseline   N workloads (bench/serve/workload, ~10 GC/s each), no agent: their own CPU
  agent      the same workloads watched by the agent
  full       + Prometheus scraping /metrics every 1 s, a headless chromium on the
             dashboard (/) and an SSE consumer that stands in for the dashboard when
             / is not served; the SSE latency client and the Prometheus poller run
             from here to the end
  scrape     (still full) N timed GETs of /metrics
  fanout     + 100 raw SSE clients
  prom15     (default run only) Prometheus reloaded with scrape_interval 15 s, SSE
             clients of the fanout gone
  profile    (default run only, when perf exists) perf record -g of the agent, full load

Each phase: the agent's CPU (utime+stime deltas of /proc/PID/stat, % of one core;
whole phase and median of 1-s samples) and RSS (VmRSS each second: mean, max), the
workloads' CPU, the agent's cycle count (/api/v1/status stats.cycles: GC/s) and
stream counters. Latencies come from sse_client.py (pause end -> event at a client)
and prom_poll.py (pause end -> visible to a Prometheus query).

Prints a Markdown table with PASS/FAIL against targets on stdout and writes
results.json (everything) and phases.csv to --out. Standard library only.
"""

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
HERE = os.path.dirname(os.path.abspath(__file__))
CHILDREN = []  # (Popen, process group?) we started, stopped on exit
PIDFILE = None

TARGETS = {
    "idle_cpu_pct": 1.0,        # agent, nothing to watch
    "agent_cpu_pct": 5.0,       # 50 processes, ~500 GC/s, Prometheus 1 s + dashboard
    "fanout_cpu_pct": 25.0,     # the same + 100 SSE clients
    "rss_mb": 100.0,            # agent RSS, any phase
    "sse_p99_ms": 50.0,         # pause end -> SSE event at a client
    "metrics_p99_ms": 100.0,    # GET /metrics at that load
}


def log(msg):
    print(f"serve-bench: {msg}", file=sys.stderr, flush=True)


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def _child_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(argv, group=False, **kw):
    """Starts a child; group=True puts it in its own process group (chromium)."""
    if group:
        p = subprocess.Popen(argv, start_new_session=True, **kw)
    else:
        p = subprocess.Popen(argv, preexec_fn=_child_signals, **kw)
    CHILDREN.append((p, group))
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{-p.pid if group else p.pid}\n")
    return p


def stop(p, sig=signal.SIGTERM, timeout=10, group=False):
    if p is None or p.poll() is not None:
        return
    try:
        if group:
            os.killpg(p.pid, sig)
        else:
            p.send_signal(sig)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(p.pid, signal.SIGKILL)
        else:
            p.kill()
        p.wait()
    except ProcessLookupError:
        pass


def stop_all():
    for p, group in reversed(CHILDREN):
        stop(p, timeout=5, group=group)


# ---------------------------------------------------------------- /proc


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError):
        return 0.0


def proc_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / 1e6
    except (OSError, IndexError):
        return 0.0


def group_pids(pgid):
    """Pids of a process group (chromium's browser, renderer, GPU... processes)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                out.append(int(d))
        except (OSError, IndexError):
            pass
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- HTTP


def http_get(port, path, timeout=10):
    """(status, headers, body, seconds) of one GET on a fresh connection."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, dict(r.getheaders()), body, time.monotonic() - t0
    finally:
        conn.close()


def get_json(port, path):
    status, _, body, _ = http_get(port, path)
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}")
    return json.loads(body)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# ---------------------------------------------------------------- agent, workloads


class Agent:
    def __init__(self, gcpilot, workload, outdir, name):
        self.port = free_port()
        self.log_path = os.path.join(outdir, f"agent-{name}.stderr.log")
        self.log = open(self.log_path, "w")
        self.proc = spawn([gcpilot, "serve", "--listen", f"127.0.0.1:{self.port}",
                           "--exe", workload],
                          stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gcpilot serve exited (see {self.log_path})")
            try:
                if http_get(self.port, "/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gcpilot serve not ready after 60 s (see {self.log_path})")
            time.sleep(0.1)

    def status(self):
        return get_json(self.port, "/api/v1/status")

    def close(self):
        stop(self.proc, timeout=15)
        self.log.close()


class Workloads:
    def __init__(self, binary, n, gc_rate):
        env = dict(os.environ, GOGC="25", GOMAXPROCS="1")
        env.pop("GODEBUG", None)
        self.procs = [spawn([binary, "-gc-rate", str(gc_rate)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(n)]
        self.pids = [p.pid for p in self.procs]

    def cpu_s(self):
        return sum(proc_cpu_s(p) for p in self.pids)

    def alive(self):
        return sum(p.poll() is None for p in self.procs)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Prometheus:
    def __init__(self, binary, workdir, outdir, target_port):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(os.path.join(self.dir, "tsdb"), exist_ok=True)
        self.config = os.path.join(self.dir, "prometheus.yml")
        self.target_port = target_port
        self.write_config(1)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(outdir, "prometheus.stderr.log"), "w")
        self.proc = spawn([binary, f"--config.file={self.config}",
                           f"--storage.tsdb.path={os.path.join(self.dir, 'tsdb')}",
                           f"--web.listen-address=127.0.0.1:{self.port}",
                           "--log.level=warn"],
                          stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited (see prometheus.stderr.log)")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus not ready after 60 s")
            time.sleep(0.2)

    def write_config(self, interval_s):
        self.interval_s = interval_s
        with open(self.config, "w") as f:
            f.write("global:\n"
                    f"  scrape_interval: {interval_s}s\n"
                    f"  scrape_timeout: {min(interval_s, 10)}s\n"
                    "  evaluation_interval: 15s\n"
                    "scrape_configs:\n"
                    "  - job_name: gcpilot\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.target_port}']\n")

    def reload(self, interval_s):
        self.write_config(interval_s)
        self.proc.send_signal(signal.SIGHUP)

    def query(self, expr):
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
        res = body.get("data", {}).get("result", [])
        return float(res[0]["value"][1]) if res else None

    def close(self):
        stop(self.proc, timeout=20)
        self.log.close()


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


# ---------------------------------------------------------------- report


def report(res):
    ph = {p["phase"]: p for p in res["phases"]}
    L = []
    a = L.append
    a("")
    a(f"gcpilot serve benchmark ({res['mode']}), {res['host']['cpus']} CPUs, "
      f"{res['date']}, load average at start {res['host']['loadavg_start']}")
    a(f"{res['procs']} Go workloads (bench/serve/workload, GOGC=25, GOMAXPROCS=1, aiming at "
      f"{res['gc_rate']} GC/s each); dashboard at /: {res['dashboard']}")
    a("")
    a("| phase | s | agent CPU % of 1 core: phase [median of 5 s] | agent RSS MB mean / max "
      "| workloads CPU % | GC/s counted (by cycle end) | SSE clients | dropped clients |")
    a("|---|---:|---:|---:|---:|---:|---:|---:|")
    names = {
        "idle": "agent idle (no workloads)",
        "baseline": f"baseline: {res['procs']} workloads, no agent",
        "agent": f"agent + {res['procs']} workloads",
        "full": "+ Prometheus (1 s) + dashboard/SSE",
        "fanout": "+ 100 SSE clients",
        "prom15": "Prometheus 15 s, no fanout",
    }
    for key, label in names.items():
        p = ph.get(key)
        if not p:
            continue
        cpu = (f"{fmt(p.get('agent_cpu_pct'), 2)} [{fmt(p.get('agent_cpu_pct_median'), 2)}]"
               if "agent_cpu_pct" in p else "-")
        rss = (f"{fmt(p.get('agent_rss_mb_mean'))} / {fmt(p.get('agent_rss_mb_max'))}"
               if "agent_rss_mb_max" in p else "-")
        a(f"| {label} | {p['seconds']:.0f} | {cpu} | {rss} | {fmt(p.get('workloads_cpu_pct'))} "
          f"| {fmt(p.get('gc_per_s'), 0) if 'gc_per_s' in p else '-'}"
          f"{' (' + fmt(p['gc_per_s_by_end'], 0) + ')' if 'gc_per_s_by_end' in p else ''} "
          f"| {int(p['sse_clients']) if 'agent_cpu_pct' in p and 'sse_clients' in p else '-'} "
          f"| {p.get('sse_dropped_delta', '-') if 'agent_cpu_pct' in p else '-'} |")
    a("")
    a("| latency | n | p50 | p99 | max | target |")
    a("|---|---:|---:|---:|---:|---|")
    m = res["metrics_get"]
    a(f"| GET /metrics, client, ms ({fmt(m.get('bytes_median'), 0)} bytes, "
      f"{fmt(m.get('series_median'), 0)} series) | {m['n']} | {fmt(m.get('p50'), 2)} "
      f"| {fmt(m.get('p99'), 2)} | {fmt(m.get('max'), 2)} | p99 < {TARGETS['metrics_p99_ms']:.0f} ms |")
    s = res["prom_scrape"]
    a(f"| Prometheus scrape_duration_seconds, ms ({fmt(s.get('samples'), 0)} samples/scrape) "
      f"| {fmt(s.get('n'), 0)} | {fmt(s.get('p50'), 2)} | {fmt(s.get('p99'), 2)} "
      f"| {fmt(s.get('max'), 2)} | |")
    for key, label in (("sse_full", "pause end -> SSE event at client, ms"),
                       ("sse_full_quickack", "the same, client with TCP_QUICKACK (diagnostic), ms"),
                       ("sse_fanout", "the same, with 100 more SSE clients, ms")):
        d = res.get(key)
        if d and d["n"]:
            target = f"p99 < {TARGETS['sse_p99_ms']:.0f} ms" if key != "sse_full_quickack" else ""
            a(f"| {label} | {d['n']} | {fmt(d['p50'], 2)} | {fmt(d['p99'], 2)} | {fmt(d['max'], 2)} "
              f"| {target} |")
    for key, label in (("prom1", "pause end -> Prometheus query (1 s scrape), s"),
                       ("prom15", "pause end -> Prometheus query (15 s scrape), s")):
        d = res.get(key)
        if d and d.get("n"):
            a(f"| {label} | {d['n']} | {fmt(d['p50'], 2)} | {fmt(d['p99'], 2)} | {fmt(d['max'], 2)} | |")
    d = res.get("prom15_model")
    if d:
        a(f"| pause end -> Prometheus query (15 s scrape), s, model: U(0, 15 s) wait + the "
          f"{fmt(d['overhead_s'], 2)} s the 1 s run measured beyond its own U(0, 1 s) wait | - | {fmt(d['p50'], 2)} | {fmt(d['p99'], 2)} | {fmt(d['max'], 2)} | |")
    a("")
    checks = res["checks"]
    a("Targets: " + " | ".join(f"{c['what']}: {c['verdict']} ({c['value']})" for c in checks))
    a("")
    a("Other CPU (% of one core) in the full phase: "
      f"Prometheus {fmt(ph.get('full', {}).get('prometheus_cpu_pct'))}, "
      f"chromium {fmt(ph.get('full', {}).get('chromium_cpu_pct'))}, "
      f"benchmark clients {fmt(ph.get('full', {}).get('clients_cpu_pct'))}; "
      f"fanout clients {fmt(ph.get('fanout', {}).get('clients_cpu_pct'))} "
      f"(they read {fmt(res.get('fanout', {}).get('mb_per_s'))} MB/s in all).")
    a(f"Agent counters over the run: {res['agent_end']}")
    ag = ph.get("agent", {})
    if "agent_rss_mb_per_min" in ag:
        h = res.get("history", {})
        a(f"Agent RSS while its history fills (agent phase, no clients): "
          f"+{fmt(ag['agent_rss_mb_per_min'])} MB/min, "
          f"{fmt(ag.get('agent_rss_bytes_per_cycle'), 0)} bytes per cycle received "
          f"(history limits: retention {fmt(h.get('retention_s'), 0)} s, "
          f"max_cycles_per_process {h.get('max_cycles_per_process')}); this run is too short "
          f"to reach them, so the plateau is not measured.")
    for key, what in (("profile", "Prometheus 1 s + dashboard/SSE clients"),
                      ("profile_fanout", f"the same + {res.get('fanout', {}).get('clients', 100)} SSE clients")):
        if res.get(key, {}).get("children"):
            a("")
            a(f"perf profile of the agent ({what}; inclusive % of the agent's samples, "
              "agent functions >= 2%):")
            a("```")
            for line in res[key]["children"]:
                a(line)
            a("```")
    return "\n".join(L)


def checks(res):
    ph = {p["phase"]: p for p in res["phases"]}
    out = []

    def check(what, value, target, unit, fmt_nd=2):
        if value is None:
            out.append({"what": what, "verdict": "n/a", "value": "not measured"})
            return
        out.append({"what": what, "verdict": "PASS" if value < target else "FAIL",
                    "value": f"{value:.{fmt_nd}f}{unit} vs < {target:g}{unit}"})

    check("agent CPU idle", ph.get("idle", {}).get("agent_cpu_pct_median"),
          TARGETS["idle_cpu_pct"], "%")
    check("agent CPU with Prometheus + dashboard", ph.get("full", {}).get("agent_cpu_pct_median"),
          TARGETS["agent_cpu_pct"], "%")
    check("agent CPU with 100 SSE clients", ph.get("fanout", {}).get("agent_cpu_pct_median"),
          TARGETS["fanout_cpu_pct"], "%")
    rss = [p.get("agent_rss_mb_max") for p in res["phases"]
           if p.get("agent_rss_mb_max") and p["phase"] in ("idle", "agent", "full")]
    check(f"agent RSS max ({res['procs']} processes, Prometheus + dashboard)",
          max(rss) if rss else None, TARGETS["rss_mb"], " MB", 1)
    check("SSE p99", res.get("sse_full", {}).get("p99"), TARGETS["sse_p99_ms"], " ms")
    check("/metrics p99", res.get("metrics_get", {}).get("p99"), TARGETS["metrics_p99_ms"], " ms")
    dropped = ph.get("fanout", {}).get("sse_dropped_delta")
    out.append({"what": "dropped SSE clients (100 clients)",
                "verdict": "n/a" if dropped is None else ("PASS" if dropped == 0 else "FAIL"),
                "value": f"{dropped}"})
    return out


# ---------------------------------------------------------------- main


def main():
    global PIDFILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gcpilot", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--procs", type=int, default=50)
    ap.add_argument("--gc-rate", type=float, default=10)
    ap.add_argument("--fanout-clients", type=int, default=100)
    ap.add_argument("--prometheus", default=shutil.which("prometheus"))
    ap.add_argument("--chromium", default=shutil.which("chromium"))
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    PIDFILE = args.pidfile
    os.makedirs(args.out, exist_ok=True)

    q = args.quick
    T = {"idle": 15 if q else 45, "warm": 5, "baseline": 15 if q else 60,
         "agent": 20 if q else 60, "full": 30 if q else 120, "gets": 100 if q else 200,
         "fanout": 20 if q else 60, "prom15": 0 if q else 95, "profile": 0 if q else 15}
    res = {"mode": "quick" if q else "default", "procs": args.procs, "gc_rate": args.gc_rate,
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "host": {"cpus": os.cpu_count(), "loadavg_start": loadavg(),
                    "kernel": os.uname().release},
           "targets": TARGETS, "durations": T, "phases": []}
    log(f"load average at start: {res['host']['loadavg_start']} ({os.cpu_count()} CPUs)")

    sampler = Sampler()
    phases = res["phases"]
    clients = {}
    try:
        # 1. idle agent.
        agent = Agent(args.gcpilot, args.workload, args.out, "idle")
        sampler.agent = agent
        time.sleep(2)
        phases.append(sampler.phase("idle", T["idle"]))
        sampler.agent = None
        agent.close()

        # 2. workloads alone.
        log(f"starting {args.procs} workloads")
        work = Workloads(args.workload, args.procs, args.gc_rate)
        sampler.workloads = work
        time.sleep(T["warm"])
        phases.append(sampler.phase("baseline", T["baseline"]))

        # 3. agent + workloads.
        agent = Agent(args.gcpilot, args.workload, args.out, "main")
        sampler.agent = agent
        time.sleep(T["warm"])
        phases.append(sampler.phase("agent", T["agent"]))

        # 4. Prometheus, dashboard, SSE latency client, Prometheus poller.
        port = agent.port
        st, hdr, body, _ = http_get(port, "/")
        ctype = {k.lower(): v for k, v in hdr.items()}.get("content-type", "")
        served = st == 200 and "html" in ctype
        res["dashboard"] = ("served (chromium renders it)" if served else
                            f"not served (GET / -> {st} {ctype}): an SSE consumer that parses "
                            "every event and reloads /api/v1/processes every 10 s stands in "
                            "for it; chromium kept open on /")
        log(f"dashboard: {res['dashboard']}")
        prom = None
        if args.prometheus:
            prom = Prometheus(args.prometheus, args.workdir, args.out, port)
            sampler.extra_pids["prometheus"] = lambda: [prom.proc.pid]
        else:
            log("prometheus not found: Prometheus rows are skipped")
        chromium = None
        if args.chromium:
            profile_dir = os.path.join(args.workdir, "chromium-profile")
            chromium = spawn([args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                              "--remote-debugging-port=0", f"--user-data-dir={profile_dir}",
                              "--no-first-run", f"http://127.0.0.1:{port}/"],
                             group=True, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(args.out, "chromium.stderr.log"), "w"))
            sampler.extra_pids["chromium"] = lambda: group_pids(chromium.pid)
        else:
            log("chromium not found: no browser")
        py = sys.executable
        lat_csv = os.path.join(args.out, "sse-cycles.csv")
        clients["latency"] = spawn([py, os.path.join(HERE, "sse_client.py"), "latency",
                                    "--port", str(port), "--out", lat_csv,
                                    "--summary", os.path.join(args.out, "sse-latency.json")])
        lat_qa_csv = os.path.join(args.out, "sse-cycles-quickack.csv")
        clients["latency_qa"] = spawn([py, os.path.join(HERE, "sse_client.py"), "latency",
                                       "--quickack", "--port", str(port), "--out", lat_qa_csv,
                                       "--summary",
                                       os.path.join(args.out, "sse-latency-quickack.json")])
        if not served:
            clients["dashboard"] = spawn([py, os.path.join(HERE, "sse_client.py"), "dashboard",
                                          "--port", str(port),
                                          "--summary", os.path.join(args.out, "sse-dashboard.json")])
        poll_csv = os.path.join(args.out, "prom-poll.csv")
        if prom:
            clients["poll"] = spawn([py, os.path.join(HERE, "prom_poll.py"), "--prometheus",
                                     prom.url, "--out", poll_csv])
        sampler.extra_pids["clients"] = lambda: [p.pid for p in clients.values()]
        time.sleep(T["warm"])
        full = sampler.phase("full", T["full"])
        phases.append(full)
        res["prom_scrape"] = prom_scrape_stats(prom, full["seconds"]) if prom else {}

        log(f"timing {T['gets']} GETs of /metrics")
        t0 = mono_ns()
        res["metrics_get"] = time_metrics(port, T["gets"], 0.1)
        res["metrics_get"]["start_ns"], res["metrics_get"]["end_ns"] = t0, mono_ns()
        log(f"  p50 {fmt(res['metrics_get'].get('p50'), 2)} ms, p99 "
            f"{fmt(res['metrics_get'].get('p99'), 2)} ms")
        full_end = mono_ns()

        # 5. + fanout clients.
        fan_summary = os.path.join(args.out, "sse-fanout.json")
        clients["fanout"] = spawn([py, os.path.join(HERE, "sse_client.py"), "fanout",
                                   "--port", str(port), "--clients", str(args.fanout_clients),
                                   "--summary", fan_summary])
        time.sleep(T["warm"])
        fan = sampler.phase("fanout", T["fanout"])
        phases.append(fan)
        stop(clients.pop("fanout"))
        try:
            with open(fan_summary) as f:
                res["fanout"] = json.load(f)
            res["fanout"]["mb_per_s"] = None
        except (OSError, ValueError):
            res["fanout"] = {}
        prom15_start = None
        if T["prom15"] and prom:
            prom.reload(15)
            prom15_start = mono_ns()
            time.sleep(2)
            phases.append(sampler.phase("prom15", T["prom15"]))
        prom15_end = mono_ns()
        if T["profile"] and shutil.which("perf") and not args.no_profile:
            if prom:
                prom.reload(1)
            time.sleep(2)
            log(f"perf record of the agent for {T['profile']} s (Prometheus 1 s + SSE clients)")
            res["profile"] = perf_profile(agent.pid, T["profile"], args.out, "full")
            clients["fanout"] = spawn([py, os.path.join(HERE, "sse_client.py"), "fanout",
                                       "--port", str(port), "--clients", str(args.fanout_clients)])
            time.sleep(T["warm"])
            log(f"perf record of the agent for {T['profile']} s (+ {args.fanout_clients} SSE clients)")
            res["profile_fanout"] = perf_profile(agent.pid, T["profile"], args.out, "fanout")
            stop(clients.pop("fanout"))

        st = agent.status()
        res["agent_end"] = st["stats"]
        res["history"] = st.get("history", {})
        for name in list(clients):
            stop(clients.pop(name))
        # Latencies.
        cyc = read_cycles(lat_csv)
        res["sse_full"] = sse_latency(cyc, full["start_ns"], full_end)
        res["sse_fanout"] = sse_latency(cyc, fan["start_ns"], fan["end_ns"])
        cyc_qa = read_cycles(lat_qa_csv)
        res["sse_full_quickack"] = sse_latency(cyc_qa, full["start_ns"], full_end)
        # The workloads' GC rate by cycle end time (independent of when the agent
        # counted them): tells a slow agent from slowed workloads.
        for p in (full, fan):
            n = sum(1 for _, _, e, _ in cyc if p["start_ns"] <= e < p["end_ns"])
            p["gc_per_s_by_end"] = n / ((p["end_ns"] - p["start_ns"]) / 1e9)
        if prom and os.path.exists(poll_csv):
            # Cycles that ended at least 2 scrape intervals before the poller stopped.
            res["prom1"] = prom_visibility(cyc, poll_csv, full["start_ns"], full_end - 2 * 10**9)
            if prom15_start:
                res["prom15"] = prom_visibility(cyc, poll_csv, prom15_start + 1 * 10**9,
                                                prom15_end - 17 * 10**9)
            # Model: the wait for the next scrape is U(0, interval); the rest of the
            # 1 s measurement (scrape, ingestion, this poller's 0.1 s period) is added.
            p1 = res["prom1"]
            if p1.get("n"):
                over = max(0.0, p1["p50"] - 0.5)
                res["prom15_model"] = {"p50": 7.5 + over, "p99": 14.85 + over, "max": 15 + over,
                                       "overhead_s": over}
        if res.get("fanout"):
            fb = res["fanout"].get("bytes", 0)
            res["fanout"]["mb_per_s"] = fb / 1e6 / max(1.0, fan["seconds"] + T["warm"])
        res["checks"] = checks(res)
        if chromium:
            stop(chromium, group=True)
        if prom:
            prom.close()
        agent.close()
        work.close()
    finally:
        sampler.stop_ev.set()
        stop_all()

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(args.out, "phases.csv"), "w") as f:
        keys = sorted({k for p in res["phases"] for k in p})
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for p in res["phases"]:
            w.writerow(p)
    text = report(res)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    main()
