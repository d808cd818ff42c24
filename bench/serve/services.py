#!/usr/bin/env python3
"""What the serve benchmark starts and watches (bench/serve/driver.py uses it).

Children (every one recorded in the pidfile that bench/serve_bench.sh kills on exit;
a negative pid is a process group), /proc readings (CPU seconds, RSS), small HTTP
helpers, and the three services: the agent (`gcpilot serve --exe WORKLOAD`), the Go
workloads, and a Prometheus with a temporary TSDB scraping the agent. Standard
library only.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
CHILDREN = []  # (Popen, process group?) we started, stopped on exit
PIDFILE = None  # set by the driver


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
    """A Prometheus with its own TSDB scraping 127.0.0.1:target_port. eval_s is the
    rule evaluation interval, rule_files the rules it loads (the detection benchmark
    uses both), name its directory and log name."""

    def __init__(self, binary, workdir, outdir, target_port, eval_s=15, rule_files=(),
                 name="prometheus", interval_s=1):
        self.eval_s = eval_s
        self.rule_files = list(rule_files)
        self.dir = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.dir, "tsdb"), exist_ok=True)
        self.config = os.path.join(self.dir, "prometheus.yml")
        self.target_port = target_port
        self.write_config(interval_s)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(outdir, f"{name}.stderr.log"), "w")
        self.proc = spawn([binary, f"--config.file={self.config}",
                           f"--storage.tsdb.path={os.path.join(self.dir, 'tsdb')}",
                           f"--web.listen-address=127.0.0.1:{self.port}",
                           "--log.level=warn"],
                          stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited (see {name}.stderr.log)")
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
                    f"  evaluation_interval: {self.eval_s}s\n"
                    + ("rule_files:\n" if self.rule_files else "")
                    + "".join(f"  - '{r}'\n" for r in self.rule_files)
                    + "scrape_configs:\n"
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
