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
results.json (everything), phases.csv and table.md to --out. services.py starts
and stops what is measured, measure.py measures, report.py holds the targets and
writes the table. Standard library only.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402
from measure import (Sampler, fmt, perf_profile, prom_scrape_stats,  # noqa: E402
                     prom_visibility, read_cycles, sse_latency, time_metrics)
from report import TARGETS, checks, report  # noqa: E402
from services import (Agent, Prometheus, Workloads, group_pids, http_get,  # noqa: E402
                      loadavg, log, mono_ns, spawn, stop, stop_all)

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- main


def main():
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
    services.PIDFILE = args.pidfile
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
