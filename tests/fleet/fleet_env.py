"""Environment of the fleet test (fleet_test.py): child processes, the
Prometheus HTTP API client, and the Fleet: network namespaces ("nodes") with
their veths, the gcpilot agents, the Go workloads (per-node copies of the
testprogs binaries) and Prometheus, all removed by Fleet.cleanup().

Python 3 standard library only; everything here needs root.
"""

import ctypes
import fcntl
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

EBPF_LOCK = "/tmp/gcpilot-ebpf-tests.lock"  # Shared with tests/e2e (ebpf_test_util.h).
NS_PREFIX = "gcpfleet-"
VETH_PREFIX = "gcpf"  # gcpf<token><i> / gcpf<token><i>n: at most 15 characters.
AGENT_PORT = 9464
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

    def __init__(self, args, nodes):
        """nodes[i]: the (program, Go version, flags) workloads of node i."""
        self.args = args
        self.nodes = nodes
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
        for i, node in enumerate(self.nodes):
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
