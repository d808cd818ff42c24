#!/usr/bin/python3
"""Fleet test: gcpilot agents on three "nodes", scraped by a real Prometheus.

Each node is a network namespace (gcpfleet-<token>-<i>) joined to the host by
a veth pair (10.R.0.4i+1/30 on the host, .4i+2 in the namespace). In each one
the real agent runs (`ip netns exec NS gcpilot serve --listen 10.R.0.4i+2:9464
--exe ...`), then two Go workloads built by the `testprogs` target, each a
per-node copy of the binary (so `--exe` keeps every agent to its own node's
processes even though all agents see every pid). `steady` runs on every node
with a different Go version (one `binary` label across the fleet); the other
workload differs per node. A real Prometheus scrapes the three agents every
second; the test then checks, through the Prometheus HTTP API:

  live   every target up; every workload pid has gcpilot_gc_cycles_total with
         the right binary, go_version and instance (its own node only); each
         agent traced exactly its node's workloads; at the same instant,
         cycles == sweep-termination pause count == mark-termination pause
         count per pid; histogram_quantile over the fleet by binary gives a
         finite P99 for every binary; when deploy/prometheus/gcpilot-rules.yml
         exists: `promtool check config` passes with it as rule_files, and
         every recording rule returns series (per pid for gcpilot:*, per
         binary for gcpilot_binary:*) once evaluated (the running copy of the
         rules has its group intervals shortened to 2 s; ranges unchanged).
  final  after SIGTERM (each workload writes its ground truth: MemStats and
         runtime/metrics) and fresh scrapes: gcpilot_gc_cycles_total == NumGC
         exactly (the agents started first, so no cycle predates them), the
         GC pause count == 2 x NumGC, and the GC pause sum within 1% (or
         5 us per cycle) of MemStats.PauseTotalNs; the agent's JSON API agrees.

Usage: fleet_test.py --gcpilot BIN --build-dir DIR [--source-dir DIR]
Exit: 0 pass, 1 fail, 77 skipped (not root, no netns/eBPF/prometheus, unless
CI=true, then those fail). Takes the eBPF test lock (/tmp/gcpilot-ebpf-tests.lock)
for its whole run. Always cleans up: processes, namespaces, veths, temp dir.
Python 3 standard library only; the namespaces, processes and Prometheus
client live in fleet_env.py.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
from fleet_env import (AGENT_PORT, Failure, Fleet, Interrupted, Skip, http_get, in_ci, log,
                       remove_stale, take_lock)

SKIP_RC = 77
RUN_SECONDS = 35  # Workload run time before the live checks.
BUDGET_SECONDS = 560  # Whole-test deadline, under CTest's TIMEOUT 600.

# What runs on each node: (program, Go version, flags). Light loads: the
# machine may have 2 shared cores. `steady` is on every node (one fleet-wide
# binary label); the second program is distinct per node.
NODES = [
    [("steady", "1.19", ["-workers", "2", "-rps", "800", "-live-mb", "4"]),
     ("periodicgc", "1.19", ["-interval", "200ms", "-alloc-kbps", "256"])],
    [("steady", "1.21", ["-workers", "2", "-rps", "800", "-live-mb", "4"]),
     ("storm", "1.21", ["-workers", "1", "-rate-mbps", "12", "-live-mb", "4"])],
    [("steady", "1.23", ["-workers", "2", "-rps", "800", "-live-mb", "4"]),
     ("stwreasons", "1.22", ["-alloc-mbps", "8", "-memstats-every", "200ms",
                             "-gomaxprocs-every", "1s", "-profile-every", "1s"])],
]


def check_live(fleet, rules_deadline):
    prom = fleet.prom
    failures = []
    want_instances = {"%s:%d" % (ip, AGENT_PORT) for ip in fleet.node_ips}

    up = {l["instance"]: v for l, v in prom.query('up{job="gcpilot"}')}
    if set(up) != want_instances or any(v != 1 for v in up.values()):
        failures.append("up{job=gcpilot}: want 1 for %s, got %s" % (sorted(want_instances), up))

    series = prom.query("gcpilot_gc_cycles_total")
    by_pid = {}
    for labels, _ in series:
        by_pid.setdefault(int(labels["pid"]), []).append(labels)
    ours = {w["proc"].pid: w for w in fleet.workloads}
    for pid, w in ours.items():
        got = by_pid.get(pid, [])
        if len(got) != 1:
            failures.append("pid %d (%s): want 1 gcpilot_gc_cycles_total series, got %s" %
                            (pid, w["proc"].name, got))
            continue
        l = got[0]
        want = {"binary": w["program"], "instance": w["instance"], "job": "gcpilot"}
        for k, v in want.items():
            if l.get(k) != v:
                failures.append("pid %d: label %s=%r, want %r" % (pid, k, l.get(k), v))
        if not l.get("go_version", "").startswith("go" + w["go"]):
            failures.append("pid %d: go_version=%r, want go%s.x" %
                            (pid, l.get("go_version"), w["go"]))
        w["go_version_label"] = l.get("go_version")
    strangers = sorted(set(by_pid) - set(ours))
    if strangers:
        failures.append("series of pids that are not this fleet's workloads: %s" %
                        {p: by_pid[p] for p in strangers})
    traced = {l["instance"]: v for l, v in prom.query("gcpilot_agent_processes_traced_total")}
    for inst in sorted(want_instances):
        n = sum(1 for w in fleet.workloads if w["instance"] == inst)
        if traced.get(inst) != n:
            failures.append("%s: gcpilot_agent_processes_traced_total=%s, want %d (its node's "
                            "workloads only)" % (inst, traced.get(inst), n))

    # The same instant, one expression: cycles minus each GC pause count.
    for kind in ("sweep_termination", "mark_termination"):
        expr = ('gcpilot_gc_cycles_total - on(pid, instance) sum by (pid, instance) '
                '(gcpilot_stw_pause_seconds_count{kind="%s"})' % kind)
        for attempt in range(3):
            diff = prom.by_pid(expr)
            bad = {p: v for p, v in diff.items() if p in ours and v != 0}
            missing = sorted(set(ours) - set(diff))
            if not bad and not missing:
                break
            time.sleep(1)
        if bad or missing:
            failures.append("%s: cycles - pause count != 0 for %s; missing pids %s" %
                            (kind, bad, missing))

    # Pause histograms merged across agents: P99 per binary over the fleet.
    expr = ('histogram_quantile(0.99, sum by (binary, le) (rate(gcpilot_stw_pause_seconds_bucket'
            '{kind=~"sweep_termination|mark_termination"}[30s])))')
    p99 = {l["binary"]: v for l, v in prom.query(expr)}
    binaries = sorted({w["program"] for w in fleet.workloads})
    for b in binaries:
        v = p99.get(b)
        if v is None or math.isnan(v) or not (0 < v <= 1):
            failures.append("fleet P99 of %s: %r (want a finite value in (0, 1] s)" % (b, v))
    nodes_per_binary = {l["binary"]: v for l, v in prom.query(
        "count by (binary) (count by (binary, instance) (gcpilot_gc_cycles_total))")}
    if nodes_per_binary.get("steady") != len(fleet.namespaces):
        failures.append("steady should be seen on %d instances: %s" %
                        (len(fleet.namespaces), nodes_per_binary))
    log("fleet STW P99 by binary (30 s): %s; instances per binary: %s" %
        ({b: "%.1fus" % (v * 1e6) for b, v in sorted(p99.items())}, nodes_per_binary))

    if not failures:
        log("live: %d targets up; %d workload series with the right binary, go_version and "
            "instance; each agent traced only its node's workloads; cycles == sweep and "
            "mark termination pause counts per pid at one instant" %
            (len(up), len(ours)))
    if fleet.rules_src:
        failures += check_rules(fleet, rules_deadline)
    return failures


def check_rules(fleet, deadline):
    """Every recording rule of the rules file returns series: per pid or per binary."""
    prom = fleet.prom
    with open(fleet.rules_src) as f:
        records = re.findall(r"(?m)^\s*-\s*record:\s*(\S+)\s*$", f.read())
    if not records:
        return ["%s defines no recording rules" % fleet.rules_src]
    pids = {w["proc"].pid for w in fleet.workloads}
    binaries = {w["program"] for w in fleet.workloads}
    missing = {}
    while True:
        missing = {}
        seen = {}
        for rec in records:
            result = prom.query(rec)
            if rec.startswith("gcpilot_binary:"):
                got = {l.get("binary") for l, _ in result}
                lack = sorted(binaries - got)
            else:
                got = {int(l["pid"]) for l, _ in result if "pid" in l}
                lack = sorted(pids - got)
            if lack:
                missing[rec] = lack
            seen[rec] = result
        if not missing or time.time() > deadline:
            break
        time.sleep(2)
    if missing:
        return ["recording rules without series for (pids or binaries): %s" % missing]
    p99 = {l["binary"]: v for l, v in seen.get("gcpilot_binary:stw_pause_p99:1m", [])}
    log("rules: all %d recording rules have series for every pid/binary; "
        "gcpilot_binary:stw_pause_p99:1m = %s" %
        (len(records), {b: "%.1fus" % (v * 1e6) for b, v in sorted(p99.items())}))
    down = prom.query('ALERTS{alertname="GcpilotAgentDown"}')
    if down:
        return ["GcpilotAgentDown fired: %s" % down]
    return []


def check_final(fleet):
    """After the workloads exited: Prometheus's last counts against their ground truth."""
    prom = fleet.prom
    ours = {w["proc"].pid: w for w in fleet.workloads}
    last_exit = max(w["proc"].exit_time for w in fleet.workloads)
    # Fresh scrapes: every pid's newest sample taken >= 3 s after the last exit.
    deadline = time.time() + 60
    while True:
        ts = prom.by_pid("timestamp(gcpilot_gc_cycles_total)")
        if all(ts.get(p, 0) >= last_exit + 3 for p in ours):
            break
        if time.time() > deadline:
            raise Failure("no scrape 3 s after the workloads exited (timestamps %s, exit %.3f)" %
                          (ts, last_exit))
        time.sleep(0.5)

    gc_kinds = '{kind=~"sweep_termination|mark_termination"}'
    deadline = time.time() + 20
    while True:
        cycles = prom.by_pid("gcpilot_gc_cycles_total")
        counts = prom.by_pid("sum by (pid) (gcpilot_stw_pause_seconds_count%s)" % gc_kinds)
        sums = prom.by_pid("sum by (pid) (gcpilot_stw_pause_seconds_sum%s)" % gc_kinds)
        if all(cycles.get(p) == w["truth_data"]["num_gc"] for p, w in ours.items()):
            break
        if time.time() > deadline:
            break  # Report below.
        time.sleep(1)
    drops = prom.by_pid("gcpilot_probe_dropped_events_total")

    failures = []
    rows = []
    for pid, w in sorted(ours.items()):
        t = w["truth_data"]
        num_gc = t["num_gc"]
        pause_ns = t["pause_total_ns"]
        got = cycles.get(pid)
        got_count = counts.get(pid)
        got_sum = sums.get(pid)
        api = agent_totals(fleet, w)
        tol_ns = max(0.01 * pause_ns, 5000.0 * num_gc)
        diff_ns = None if got_sum is None else got_sum * 1e9 - pause_ns
        rows.append("  node%d %-10s go%-6s pid %-7d NumGC %5d | prom cycles %5s pauses %5s "
                    "| API cycles %5s | pause sum: runtime %9.1fus prom %9.1fus (diff %+.1fus, "
                    "tol %.1fus) | drops %s" % (
                        w["node"], w["program"], w["go"], pid, num_gc, fmt(got), fmt(got_count),
                        fmt(api.get("cycles")), pause_ns / 1e3,
                        float("nan") if got_sum is None else got_sum * 1e6,
                        float("nan") if diff_ns is None else diff_ns / 1e3, tol_ns / 1e3,
                        fmt(drops.get(pid))))
        if num_gc == 0:
            failures.append("pid %d (%s): the workload ran no GC cycle" % (pid, w["program"]))
        if not t.get("consistent", False):
            log("note: pid %d truth not consistent (num_gc %s, /gc/cycles/total %s)" %
                (pid, num_gc, t.get("gc_cycles_total")))
        if got != num_gc:
            failures.append("pid %d (%s): gcpilot_gc_cycles_total %s != runtime NumGC %d" %
                            (pid, w["program"], got, num_gc))
        if got_count != 2 * num_gc:
            failures.append("pid %d (%s): GC pause count %s != 2 x NumGC (%d)" %
                            (pid, w["program"], got_count, 2 * num_gc))
        if diff_ns is None or abs(diff_ns) > tol_ns:
            failures.append("pid %d (%s): GC pause sum %s s vs MemStats.PauseTotalNs %d ns: "
                            "off by more than %.0f ns" % (pid, w["program"], got_sum, pause_ns,
                                                          tol_ns))
        if api.get("cycles") != num_gc:
            failures.append("pid %d (%s): agent API totals.cycles %s != NumGC %d" %
                            (pid, w["program"], api.get("cycles"), num_gc))
    log("final counts (after exit, Prometheus vs the workloads' own runtime):\n" +
        "\n".join(rows))
    return failures


def fmt(v):
    if v is None:
        return "-"
    return "%d" % v if float(v).is_integer() else "%g" % v


def agent_totals(fleet, w):
    url = "http://%s/api/v1/processes/%d" % (w["instance"], w["proc"].pid)
    status, body = http_get(url)
    if status != 200:
        return {"error": "%s %s" % (status, body[:200])}
    try:
        return json.loads(body).get("totals", {})
    except ValueError:
        return {}


def stop_workloads(fleet):
    failures = []
    for w in fleet.workloads:
        w["proc"].stop(timeout=30)
    for w in fleet.workloads:
        p = w["proc"]
        rc = p.popen.returncode
        if rc != 3:  # internal/workload: -signal-exit-code 3 after SIGTERM.
            failures.append("%s exited with %s, want 3 (stopped by SIGTERM):\n%s" %
                            (p.name, rc, p.describe()))
        try:
            with open(w["truth"]) as f:
                w["truth_data"] = json.load(f)
        except (OSError, ValueError) as e:
            raise Failure("%s wrote no ground truth (%s):\n%s" % (p.name, e, p.describe()))
        if w["truth_data"].get("pid") != p.pid:
            failures.append("%s: truth pid %s != %d" % (p.name, w["truth_data"].get("pid"),
                                                         p.pid))
        gv = w["truth_data"].get("go_version")
        if w.get("go_version_label") and gv != w["go_version_label"]:
            failures.append("%s: go_version label %r != runtime.Version() %r" %
                            (p.name, w["go_version_label"], gv))
    return failures


# ---- main ----


def preflight(args):
    if os.geteuid() != 0:
        raise Skip("needs root (eBPF and network namespaces)")
    for tool in ("ip", "prometheus", "promtool"):
        if shutil.which(tool) is None:
            raise Skip("%s not found in PATH" % tool)
    if not os.access(args.gcpilot, os.X_OK):
        raise Failure("gcpilot binary %s not found: build the `gcpilot` target" % args.gcpilot)


def run_test(args, fleet):
    fleet.pick_subnet()
    fleet.prepare_workloads()
    for i in range(len(NODES)):
        fleet.make_node(i)
    fleet.start_agents()
    fleet.start_prometheus()
    fleet.start_workloads()
    started = time.time()

    # Every workload visible in Prometheus, then let them run.
    ours = {w["proc"].pid for w in fleet.workloads}
    deadline = time.time() + 90
    while True:
        for w in fleet.workloads:
            if not w["proc"].alive():
                raise Failure("workload died:\n" + w["proc"].describe())
        seen = set(fleet.prom.by_pid("gcpilot_gc_cycles_total"))
        if ours <= seen:
            break
        if time.time() > deadline:
            raise Failure("workload pids %s not in Prometheus after 90 s (seen %s)" %
                          (sorted(ours - seen), sorted(seen)))
        time.sleep(1)
    log("all %d workloads have series after %.1f s; running %d s" %
        (len(ours), time.time() - started, RUN_SECONDS))
    while time.time() < started + RUN_SECONDS:
        for w in fleet.workloads:
            if not w["proc"].alive():
                raise Failure("workload died:\n" + w["proc"].describe())
        time.sleep(1)

    failures = check_live(fleet, rules_deadline=time.time() + 60)
    for w in fleet.workloads:
        if not w["proc"].alive():
            failures.append("workload died:\n" + w["proc"].describe())
    failures += stop_workloads(fleet)
    failures += check_final(fleet)
    for i, agent in enumerate(fleet.agents):
        if not agent.alive():
            failures.append("agent %d died:\n%s" % (i, agent.describe()))
        elif agent.stop() != 0:
            failures.append("agent %d: exit code %s after SIGTERM, want 0:\n%s" %
                            (i, agent.popen.returncode, agent.describe()))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gcpilot", required=True, help="the gcpilot binary")
    ap.add_argument("--build-dir", required=True, help="CMake build dir (has testprogs/)")
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."),
                    help="source tree (for deploy/prometheus/gcpilot-rules.yml)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs) at the end")
    args = ap.parse_args()
    args.gcpilot = os.path.abspath(args.gcpilot)
    args.build_dir = os.path.abspath(args.build_dir)
    args.source_dir = os.path.abspath(args.source_dir)
    t0 = time.time()

    def on_signal(signum, _frame):
        raise Interrupted("interrupted by %s" % signal.Signals(signum).name)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    def on_budget(_signum, _frame):
        raise Failure("the test ran out of its %d s budget" % BUDGET_SECONDS)

    signal.signal(signal.SIGALRM, on_budget)
    signal.alarm(BUDGET_SECONDS)

    fleet = None
    lock_fd = None
    rc = 1
    interrupted = False
    try:
        preflight(args)
        lock_fd = take_lock(300)
        remove_stale()
        fleet = Fleet(args, NODES)
        failures = run_test(args, fleet)
        if failures:
            log("FAILED:\n- " + "\n- ".join(failures))
            rc = 1
        else:
            log("PASSED")
            rc = 0
    except Skip as e:
        if in_ci():
            log("FAILED (CI=true, so not skipped): %s" % e)
            rc = 1
        else:
            log("SKIPPED: %s" % e)
            rc = SKIP_RC
    except Interrupted as e:
        log("FAILED: %s" % e)
        rc = 1
        interrupted = True
    except Failure as e:
        log("FAILED: %s" % e)
        rc = 1
    except Exception as e:  # A bug in the test itself: still clean up.
        import traceback
        traceback.print_exc()
        log("FAILED: %s: %s" % (type(e).__name__, e))
        rc = 1
    finally:
        signal.alarm(0)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if fleet is not None:
            if rc == 1 and not interrupted:
                for p in ([w["proc"] for w in fleet.workloads if w["proc"]] + fleet.agents +
                          ([fleet.prometheus] if fleet.prometheus else [])):
                    if p.alive() or p.popen.returncode not in (0, 3):
                        log("--- %s ---\n%s" % (p.name, p.describe()))
            try:
                fleet.cleanup()
            except Exception as e:
                log("FAILED cleanup: %s" % e)
                rc = 1
        if lock_fd is not None:
            os.close(lock_fd)
        log("took %.1f s" % (time.time() - t0))
    return rc


if __name__ == "__main__":
    sys.exit(main())
