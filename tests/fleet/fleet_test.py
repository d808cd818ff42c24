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
Python 3 standard library only.
"""

import argparse
import ctypes
import fcntl
import glob
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP_RC = 77
EBPF_LOCK = "/tmp/gcpilot-ebpf-tests.lock"
NS_PREFIX = "gcpfleet-"
VETH_PREFIX = "gcpf"  # gcpf<token><i> / gcpf<token><i>n: at most 15 characters.
AGENT_PORT = 9464
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
GO_VERSIONS = ["1.19", "1.21", "1.22", "1.23"]


class Skip(Exception):
    """The environment cannot run this test (not a failure outside CI)."""


class Failure(Exception):
    """A check failed."""


class Interrupted(Exception):
    """A signal asked the test to stop."""


def log(msg):
    print("fleet: " + msg, flush=True)


def in_ci():
    return os.environ.get("CI") == "true"


def run(cmd, check=True, timeout=60):
    """Runs cmd (a list); returns CompletedProcess; raises Failure if check and rc != 0."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    if check and p.returncode != 0:
        raise Failure("command failed (rc %d): %s\n%s%s" %
                      (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: if this test is killed outright, its children go too.
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return "(no output file)"
    return "".join(lines[-n:]) or "(empty)"


def http_get(url, timeout=5):
    """GET url; returns (status, body text). Connection errors give (None, reason)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process with its log file."""

    def __init__(self, name, cmd, log_path, env=None):
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self.exit_time = None
        with open(log_path, "w") as out:
            self.popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True,
                                          preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
        if self.alive():
            try:
                self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) ignored SIGTERM for %ss: SIGKILL" % (self.name, self.pid, timeout))
                self.popen.kill()
                self.popen.wait()
        if self.exit_time is None:
            self.exit_time = time.time()
        return self.popen.returncode

    def describe(self):
        return "%s (pid %d, rc %s): %s\n--- last output of %s ---\n%s" % (
            self.name, self.pid, self.popen.poll(), " ".join(self.cmd), self.name,
            tail(self.log_path))


class Prometheus:
    """Client of the Prometheus HTTP API."""

    def __init__(self, base):
        self.base = base

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        status, body = http_get(url, timeout=10)
        if status != 200:
            raise Failure("Prometheus %s: HTTP %s: %s" % (url, status, body[:500]))
        data = json.loads(body)
        if data.get("status") != "success":
            raise Failure("Prometheus %s: %s" % (url, body[:500]))
        return data["data"]

    def query(self, expr):
        """Instant vector at now: list of (labels, value)."""
        data = self.api("/api/v1/query", query=expr)
        if data["resultType"] != "vector":
            raise Failure("query %r: expected a vector, got %s" % (expr, data["resultType"]))
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def by_pid(self, expr):
        """{pid: value} of a vector with a pid label (each pid once)."""
        out = {}
        for labels, value in self.query(expr):
            pid = int(labels["pid"])
            if pid in out:
                raise Failure("query %r: pid %d twice: %r" % (expr, pid, labels))
            out[pid] = value
        return out

    def targets(self):
        return self.api("/api/v1/targets", state="active")["activeTargets"]


class Fleet:
    """Owns everything the test creates; cleanup() removes all of it."""

    def __init__(self, args):
        self.args = args
        self.token = "%05x" % random.randrange(16 ** 5)
        self.tmp = tempfile.mkdtemp(prefix="gcpilot-fleet-")
        os.chmod(self.tmp, 0o755)
        self.namespaces = []
        self.veths = []
        self.agents = []  # Proc, index = node
        self.workloads = []  # dicts: node, program, go, proc, exe, truth
        self.prometheus = None
        self.prom = None
        self.node_ips = []
        self.subnet = None

    # ---- setup ----

    def pick_subnet(self):
        used = run(["ip", "-4", "addr"]).stdout + run(["ip", "-4", "route"]).stdout
        for _ in range(200):
            r = random.randrange(100, 250)
            if ("10.%d." % r) not in used:
                self.subnet = r
                return
        raise Skip("no free 10.R.0.0/24 subnet for the veths")

    def make_node(self, i):
        ns = "%s%s-%d" % (NS_PREFIX, self.token, i)
        host_if = "%s%s%d" % (VETH_PREFIX, self.token, i)
        ns_if = host_if + "n"
        host_ip = "10.%d.0.%d" % (self.subnet, 4 * i + 1)
        ns_ip = "10.%d.0.%d" % (self.subnet, 4 * i + 2)
        p = run(["ip", "netns", "add", ns], check=False)
        if p.returncode != 0:
            raise Skip("cannot create a network namespace: " + p.stderr.strip())
        self.namespaces.append(ns)
        run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if])
        self.veths.append(host_if)
        run(["ip", "link", "set", ns_if, "netns", ns])
        run(["ip", "addr", "add", host_ip + "/30", "dev", host_if])
        run(["ip", "link", "set", host_if, "up"])
        nsx = ["ip", "netns", "exec", ns]
        run(nsx + ["ip", "link", "set", "lo", "up"])
        run(nsx + ["ip", "addr", "add", ns_ip + "/30", "dev", ns_if])
        run(nsx + ["ip", "link", "set", ns_if, "up"])
        self.node_ips.append(ns_ip)
        log("node %d: netns %s, %s (host %s) <-> %s (%s)" % (i, ns, host_if, host_ip, ns_if, ns_ip))

    def node_dir(self, i):
        return os.path.join(self.tmp, "node%d" % i)

    def prepare_workloads(self):
        testprogs = os.path.join(self.args.build_dir, "testprogs")
        have = [v for v in GO_VERSIONS
                if os.path.exists(os.path.join(testprogs, "go" + v, "steady"))]
        if not have:
            raise Failure("no test programs under %s: build the `testprogs` target first" %
                          testprogs)
        for i, node in enumerate(NODES):
            bindir = os.path.join(self.node_dir(i), "bin")
            os.makedirs(bindir)
            for program, go, flags in node:
                if go not in have:  # A toolchain is missing: use another one.
                    go = have[(i + len(self.workloads)) % len(have)]
                src = os.path.join(testprogs, "go" + go, program)
                if not os.path.exists(src):
                    raise Failure("missing test program %s: build the `testprogs` target" % src)
                exe = os.path.join(bindir, program)  # A copy: a distinct inode per node.
                shutil.copy2(src, exe)
                self.workloads.append({"node": i, "program": program, "go": go, "flags": flags,
                                       "exe": exe, "proc": None,
                                       "truth": os.path.join(self.node_dir(i),
                                                             program + ".truth.json")})
        versions = sorted({w["go"] for w in self.workloads})
        if len(versions) < 2:
            log("note: only Go %s is installed: the fleet is single-version" % versions)

    def start_agents(self):
        for i, ns in enumerate(self.namespaces):
            exes = []
            for w in self.workloads:
                if w["node"] == i:
                    exes += ["--exe", w["exe"]]
            cmd = ["ip", "netns", "exec", ns, self.args.gcpilot, "serve", "--listen",
                   "%s:%d" % (self.node_ips[i], AGENT_PORT)] + exes
            self.agents.append(Proc("agent%d" % i, cmd,
                                    os.path.join(self.node_dir(i), "agent.log")))
        for i, agent in enumerate(self.agents):
            url = "http://%s:%d/readyz" % (self.node_ips[i], AGENT_PORT)
            deadline = time.time() + 120
            while True:
                if not agent.alive():
                    text = tail(agent.log_path)
                    if re.search(r"lacks|permission|not permitted|CAP_BPF|BPF.*unavailable",
                                 text, re.I):
                        raise Skip("the agent cannot load eBPF here:\n" + text)
                    raise Failure("agent %d exited before it was ready:\n%s" %
                                  (i, agent.describe()))
                status, _ = http_get(url, timeout=2)
                if status == 200:
                    break
                if time.time() > deadline:
                    raise Failure("agent %d not ready at %s after 120 s:\n%s" %
                                  (i, url, agent.describe()))
                time.sleep(0.3)
            log("agent %d ready at http://%s:%d (pid %d)" % (i, self.node_ips[i], AGENT_PORT,
                                                             agent.pid))

    def start_prometheus(self):
        port = free_port()
        pdir = os.path.join(self.tmp, "prometheus")
        os.makedirs(os.path.join(pdir, "data"))
        rules = os.path.join(self.args.source_dir, "deploy", "prometheus", "gcpilot-rules.yml")
        self.rules_src = rules if os.path.exists(rules) else None
        self.rules_run = None
        if self.rules_src:
            # The groups evaluate every 1m; the running copy every 2 s, so a
            # ~40 s run sees several evaluations. Ranges ([1m], ...) unchanged.
            with open(self.rules_src) as f:
                text = f.read()
            fast, n = re.subn(r"(?m)^(\s+interval:\s*)\S+\s*$", r"\g<1>2s", text)
            self.rules_run = os.path.join(pdir, "gcpilot-rules.fast.yml")
            with open(self.rules_run, "w") as f:
                f.write(fast)
            log("rules: %s (%d group interval(s) set to 2s in the running copy)" %
                (self.rules_src, n))
        else:
            log("SKIPPED rules checks: %s does not exist" % rules)

        def config(rule_file):
            targets = ", ".join("'%s:%d'" % (ip, AGENT_PORT) for ip in self.node_ips)
            text = ("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n")
            if rule_file:
                text += "rule_files:\n  - '%s'\n" % rule_file
            text += ("scrape_configs:\n  - job_name: gcpilot\n    static_configs:\n"
                     "      - targets: [%s]\n" % targets)
            return text

        if self.rules_src:
            check = os.path.join(pdir, "prometheus-check.yml")
            with open(check, "w") as f:
                f.write(config(self.rules_src))
            p = run(["promtool", "check", "config", check], check=False)
            if p.returncode != 0:
                raise Failure("promtool check config with %s failed:\n%s%s" %
                              (self.rules_src, p.stdout, p.stderr))
            log("promtool check config (rule_files: %s): OK" % self.rules_src)
        conf = os.path.join(pdir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(config(self.rules_run))
        p = run(["promtool", "check", "config", conf], check=False)
        if p.returncode != 0:
            raise Failure("promtool check config %s failed:\n%s%s" % (conf, p.stdout, p.stderr))
        self.prometheus = Proc("prometheus", [
            "prometheus", "--config.file=" + conf,
            "--storage.tsdb.path=" + os.path.join(pdir, "data"),
            "--web.listen-address=127.0.0.1:%d" % port, "--web.enable-lifecycle"],
            os.path.join(pdir, "prometheus.log"))
        base = "http://127.0.0.1:%d" % port
        self.prom = Prometheus(base)
        deadline = time.time() + 90
        while http_get(base + "/-/ready", timeout=2)[0] != 200:
            if not self.prometheus.alive() or time.time() > deadline:
                raise Failure("Prometheus not ready after 90 s:\n" + self.prometheus.describe())
            time.sleep(0.3)
        want = {"%s:%d" % (ip, AGENT_PORT) for ip in self.node_ips}
        deadline = time.time() + 60
        while True:
            up = {t["labels"]["instance"] for t in self.prom.targets() if t["health"] == "up"}
            if want <= up:
                break
            if time.time() > deadline:
                raise Failure("targets not all up after 60 s: %s" %
                              json.dumps(self.prom.targets(), indent=1)[:3000])
            time.sleep(0.5)
        log("prometheus ready at %s (pid %d), all %d targets up" %
            (base, self.prometheus.pid, len(want)))

    def start_workloads(self):
        for w in self.workloads:
            ns = self.namespaces[w["node"]]
            cmd = ["ip", "netns", "exec", ns, w["exe"], "-truth", w["truth"],
                   "-stdout-every", "0"] + w["flags"]
            w["proc"] = Proc("node%d/%s" % (w["node"], w["program"]), cmd,
                             os.path.join(self.node_dir(w["node"]), w["program"] + ".log"))
            w["instance"] = "%s:%d" % (self.node_ips[w["node"]], AGENT_PORT)
            log("node %d: %s (go%s) pid %d" % (w["node"], w["program"], w["go"], w["proc"].pid))

    # ---- cleanup ----

    def cleanup(self):
        procs = [w["proc"] for w in self.workloads if w["proc"]]
        procs += self.agents
        if self.prometheus:
            procs.append(self.prometheus)
        for p in procs:
            try:
                p.stop(timeout=15)
            except Exception as e:  # Keep cleaning.
                log("cleanup: stopping %s: %s" % (p.name, e))
        for ns in self.namespaces:
            remove_namespace(ns)
        for veth in self.veths:
            run(["ip", "link", "del", veth], check=False)
        if self.args.keep:
            log("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        left = [ns for ns in list_namespaces() if self.token in ns]
        links = run(["ip", "-o", "link"], check=False).stdout
        left += [v for v in self.veths if v + "@" in links or v + ":" in links]
        if left:
            raise Failure("cleanup left behind: %s" % left)
        log("cleanup: done (no namespaces, veths or processes left)")


def list_namespaces():
    p = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def remove_namespace(ns):
    """Kills whatever runs in ns, then deletes it (its veth end goes with it)."""
    pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    for _ in range(50):
        if run(["ip", "netns", "del", ns], check=False).returncode == 0:
            return
        time.sleep(0.1)
    log("cleanup: could not delete netns %s" % ns)


def remove_stale():
    """Removes what a killed earlier run left: namespaces, veths, temp dirs (we hold the lock)."""
    for ns in list_namespaces():
        if ns.startswith(NS_PREFIX):
            log("removing stale namespace %s from an earlier run" % ns)
            remove_namespace(ns)
    for line in run(["ip", "-o", "link"], check=False).stdout.splitlines():
        m = re.match(r"\d+:\s+(%s[0-9a-f]{5}\d)[@:]" % VETH_PREFIX, line)
        if m:
            log("removing stale veth %s" % m.group(1))
            run(["ip", "link", "del", m.group(1)], check=False)
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "gcpilot-fleet-*")):
        log("removing stale temp dir %s" % d)
        shutil.rmtree(d, ignore_errors=True)


# ---- checks ----


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


def take_lock(deadline_s):
    fd = os.open(EBPF_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        log("waiting for %s (another eBPF test runs)" % EBPF_LOCK)
    deadline = time.time() + deadline_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.time() > deadline:
                os.close(fd)
                raise Failure("could not take %s within %d s" % (EBPF_LOCK, deadline_s))
            time.sleep(1)


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
        fleet = Fleet(args)
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
