#!/usr/bin/env python3
"""Driver of the observer-overhead benchmark (run it through bench/observer_bench.sh).

Runs the Go HTTP service of bench/observers/service under wrk load on 127.0.0.1 and
switches one observer on and off in alternating measurement windows, ABBA order
(on,off | off,on | on,off ...), so that each pair compares the same service process
under the same machine noise. Observers:

  aa-inproc   A/A control: nothing switched (noise floor of the in-process configs)
  gcpilot     `gcpilot watch --pid PID` started for the on-windows, stopped for the off
  expvar      a GET of /debug/vars every second (runtime.ReadMemStats: one stop each)
  bpftrace    a naive two-probe bpftrace script (entry of stop/startTheWorldWithSema)
  aa-twoproc  A/A control for gctrace: two identical service processes, load switched
  gctrace     GODEBUG=gctrace=1: cannot be toggled in a running process (the runtime
              parses it once, into a plain int), so two processes run side by side, one
              with gctrace=1 (stderr to a log file) and one without, and wrk is pointed
              at one or the other in alternating windows. Its noise floor is aa-twoproc.

Every window: the observer is switched, a settle time passes, then the service's own
counters (/bench/stats: requests, getrusage CPU, GC cycles and exact pause total from
debug.ReadGCStats, non-GC stop count from runtime/metrics on Go 1.22+; nothing that
stops the world) are read at both edges of a fixed measurement span, together with the
run_cnt of the observer's BPF programs (bpftool prog show -j; needs
kernel.bpf_stats_enabled=1, which observer_bench.sh sets and restores) and the
observer process's CPU and peak RSS from /proc.

Then, separately, `gcpilot watch` with one --pid per process for 50 small Go processes.

Prints a Markdown table and the definitions; --json writes the raw windows too.
Standard library only.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
CHILDREN = []  # every Popen we started, killed on exit
PIDFILE = None


def log(msg):
    print(f"observer-bench: {msg}", file=sys.stderr, flush=True)


NICE = 0
GOMAXPROCS = 1


def _child_signals():
    # A background job of a non-interactive shell starts with SIGINT ignored, and
    # children inherit that: give them the default back, so SIGINT stops them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if NICE:
        os.nice(NICE)


def spawn(argv, **kw):
    p = subprocess.Popen(argv, preexec_fn=_child_signals, **kw)
    CHILDREN.append(p)
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{p.pid}\n")
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    """Stops one child we started; waits for it (SIGKILL after timeout)."""
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def stop_all():
    for p in reversed(CHILDREN):
        if p.poll() is None:
            try:
                p.terminate()
            except OSError:
                pass
    deadline = time.time() + 5
    for p in CHILDREN:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---------------------------------------------------------------- /proc, bpftool


def proc_cpu_s(pid):
    """utime+stime of a process in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def bpf_prog_ids(pid):
    """Ids of the uprobe/kprobe BPF programs a process holds open (/proc/PID/fdinfo)."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                text = f.read()
        except OSError:
            continue
        # prog_type 2 (BPF_PROG_TYPE_KPROBE) is how uprobe programs are typed;
        # other programs (e.g. an exec tracepoint) are not probes in the service.
        if "prog_type:\t2\n" not in text:
            continue
        for line in text.splitlines():
            if line.startswith("prog_id:"):
                ids.add(int(line.split()[1]))
    return ids


def bpf_run_cnt(ids):
    """Sum of run_cnt over the given program ids, read with `bpftool prog show -j`."""
    if not ids:
        return 0
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                         text=True, check=True).stdout
    return sum(int(p.get("run_cnt", 0)) for p in json.loads(out) if p.get("id") in ids)


# ---------------------------------------------------------------- service


class Service:
    def __init__(self, binary, workdir, name, env_extra=None, items=50000):
        self.name = name
        port_file = os.path.join(workdir, f"{name}.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        env = dict(os.environ)
        env.pop("GODEBUG", None)
        if GOMAXPROCS:
            env["GOMAXPROCS"] = str(GOMAXPROCS)
        env.update(env_extra or {})
        self.stderr_path = os.path.join(workdir, f"{name}.stderr.log")
        self.stderr = open(self.stderr_path, "w")
        self.proc = spawn([binary, "-port-file", port_file, "-items", str(items)],
                          env=env, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"service {name} did not start (see {self.stderr_path})")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.pid = self.proc.pid

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self):
        with urllib.request.urlopen(self.url("/bench/stats"), timeout=10) as r:
            return json.load(r)

    def close(self):
        stop(self.proc)
        self.stderr.close()


class Wrk:
    def __init__(self, url, seconds, threads, conns):
        self.proc = spawn(["wrk", f"-t{threads}", f"-c{conns}", f"-d{int(seconds)}s",
                           "--timeout", "5s", url],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self):
        stop(self.proc, signal.SIGINT)


# ---------------------------------------------------------------- observers


class NoObserver:
    name = "none"
    has_process = False

    def on(self, svc):
        pass

    def off(self):
        pass

    def pid(self):
        return None

    def close(self):
        self.off()


class ProcessObserver(NoObserver):
    """An observer that is a process started for on-windows and stopped for off."""
    has_process = True
    expected_progs = 1

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.outputs = []
        self.prog_ids = set()
        self.hwm_kb = 0
        self.starts = 0

    def argv(self, svc):
        raise NotImplementedError

    def on(self, svc):
        if self.proc is not None:
            return
        self.starts += 1
        path = os.path.join(self.workdir, f"{self.name}.{self.starts}.out")
        self.outputs.append(path)
        self.out = open(path, "w")
        self.proc = spawn(self.argv(svc), stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:  # attached when it holds its BPF programs and said so
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early: see {path}")
            self.prog_ids = bpf_prog_ids(self.proc.pid)
            if len(self.prog_ids) >= self.expected_progs and self.ready(path):
                break
            if time.time() > deadline:
                raise RuntimeError(f"{self.name} did not attach within 60 s: see {path}")
            time.sleep(0.1)

    def ready(self, path):
        return True

    def off(self):
        if self.proc is None:
            return
        try:
            self.hwm_kb = max(self.hwm_kb, proc_hwm_kb(self.proc.pid))
        except OSError:
            pass
        stop(self.proc, signal.SIGINT)
        self.out.close()
        self.proc = None
        self.prog_ids = set()

    def pid(self):
        return self.proc.pid if self.proc else None


class Gcpilot(ProcessObserver):
    name = "gcpilot"

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary

    def argv(self, svc):
        return [self.binary, "watch", "--pid", str(svc.pid)]

    def ready(self, path):
        with open(path) as f:
            return "tracing" in f.read()


BPFTRACE_SCRIPT = """\
// Naive GC-pause script: entry of stopTheWorldWithSema to entry of
// startTheWorldWithSema on the same thread; reason byte in AL (Go 1.21+).
uprobe:{bin}:runtime.stopTheWorldWithSema /pid == {pid}/ {{
  @t[tid] = nsecs; @r[tid] = reg("ax") & 0xff;
}}
uprobe:{bin}:runtime.startTheWorldWithSema /pid == {pid} && @t[tid]/ {{
  $d = nsecs - @t[tid];
  if (@r[tid] == 1 || @r[tid] == 2) {{ @gc_stop_ns = sum($d); @gc_stops = count(); }}
  else {{ @other_stops = count(); }}
  delete(@t[tid]); delete(@r[tid]);
}}
"""


class Bpftrace(ProcessObserver):
    name = "bpftrace"
    expected_progs = 2

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary

    def argv(self, svc):
        path = os.path.join(self.workdir, "naive.bt")
        with open(path, "w") as f:
            f.write(BPFTRACE_SCRIPT.format(bin=os.path.realpath(self.binary), pid=svc.pid))
        return ["bpftrace", path]

    def ready(self, path):
        with open(path) as f:
            return "Attaching" in f.read()

    def reported(self):
        """(sum ns, count) of GC stops over all on-periods, from bpftrace's map dumps."""
        total = n = 0
        for path in self.outputs:
            with open(path) as f:
                for line in f:
                    if line.startswith("@gc_stop_ns:"):
                        total += int(line.split()[1])
                    elif line.startswith("@gc_stops:"):
                        n += int(line.split()[1])
        return total, n


class Expvar(NoObserver):
    name = "expvar"

    def __init__(self):
        self.thread = None
        self.stopping = threading.Event()
        self.scrapes = 0

    def on(self, svc):
        if self.thread is not None:
            return
        self.stopping.clear()
        url = svc.url("/debug/vars")

        def loop():
            while not self.stopping.is_set():
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        r.read()
                    self.scrapes += 1
                except OSError:
                    pass
                self.stopping.wait(1.0)

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def off(self):
        if self.thread is None:
            return
        self.stopping.set()
        self.thread.join()
        self.thread = None


# ---------------------------------------------------------------- windows


def window_sample(svc, obs):
    """One edge of a measurement window. run_cnt is read before the service counters,
    at both edges, so both spans have the same length."""
    s = {"wall": time.monotonic()}
    pid = obs.pid() if obs else None
    s["run_cnt"] = bpf_run_cnt(obs.prog_ids) if pid else 0
    s["obs_cpu"] = proc_cpu_s(pid) if pid else 0.0
    s["svc"] = svc.stats()
    return s


def diff(a, b):
    sa, sb = a["svc"], b["svc"]
    d = {
        "wall_s": (sb["uptime_ns"] - sa["uptime_ns"]) / 1e9,
        "requests": sb["requests"] - sa["requests"],
        "cpu_s": (sb["cpu_user_ns"] + sb["cpu_sys_ns"] - sa["cpu_user_ns"] - sa["cpu_sys_ns"]) / 1e9,
        "gc": sb["num_gc"] - sa["num_gc"],
        "pause_ns": sb["pause_total_ns"] - sa["pause_total_ns"],
        "other_stops": (sb["other_stops"] - sa["other_stops"]) if sa["other_stops"] >= 0 else None,
        "pauses_ns": sb["recent_pauses_ns"][:max(0, min(256, sb["num_gc"] - sa["num_gc"]))],
        "run_cnt": b["run_cnt"] - a["run_cnt"],
        "obs_cpu_s": b["obs_cpu"] - a["obs_cpu"],
        "obs_wall_s": b["wall"] - a["wall"],
    }
    return d


def abba(pairs):
    """[(pair, on?)...]: on,off | off,on | on,off ..."""
    seq = []
    for i in range(pairs):
        order = (True, False) if i % 2 == 0 else (False, True)
        seq += [(i, o) for o in order]
    return seq


def run_inproc(args, name, obs):
    svc = Service(args.service, args.workdir, f"svc-{name}")
    go = svc.stats()["go_version"]
    total = (args.pairs * 2) * (args.measure + args.settle + 3) + 60
    wrk = Wrk(svc.url("/item"), total, args.wrk_threads, args.wrk_conns)
    windows = []
    try:
        time.sleep(args.warmup)
        for pair, on in abba(args.pairs):
            if on:
                obs.on(svc)
            else:
                obs.off()
            time.sleep(args.settle)
            a = window_sample(svc, obs if on else None)
            time.sleep(args.measure)
            b = window_sample(svc, obs if on else None)
            if on and obs.has_process:
                obs.hwm_kb = max(obs.hwm_kb, proc_hwm_kb(obs.pid()))
            w = diff(a, b)
            w.update(pair=pair, on=on)
            windows.append(w)
            log(f"{name}: pair {pair + 1}/{args.pairs} {'on ' if on else 'off'}: "
                f"{w['requests'] / w['wall_s']:.0f} req/s, {w['gc']} GC, "
                f"{w['pause_ns'] / max(w['gc'], 1) / 1e3:.1f} us/GC")
        obs.off()
    finally:
        obs.close()
        wrk.close()
        svc.close()
    return windows, go


def run_twoproc(args, name, env_on):
    """Two service processes; the on-windows load the one with env_on."""
    off_svc = Service(args.service, args.workdir, f"svc-{name}-off")
    on_svc = Service(args.service, args.workdir, f"svc-{name}-on", env_extra=env_on)
    windows = []
    go = off_svc.stats()["go_version"]
    try:
        for svc in (off_svc, on_svc):  # warm both up the same way
            wrk = Wrk(svc.url("/item"), args.warmup + 5, args.wrk_threads, args.wrk_conns)
            time.sleep(args.warmup / 2)
            wrk.close()
        for pair, on in abba(args.pairs):
            svc = on_svc if on else off_svc
            wrk = Wrk(svc.url("/item"), args.settle + args.measure + 30,
                      args.wrk_threads, args.wrk_conns)
            try:
                time.sleep(args.settle)
                a = window_sample(svc, None)
                time.sleep(args.measure)
                b = window_sample(svc, None)
            finally:
                wrk.close()
            w = diff(a, b)
            w.update(pair=pair, on=on)
            windows.append(w)
            log(f"{name}: pair {pair + 1}/{args.pairs} {'on ' if on else 'off'}: "
                f"{w['requests'] / w['wall_s']:.0f} req/s, {w['gc']} GC, "
                f"{w['pause_ns'] / max(w['gc'], 1) / 1e3:.1f} us/GC")
    finally:
        off_svc.close()
        on_svc.close()
    return windows, go


# ---------------------------------------------------------------- 50 processes


def run_fifty(args):
    procs = []
    for i in range(args.fifty_count):
        procs.append(spawn([args.fifty_bin, "-workers", "1", "-rps", "100", "-live-mb", "2",
                            "-stdout-every", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(2)
    dead = [p.pid for p in procs if p.poll() is not None]
    if dead:
        raise RuntimeError(f"{len(dead)} of the {args.fifty_count} test processes exited")
    argv = [args.gcpilot, "watch", "--json"]
    for p in procs:
        argv += ["--pid", str(p.pid)]
    out_path = os.path.join(args.workdir, "gcpilot-50.out")
    err_path = os.path.join(args.workdir, "gcpilot-50.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t0 = time.monotonic()
        gp = spawn(argv, stdout=out, stderr=err)
        deadline = t0 + 60
        while True:
            if gp.poll() is not None:
                raise RuntimeError(f"gcpilot watch (50 pids) exited early: see {err_path}")
            with open(err_path) as f:
                if "tracing" in f.read():
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gcpilot watch (50 pids) did not attach within 60 s")
            time.sleep(0.1)
        t_attach = time.monotonic()
        cpu_attach = proc_cpu_s(gp.pid)
        ids = bpf_prog_ids(gp.pid)
        run0 = bpf_run_cnt(ids)
        time.sleep(args.fifty_seconds)
        t1 = time.monotonic()
        cpu1 = proc_cpu_s(gp.pid)
        run1 = bpf_run_cnt(ids)
        hwm = proc_hwm_kb(gp.pid)
        stop(gp, signal.SIGINT)
    for p in procs:
        stop(p)
    with open(out_path) as f:
        cycles = sum(1 for line in f if '"type":"gc_cycle"' in line)
    return {
        "processes": args.fifty_count,
        "attach_s": t_attach - t0,
        "attach_cpu_s": cpu_attach,
        "watch_s": t1 - t_attach,
        "cpu_pct": 100 * (cpu1 - cpu_attach) / (t1 - t_attach),
        "hwm_mb": hwm / 1024,
        "cycles": cycles,
        "probe_hits": run1 - run0,
        "progs": len(ids),
    }


# ---------------------------------------------------------------- report


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def summarize(windows):
    by_pair = {}
    for w in windows:
        by_pair.setdefault(w["pair"], {})[w["on"]] = w
    rps_r, cpu_r, pause_d = [], [], []
    for p in by_pair.values():
        on, off = p[True], p[False]
        if on["gc"] and off["gc"]:
            pause_d.append((on["pause_ns"] / on["gc"] - off["pause_ns"] / off["gc"]) / 1e3)
        rps_r.append((on["requests"] / on["wall_s"]) / (off["requests"] / off["wall_s"]))
        cpu_r.append((on["cpu_s"] / on["requests"]) / (off["cpu_s"] / off["requests"]))
    s = {"rps_ratio": quartiles(rps_r), "cpu_ratio": quartiles(cpu_r), "pairs": len(by_pair),
         "pause_delta_us": quartiles(pause_d) if pause_d else (float("nan"),) * 3}
    for side, on in (("on", True), ("off", False)):
        ws = [w for w in windows if w["on"] == on]
        gc = sum(w["gc"] for w in ws)
        wall = sum(w["wall_s"] for w in ws)
        s[side] = {
            "rps": statistics.median(w["requests"] / w["wall_s"] for w in ws),
            "cpu_us_per_req": statistics.median(1e6 * w["cpu_s"] / w["requests"] for w in ws),
            "gc": gc,
            "gc_per_s": gc / wall,
            "pause_us": sum(w["pause_ns"] for w in ws) / gc / 1e3 if gc else float("nan"),
            "pause_median_us": (statistics.median(x for w in ws for x in w["pauses_ns"]) / 1e3
                                if any(w["pauses_ns"] for w in ws) else float("nan")),
            "stops_per_s": (sum(w["other_stops"] for w in ws) / wall
                            if all(w["other_stops"] is not None for w in ws) else None),
            "run_cnt": sum(w["run_cnt"] for w in ws),
            "obs_cpu_pct": 100 * sum(w["obs_cpu_s"] for w in ws) / sum(w["obs_wall_s"] for w in ws),
        }
    return s


def floor_of(s):
    """Noise floor of a control: the larger of its median's distance from 1 and half
    its IQR, for the CPU-per-request ratio."""
    q1, med, q3 = s["cpu_ratio"]
    return max(abs(med - 1), (q3 - q1) / 2)


def fmt_ratio(q):
    return f"{q[1]:.3f} [{q[0]:.3f}-{q[2]:.3f}]"


def report(args, results, fifty, go):
    lines = []
    p = lines.append
    p("")
    p(f"Observer overhead, {go}, service (GOMAXPROCS={args.gomaxprocs or 'default'}"
      f"{', nice ' + str(args.nice) if args.nice else ''}) under wrk -t{args.wrk_threads} -c{args.wrk_conns} on "
      f"127.0.0.1, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d', time.gmtime())}; "
      f"{args.pairs} ABBA pairs per config, windows {args.measure:g} s "
      f"(+{args.settle:g} s settle after each switch)")
    p("")
    p("| observer | req/s on/off | CPU/req on/off | req/s, CPU/req (off) | GC/s | mean GC pause off -> on (µs) "
      "| per-pair Δ mean pause, median [IQR] (µs) | median GC pause off -> on (µs) "
      "| non-GC stops/s off -> on | probe hits/GC | observer CPU, max RSS "
      "| pause ±2µs | no stops added | CPU/req in floor | <=2 hits/GC |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    floors = {}
    for name, (label, s, extra) in results.items():
        if name.startswith("aa-"):
            floors[name] = floor_of(s)
    for name, (label, s, extra) in results.items():
        on, off = s["on"], s["off"]
        d_pause = on["pause_us"] - off["pause_us"]
        if on["stops_per_s"] is None:
            stops = "n/a (Go < 1.22)"
            stops_ok = "n/a"
        else:
            stops = f"{off['stops_per_s']:.2f} -> {on['stops_per_s']:.2f}"
            stops_ok = "PASS" if on["stops_per_s"] - off["stops_per_s"] < 0.05 else "FAIL"
        floor_name = "aa-twoproc" if name in ("gctrace", "aa-twoproc") else "aa-inproc"
        floor = floors.get(floor_name)
        if name.startswith("aa-"):
            cpu_ok = f"floor ±{100 * floor:.1f}%"
        elif floor is None:
            cpu_ok = "n/a"
        else:
            cpu_ok = "PASS" if s["cpu_ratio"][1] - 1 <= floor else "FAIL"
        probes = extra.get("probes")
        if probes:
            hits = on["run_cnt"] / on["gc"] if on["gc"] else float("nan")
            hits_s = f"{hits:.2f}"
            hits_ok = "PASS" if hits <= 2 else "FAIL"
        else:
            hits_s, hits_ok = "0 (no probe)" if name != "aa-inproc" and name != "aa-twoproc" else "-", "-"
        if extra.get("process"):
            obs = f"{on['obs_cpu_pct']:.2f}% CPU, {extra['hwm_mb']:.1f} MB"
        else:
            obs = extra.get("obs", "-")
        pd = s["pause_delta_us"]
        pause_ok = "PASS" if abs(pd[1]) <= 2 else "FAIL"
        p(f"| {label} | {fmt_ratio(s['rps_ratio'])} | {fmt_ratio(s['cpu_ratio'])} "
          f"| {off['rps']:.0f}, {off['cpu_us_per_req']:.1f} µs | {off['gc_per_s']:.1f} "
          f"| {off['pause_us']:.1f} -> {on['pause_us']:.1f} ({d_pause:+.1f}) "
          f"| {pd[1]:+.1f} [{pd[0]:+.1f} to {pd[2]:+.1f}] "
          f"| {off['pause_median_us']:.1f} -> {on['pause_median_us']:.1f} | {stops} | {hits_s} | {obs} "
          f"| {pause_ok} | {stops_ok} | {cpu_ok} | {hits_ok} |")
    if fifty:
        p("")
        p(f"gcpilot watching {fifty['processes']} processes (tests/testprogs steady, 100 req/s, "
          f"2 MB live each; {fifty['watch_s']:.0f} s after attach): "
          f"CPU {fifty['cpu_pct']:.2f}% of one core ({'PASS' if fifty['cpu_pct'] < 1 else 'FAIL'} < 1%), "
          f"max RSS {fifty['hwm_mb']:.1f} MB ({'PASS' if fifty['hwm_mb'] < 30 else 'FAIL'} < 30 MB); "
          f"{fifty['cycles']} GC cycles reported, {fifty['probe_hits']} probe hits "
          f"({fifty['probe_hits'] / max(fifty['cycles'], 1):.2f} per cycle) on {fifty['progs']} BPF program(s); "
          f"startup to attached {fifty['attach_s']:.2f} s, {fifty['attach_cpu_s']:.2f} s CPU.")
    p("")
    p("How to read it:")
    p("- on/off columns: median over pairs of the per-pair ratio (on-window / off-window), "
      "[25th-75th percentile]. CPU/req = service utime+stime (getrusage) / requests served.")
    p("- CPU/req in floor: PASS when the median CPU/req ratio exceeds 1 by no more than the A/A "
      "control's noise floor (the larger of |median-1| and half its IQR).")
    p("- pause ±2µs: PASS when the median over pairs of (mean pause in the on-window - mean pause in "
      "the off-window) is within 2 µs; a descheduled thread during a stop makes single means jumpy "
      "on a loaded host, the per-pair median is robust to that. Median GC pause: median per-cycle "
      "MemStats.PauseNs over all cycles of the on (off) windows.")
    p("- mean GC pause: the service's own pause total (debug.ReadGCStats, = sum of MemStats.PauseNs, "
      "both stops of a cycle) / GC cycles, pooled over all on (off) windows. non-GC stops: "
      "/sched/pauses/total/other:seconds count (Go 1.22+). Both read inside the service without "
      "stopping the world.")
    p("- probe hits/GC: run_cnt of the observer's BPF programs (bpftool, kernel.bpf_stats_enabled=1) "
      "over the on-windows / GC cycles in them. Observer CPU: utime+stime of the observer process "
      "in its on-windows (BPF programs run in the service's context and are counted there).")
    p("- GODEBUG=gctrace=1 cannot be switched in a running process (the runtime parses it once, into "
      "a plain variable), so that row compares two processes started together, one with gctrace=1 "
      "(stderr to a log file), the load alternating between them; its floor is the two-process A/A "
      "control, not the in-process one. Process-to-process differences (heap layout, scheduling) are "
      "inside that floor.")
    if "bpftrace" in results:
        extra = results["bpftrace"][2]
        if extra.get("reported_n"):
            p(f"- the naive bpftrace script itself reported a mean GC stop of "
              f"{extra['reported_ns'] / extra['reported_n'] / 1e3:.1f} µs, i.e. "
              f"{2 * extra['reported_ns'] / extra['reported_n'] / 1e3:.1f} µs per cycle (two stops), "
              f"against the runtime's own {results['bpftrace'][1]['on']['pause_us']:.1f} µs per cycle "
              f"in the same windows (entry-to-entry timing, and its own probe inside the stop).")
    print("\n".join(lines), flush=True)


LABELS = {
    "aa-inproc": "A/A control (nothing switched, one process)",
    "gcpilot": "gcpilot watch --pid",
    "expvar": "expvar /debug/vars scrape 1/s",
    "bpftrace": "naive bpftrace, 2 entry probes in the stop",
    "aa-twoproc": "A/A control (two processes, load switched)",
    "gctrace": "GODEBUG=gctrace=1 (two processes)",
}


def main():
    global PIDFILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--service", required=True)
    ap.add_argument("--gcpilot", required=True)
    ap.add_argument("--fifty-bin", help="Go test program for the 50-process run (steady)")
    ap.add_argument("--fifty-count", type=int, default=50)
    ap.add_argument("--fifty-seconds", type=float, default=30)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--measure", type=float, default=3.0)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--wrk-conns", type=int, default=8)
    ap.add_argument("--configs", default="aa-inproc,gcpilot,expvar,bpftrace,aa-twoproc,gctrace")
    ap.add_argument("--nice", type=int, default=0,
                    help="run service, wrk and observers at this nice value (root: negative ok)")
    ap.add_argument("--gomaxprocs", type=int, default=1,
                    help="the service's GOMAXPROCS (0 = runtime default); 1 leaves the other "
                         "CPU of a 2-vCPU host to wrk, so stops do not wait for descheduled threads")
    ap.add_argument("--json", help="write raw windows and summaries here")
    ap.add_argument("--pidfile", help="append every started pid here (for the caller's cleanup)")
    args = ap.parse_args()
    PIDFILE = args.pidfile
    global NICE, GOMAXPROCS
    NICE = args.nice
    GOMAXPROCS = args.gomaxprocs

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    results, raw = {}, {}
    go = "?"
    fifty = None
    try:
        for name in args.configs.split(","):
            log(f"config {name}")
            extra = {}
            if name == "aa-inproc":
                windows, go = run_inproc(args, name, NoObserver())
            elif name == "gcpilot":
                obs = Gcpilot(args.workdir, args.gcpilot)
                windows, go = run_inproc(args, name, obs)
                extra = {"probes": True, "process": True, "hwm_mb": obs.hwm_kb / 1024}
            elif name == "expvar":
                obs = Expvar()
                windows, go = run_inproc(args, name, obs)
                extra = {"obs": f"{obs.scrapes} scrapes"}
            elif name == "bpftrace":
                obs = Bpftrace(args.workdir, args.service)
                windows, go = run_inproc(args, name, obs)
                total, n = obs.reported()
                extra = {"probes": True, "process": True, "hwm_mb": obs.hwm_kb / 1024,
                         "reported_ns": total, "reported_n": n}
            elif name == "aa-twoproc":
                windows, go = run_twoproc(args, name, {})
            elif name == "gctrace":
                windows, go = run_twoproc(args, name, {"GODEBUG": "gctrace=1"})
            else:
                raise SystemExit(f"unknown config {name}")
            raw[name] = windows
            results[name] = (LABELS[name], summarize(windows), extra)
        if args.fifty_bin and args.fifty_count > 0:
            log(f"gcpilot watching {args.fifty_count} processes for {args.fifty_seconds:g} s")
            fifty = run_fifty(args)
    finally:
        stop_all()
    report(args, results, fifty, go)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"windows": raw, "summaries": {k: v[1] for k, v in results.items()},
                       "fifty": fifty}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
        sys.exit(130)
    except RuntimeError as e:
        log(f"error: {e}")
        sys.exit(1)
