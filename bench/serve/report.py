#!/usr/bin/env python3
"""Targets and the Markdown report of the serve benchmark (bench/serve/driver.py
uses them): the phase table, the latency table, the PASS/FAIL line and the notes.
"""

from measure import fmt

TARGETS = {
    "idle_cpu_pct": 1.0,        # agent, nothing to watch
    "agent_cpu_pct": 5.0,       # 50 processes, ~500 GC/s, Prometheus 1 s + dashboard
    "fanout_cpu_pct": 25.0,     # the same + 100 SSE clients
    "rss_mb": 100.0,            # agent RSS: idle, 50 processes, + Prometheus + dashboard
    "sse_p99_ms": 50.0,         # pause end -> SSE event at a client
    "metrics_p99_ms": 100.0,    # GET /metrics at that load
}


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
