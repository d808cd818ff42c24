#!/usr/bin/env python3
"""Driver of the detection benchmark (run it through bench/detect_bench.sh).

How fast gcpilot names a GC jitter pattern, against a Prometheus-alert pipeline
built on gcpilot's own /metrics, in the same run. Two Prometheus servers scrape the
agent for the whole benchmark: one at the common 15 s scrape and evaluation
interval, one at 1 s; each loads bench/detect/rules.py's alerting rules (one PromQL
rule per detector, the breaker's pause-SLO rule, and two rules that forward
gcpilot's own verdicts: gcpilot_finding_active, gcpilot_breaker_state).

Per run (a workload of tests/testprogs that produces one pattern for real): the
workload starts gated (-start-file), `gcpilot serve --pid P` watches it (and the
`steady` control, which runs for the whole benchmark), an SSE client follows
/api/v1/stream; once both Prometheus servers hold the process's series, the gate
opens at a chosen phase of the 15 s scrape cycle (rep k of n at (k+0.5)/n of it, so
a few reps sample the phase evenly instead of by chance), and the driver records,
against the gate's wall time: the SSE `finding` event's arrival, and the first
/api/v1/alerts poll (every 0.1 s) showing each alert firing. The breaker run
(breakersvc: runtime.Stack of 3000 goroutines every 100 ms, 10-60 ms stops) is
timed from the first long stop (the service writes its wall time) to /ready/<pid>
answering 503 (polled every 10 ms), the SSE `breaker` event, and the alerts.
A run ends when everything fired or at its timeout. Every run holds the eBPF tests'
lock (/tmp/gcpilot-ebpf-tests.lock) while its agent runs, so a concurrent test
suite's probe checks never see this benchmark's probes.

Prints a Markdown table on stdout, writes results.json, table.md, the rule files
and the logs to --out. Standard library only; services.py (bench/serve) starts and
stops processes and Prometheus.
"""

import argparse
import datetime
import fcntl
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "serve"))
import rules  # noqa: E402
import services  # noqa: E402
from services import Prometheus, free_port, http_get, loadavg, spawn, stop, stop_all  # noqa: E402

EBPF_LOCK = "/tmp/gcpilot-ebpf-tests.lock"


def log(msg):
    print(f"detect_bench: {msg}", file=sys.stderr, flush=True)


# name, program, env, args, expected detectors, timeout s, reps (default, quick)
RUNS = [
    ("storm", "storm", {}, "-rate-mbps 200", ["allocation_storm"], 60, 3, 1),
    ("pausespike", "pausespike", {"GODEBUG": "asyncpreemptoff=1"},
     "-spike 20ms -spike-every 1s -alloc-mbps 256", ["pause_spike"], 60, 3, 1),
    ("assist", "assist", {}, "-live-mb 256", ["mark_assist_stall", "long_write_barrier"], 75, 2, 1),
    ("stwreasons", "stwreasons", {},
     "-memstats-every 100ms -gomaxprocs-every 0 -profile-every 0 -alloc-mbps 4",
     ["observer_stops"], 75, 2, 1),
    ("limitthrash", "limitthrash", {}, "-limit-mb 64 -start-live-mb 40 -grow-mbps 4",
     ["memory_limit_thrash"], 75, 2, 1),
    ("leak", "leak", {}, "-every 10ms", ["goroutine_leak", "heap_surge"], 200, 1, 0),
    ("fragment", "fragment", {}, "-fragment-mb 96", ["fragmentation"], 75, 1, 1),
    ("finalizers", "finalizers", {}, "-objects-per-sec 200 -finalizer-sleep 10ms",
     ["finalizer_backlog"], 75, 1, 1),
    ("breakersvc", "breakersvc", {}, "", ["breaker"], 45, 3, 1),
]
INSTANCES = ("15s", "1s")


# ---------------------------------------------------------------- watchers


class AlertPoller(threading.Thread):
    """Polls /api/v1/alerts of each Prometheus; records when each firing alert was
    first seen: key (instance, alertname, pid, detector label or '') -> unix s."""

    def __init__(self, proms, interval=0.1):
        super().__init__(daemon=True)
        self.proms, self.interval = proms, interval
        self.first = {}
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.errors = 0

    def run(self):
        while not self.stop_ev.is_set():
            for name, prom in self.proms.items():
                try:
                    with urllib.request.urlopen(prom.url + "/api/v1/alerts", timeout=5) as r:
                        body = json.load(r)
                    now = time.time()
                    for a in body.get("data", {}).get("alerts", []):
                        if a.get("state") != "firing":
                            continue
                        lb = a.get("labels", {})
                        key = (name, lb.get("alertname", ""), lb.get("pid", ""),
                               lb.get("detector", ""))
                        with self.lock:
                            self.first.setdefault(key, now)
                except Exception:
                    self.errors += 1
            self.stop_ev.wait(self.interval)

    def get(self, inst, alert, pid, detector=""):
        with self.lock:
            return self.first.get((inst, alert, str(pid), detector))

    def for_pid(self, pid):
        with self.lock:
            return {k: v for k, v in self.first.items() if k[2] == str(pid)}


class SseClient(threading.Thread):
    """Follows the agent's event stream; records the arrival (unix s) of each raised
    finding (pid, detector) and of each breaker transition to open (pid)."""

    def __init__(self, port, pids):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/api/v1/stream?" + "&".join(f"pid={p}" for p in pids)
        self.findings = {}  # (pid, detector) -> (arrival, raised_ms)
        self.opened = {}    # pid -> arrival
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.resp = None

    def run(self):
        try:
            self.resp = urllib.request.urlopen(self.url, timeout=600)
            self.connected.set()
            event = None
            for raw in self.resp:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("finding", "breaker"):
                    now = time.time()
                    try:
                        d = json.loads(line[5:])
                    except ValueError:
                        continue
                    with self.lock:
                        if event == "finding" and d.get("change") == "raised":
                            self.findings.setdefault((d.get("pid"), d.get("detector")),
                                                     (now, d.get("raised_ms")))
                        elif event == "breaker" and d.get("transition", {}).get("to") == "open":
                            self.opened.setdefault(d.get("pid"), now)
                elif not line:
                    event = None
        except Exception:
            pass
        finally:
            self.connected.set()

    def finding(self, pid, detector):
        with self.lock:
            v = self.findings.get((pid, detector))
        return v[0] if v else None

    def all_findings(self):
        with self.lock:
            return dict(self.findings)


class ReadyPoller(threading.Thread):
    """GET /ready/<pid> every 10 ms; the first 503 (unix s) after `after`."""

    def __init__(self, port, pid):
        super().__init__(daemon=True)
        self.port, self.pid = port, pid
        self.first_503 = None
        self.polls = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set() and self.first_503 is None:
            try:
                status = http_get(self.port, f"/ready/{self.pid}", timeout=2)[0]
                self.polls += 1
                if status == 503:
                    self.first_503 = time.time()
            except Exception:
                pass
            time.sleep(0.01)


# ---------------------------------------------------------------- helpers


class EbpfLock:
    def __enter__(self):
        self.f = open(EBPF_LOCK, "a")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for the eBPF tests' lock (a test suite is probing)")
            fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def prom_has(prom, expr):
    url = prom.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return bool(json.load(r).get("data", {}).get("result"))
    except Exception:
        return False


def parse_time(ts):
    """Unix s of Prometheus's 2026-11-27T09:10:11.123456789Z (None if unset)."""
    if not ts or ts.startswith("0001"):
        return None
    ts = ts.replace("Z", "+00:00")
    head, _, tz = ts.partition("+")
    if "." in head:  # Python reads at most microseconds
        a, b = head.split(".")
        head = a + "." + b[:6]
    return datetime.datetime.fromisoformat(head + "+" + (tz or "00:00")).timestamp()


def last_scrape(prom):
    """Unix s of the last scrape of the agent target."""
    with urllib.request.urlopen(prom.url + "/api/v1/targets", timeout=5) as r:
        body = json.load(r)
    for t in body.get("data", {}).get("activeTargets", []):
        v = parse_time(t.get("lastScrape", ""))
        if v is not None:
            return v
    return None


def eval_lag(prom, interval):
    """How long after each scrape the rules are evaluated (Prometheus derives both
    phases from hashes of the target and the rule group: 0..interval)."""
    try:
        with urllib.request.urlopen(prom.url + "/api/v1/rules", timeout=5) as r:
            groups = json.load(r).get("data", {}).get("groups", [])
        ev = parse_time(groups[0].get("lastEvaluation", "")) if groups else None
        sc = last_scrape(prom)
        return None if ev is None or sc is None else round((ev - sc) % interval, 2)
    except Exception:
        return None


class Agent:
    def __init__(self, gcpilot, port, pids, log_path):
        self.port = port
        self.log = open(log_path, "w")
        args = [gcpilot, "serve", "--listen", f"127.0.0.1:{port}"]
        for p in pids:
            args += ["--pid", str(p)]
        for attempt in range(5):
            self.proc = spawn(args, stdout=subprocess.DEVNULL, stderr=self.log)
            deadline = time.monotonic() + 60
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    if http_get(port, "/readyz", timeout=2)[0] == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                raise RuntimeError(f"gcpilot serve not ready after 60 s (see {log_path})")
            time.sleep(1)  # the port may still be held by the previous agent
        raise RuntimeError(f"gcpilot serve exited at start (see {log_path})")

    def knows(self, pid):
        try:
            return http_get(self.port, f"/api/v1/processes/{pid}", timeout=2)[0] == 200
        except OSError:
            return False

    def close(self):
        stop(self.proc, timeout=15)
        self.log.close()


def wait_idle(pid, timeout=90):
    """Waits until the process used (almost) no CPU over 0.5 s (parked at its gate);
    returns how long that took."""
    t0 = time.monotonic()
    last, still = services.proc_cpu_s(pid), 0
    while time.monotonic() - t0 < timeout:
        time.sleep(0.25)
        now = services.proc_cpu_s(pid)
        still = still + 1 if now - last < 0.02 else 0
        last = now
        if still >= 2:
            break
    return round(time.monotonic() - t0, 2)


def wait_until(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# ---------------------------------------------------------------- one run


def one_run(args, spec, rep, nreps, proms, poller, steady_pid, port):
    name, prog, env_extra, wargs, detectors, timeout, _, _ = spec
    rundir = os.path.join(args.out, f"{name}-{rep + 1}")
    os.makedirs(rundir, exist_ok=True)
    binary = os.path.join(args.progs, prog)
    env = dict(os.environ)
    env.pop("GODEBUG", None)
    env.update(env_extra)
    gate = os.path.join(rundir, "go")
    breaker = detectors == ["breaker"]
    if breaker:
        first_file = os.path.join(rundir, "first_stw")
        argv = [binary, "-goroutines", "3000", "-stw-file", gate, "-first-stw-file", first_file,
                "-poll", "1s"]
        env["GCPILOT_AGENT"] = f"http://127.0.0.1:{port}"  # no token: its polls are refused
    else:
        argv = [binary] + wargs.split() + ["-stdout-every", "0", "-start-file", gate,
                                           "-duration", f"{timeout + 30}s"]
    res = {"run": name, "rep": rep + 1, "detectors": detectors, "timeout_s": timeout,
           "loadavg_start": loadavg()}
    with EbpfLock():
        wl = spawn(argv, env=env, stdout=open(os.path.join(rundir, "workload.out"), "w"),
                   stderr=subprocess.STDOUT)
        pid = wl.pid
        res["pid"] = pid
        # The agent starts once the workload waits at its gate: its setup (assist
        # builds a 256 MiB pointer-rich heap, limitthrash its retained heap) is not
        # the pattern and must not raise the finding early.
        ready = agent = None
        try:
            res["setup_s"] = wait_idle(pid)
            agent = Agent(args.gcpilot, port, [pid, steady_pid], os.path.join(rundir, "agent.log"))
            if not wait_until(lambda: agent.knows(pid), 30):
                raise RuntimeError(f"the agent never listed pid {pid}")
            sse = SseClient(port, [pid, steady_pid])
            sse.start()
            sse.connected.wait(10)
            # Both Prometheus servers hold the process's series (a sample before the
            # pattern, as for a service that ran fine before it misbehaved).
            q = f'gcpilot_gc_cycles_total{{pid="{pid}"}}'
            for inst, prom in proms.items():
                if not wait_until(lambda: prom_has(prom, q), 45, 0.2):
                    raise RuntimeError(f"Prometheus {inst} never scraped pid {pid}")
            phase = (rep + 0.5) / nreps
            base = last_scrape(proms["15s"])
            t0 = base + phase * 15
            while t0 < time.time() + 0.2:
                t0 += 15
            res["scrape_phase"] = round(phase, 3)
            time.sleep(max(0, t0 - time.time()))
            if breaker:
                ready = ReadyPoller(port, pid)
                ready.start()
            t_gate = time.time()
            open(gate, "w").close()
            res["gate_unix"] = t_gate
            log(f"{name} #{rep + 1}: pattern started (pid {pid}, 15 s scrape phase {phase:.2f})")

            def alerts_done():
                for inst in proms:
                    for det in detectors:
                        a = rules.alert_name(det)
                        if a and poller.get(inst, a, pid) is None:
                            return False
                        if det == "breaker":
                            if poller.get(inst, "GcpilotBreakerOpen", pid) is None:
                                return False
                        elif poller.get(inst, "GcpilotFinding", pid, det) is None:
                            return False
                return True

            def gcpilot_done():
                if breaker:
                    return ready.first_503 is not None
                return all(sse.finding(pid, d) is not None for d in detectors)

            wait_until(lambda: (gcpilot_done() and alerts_done()) or wl.poll() is not None,
                       timeout, 0.1)
            t_ref = t_gate
            if breaker:
                try:
                    t_ref = int(open(first_file).read().strip()) / 1000
                except (OSError, ValueError):
                    t_ref = None
                res["first_long_stop_unix"] = t_ref
            res["workload_exited_early"] = wl.poll() is not None

            def since(t):
                return None if t is None or t_ref is None else round(t - t_ref, 3)

            out = {}
            for det in detectors:
                d = {}
                if breaker:
                    d["gcpilot"] = since(ready.first_503)
                    d["gcpilot_sse"] = since(sse.opened.get(pid))
                else:
                    d["gcpilot"] = since(sse.finding(pid, det))
                a = rules.alert_name(det)
                for inst in proms:
                    d[f"promql_{inst}"] = since(poller.get(inst, a, pid)) if a else None
                    d[f"forward_{inst}"] = since(
                        poller.get(inst, "GcpilotBreakerOpen", pid) if breaker
                        else poller.get(inst, "GcpilotFinding", pid, det))
                out[det] = d
            res["times"] = out
            res["other_findings"] = sorted({k[1] for k in sse.all_findings()
                                            if k[0] == pid and k[1] not in detectors})
            expected_alerts = {rules.alert_name(d) for d in detectors} | {
                "GcpilotFinding", "GcpilotBreakerOpen"}
            res["other_alerts"] = sorted({f"{k[1]}@{k[0]}" for k in poller.for_pid(pid)
                                          if k[1] not in expected_alerts})
            res["steady_findings"] = sorted({k[1] for k in sse.all_findings() if k[0] == steady_pid})
            res["steady_breaker_opened"] = steady_pid in sse.opened
            if breaker:
                res["ready_polls"] = ready.polls
        finally:
            if ready:
                ready.stop_ev.set()
            stop(wl, timeout=10)
            if agent:
                agent.close()
    res["loadavg_end"] = loadavg()
    log(f"{name} #{rep + 1}: {json.dumps(res.get('times'))}")
    return res


# ---------------------------------------------------------------- report


def fmt_s(vals, n, timeout, ms=False):
    if any(v is not None and v < 0 for v in vals):
        return "raised before the start (setup)"
    got = [v for v in vals if v is not None]
    if not got:
        return f"not fired in {timeout} s" + (f" (0/{n})" if n > 1 else "")
    if ms:
        f = lambda v: f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"  # noqa: E731
    else:
        f = lambda v: f"{v:.1f} s"  # noqa: E731
    med, mx = statistics.median(got), max(got)
    s = f(med) if len(got) == 1 else f"{f(med)} / {f(mx)}"
    if len(got) < n:
        s += f" ({len(got)}/{n} fired, others not in {timeout} s)"
    return s


def table(results, meta):
    lines = []
    lines.append("| detector | workload (runs) | gcpilot serve: SSE `finding`, median / max | "
                 "PromQL alert, 15 s scrape + eval, median / max | PromQL alert, 1 s scrape + eval | "
                 "gcpilot's verdict forwarded as a Prometheus alert, 15 s | the same, 1 s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    by_det = {}
    order = []
    for r in results:
        for det, t in r.get("times", {}).items():
            if det not in by_det:
                order.append(det)
            by_det.setdefault(det, []).append((r, t))
    for det in order:
        rs = by_det[det]
        r0 = rs[0][0]
        n = len(rs)
        to = r0["timeout_s"]
        col = lambda k: [t.get(k) for _, t in rs]  # noqa: E731
        breaker = det == "breaker"
        label = ("breaker: first long stop -> `/ready/<pid>` 503" if breaker else f"`{det}`")
        wl = f"{r0['run']} ({n})"
        g = fmt_s(col("gcpilot"), n, to, ms=breaker)
        if rules.alert_name(det):
            p15, p1 = fmt_s(col("promql_15s"), n, to), fmt_s(col("promql_1s"), n, to)
            lag = (meta.get("eval_lag_s") or {}).get("15s")
            got = [v - lag for v in col("promql_15s") if v is not None and lag is not None]
            if got:
                s = [f"{statistics.median(got):.1f}"] + ([f"{max(got):.1f}"] if len(got) > 1 else [])
                p15 += f" (scrape that met it: {' / '.join(s)} s)"
        else:
            p15 = p1 = "no PromQL equivalent"
        fw = f"{fmt_s(col('forward_15s'), n, to)} | {fmt_s(col('forward_1s'), n, to)}"
        lines.append(f"| {label} | {wl} | {g} | {p15} | {p1} | {fw} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gcpilot", required=True)
    ap.add_argument("--progs", required=True, help="directory with the built testprogs")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=0, help="repetitions of every run (0: the defaults)")
    ap.add_argument("--only", default="", help="comma-separated run names")
    ap.add_argument("--prometheus", default=shutil.which("prometheus"))
    ap.add_argument("--report-only", metavar="RESULTS_JSON",
                    help="print the table of an earlier run's results.json and exit")
    args = ap.parse_args()
    if args.report_only:
        with open(args.report_only) as f:
            r = json.load(f)
        print(render_report(r["runs"], r["meta"]))
        return 0
    services.PIDFILE = args.pidfile
    os.makedirs(args.out, exist_ok=True)
    if not args.prometheus:
        log("prometheus not found (Debian package `prometheus`)")
        return 1
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

    only = set(filter(None, args.only.split(",")))
    plan = []
    for spec in RUNS:
        reps = args.reps or (spec[7] if args.quick else spec[6])
        if reps > 0 and (not only or spec[0] in only):
            plan.append((spec, reps))
    meta = {"mode": "quick" if args.quick else "default", "date": time.strftime(
        "%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "loadavg_start": loadavg(), "plan": [(s[0], n) for s, n in plan]}
    log("plan: " + ", ".join(f"{s[0]} x{n}" for s, n in plan))

    results = []
    poller = None
    try:
        port = free_port()
        proms = {}
        for inst, secs in (("15s", 15), ("1s", 1)):
            path = os.path.join(args.out, f"rules-{inst}.yml")
            with open(path, "w") as f:
                f.write(rules.render(secs))
            proms[inst] = Prometheus(args.prometheus, args.workdir, args.out, port, eval_s=secs,
                                     rule_files=[path], name=f"prometheus-{inst}", interval_s=secs)
        poller = AlertPoller(proms)
        poller.start()
        steady = spawn([os.path.join(args.progs, "steady"), "-stdout-every", "0"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if k != "GODEBUG"})
        meta["steady_pid"] = steady.pid
        for spec, reps in plan:
            for rep in range(reps):
                try:
                    results.append(one_run(args, spec, rep, reps, proms, poller, steady.pid, port))
                except RuntimeError as e:
                    log(f"{spec[0]} #{rep + 1} failed: {e}")
                    results.append({"run": spec[0], "rep": rep + 1, "error": str(e)})
        # The control: any alert on steady, over the whole benchmark.
        meta["steady_alerts"] = sorted({f"{k[1]}@{k[0]}" for k in poller.for_pid(steady.pid)})
        meta["steady_findings"] = sorted({d for r in results for d in r.get("steady_findings", [])})
        meta["steady_breaker_opened_runs"] = sum(bool(r.get("steady_breaker_opened")) for r in results)
        meta["eval_lag_s"] = {inst: eval_lag(proms[inst], 15 if inst == "15s" else 1)
                              for inst in proms}
        meta["loadavg_end"] = loadavg()
        meta["alert_poll_errors"] = poller.errors
    finally:
        if poller:
            poller.stop_ev.set()
        stop_all()

    text = render_report(results, meta)
    print(text)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "runs": results}, f, indent=1)
    return 0


def render_report(results, meta):
    t = table(results, meta)
    tail = [
        "",
        f"{meta['date']}, {meta['mode']} run, {meta['cpus']} CPUs, load average "
        f"{meta['loadavg_start']} at the start, {meta['loadavg_end']} at the end.",
        "Times from the pattern's start (the workload's start gate; breaker: the service's first "
        "long stop). PromQL alerts: the first /api/v1/alerts poll (every 0.1 s) showing it firing; "
        "rules in rules-15s.yml / rules-1s.yml (bench/detect/rules.py). long_write_barrier: "
        "gcpilot exports no concurrent-mark (write barrier) time, so no rule can be written. "
        f"Rule evaluation after each scrape (fixed by Prometheus per target and group): "
        f"{meta.get('eval_lag_s', {}).get('15s')} s at 15 s, {meta.get('eval_lag_s', {}).get('1s')} s at 1 s.",
        f"Control: `steady` watched during every run: gcpilot findings: "
        f"{', '.join(meta['steady_findings']) or 'none'}; Prometheus alerts: "
        f"{', '.join(meta['steady_alerts']) or 'none'}"
        + (f"; its breaker opened in {meta['steady_breaker_opened_runs']} of {len(results)} runs."
           if "steady_breaker_opened_runs" in meta else "."),
    ]
    others = [f"{r['run']} #{r['rep']}: " + ", ".join(r.get("other_findings", []) + r.get("other_alerts", []))
              for r in results if r.get("other_findings") or r.get("other_alerts")]
    if others:
        tail.append("Also raised on the pattern workloads: " + "; ".join(others) + ".")
    errors = [f"{r['run']} #{r['rep']}: {r['error']}" for r in results if "error" in r]
    if errors:
        tail.append("Failed runs: " + "; ".join(errors) + ".")
    return t + "\n" + "\n".join(tail) + "\n"


if __name__ == "__main__":
    sys.exit(main())
