#!/usr/bin/env python3
# Checks deploy/grafana/gcpilot-dashboard.json: valid JSON with the expected
# variables (datasource, binary, instance); every panel on the ${datasource}
# variable; every target expression selecting only metrics of docs/serve.md or
# of the recording rules, and valid PromQL. Syntax is checked by a throwaway
# `prometheus` (empty TSDB, free loopback port): with the dashboard variables
# substituted ($binary -> .*, $__rate_interval -> 1m) each expression is sent
# to /api/v1/query, where a parse error comes back as status "error".
# Usage: check_grafana_dashboard.py [PROMETHEUS_BINARY]
import ctypes
import json
import os
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

import deploy_test_util as u

yaml = u.require_yaml()
DASHBOARD = os.path.join(u.DEPLOY, "grafana", "gcpilot-dashboard.json")
DS_UID = "${datasource}"
BUILTIN_VARS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in BUILTIN_VARS:
            return BUILTIN_VARS[name]
        if name in variables:
            return ".*"
        u.fail(f"unknown variable ${name} in {expr!r}")
        return ".*"
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def check_structure(dash):
    u.check(dash.get("schemaVersion", 0) >= 36, "schemaVersion must be >= 36")
    u.check(dash.get("uid"), "dashboard has no uid")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource", {})
    u.check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
            "variable datasource must be of type datasource, query prometheus")
    for name in ("binary", "instance"):
        v = variables.get(name, {})
        u.check(v.get("type") == "query", f"variable {name} must be a query variable")
        u.check(v.get("datasource", {}).get("uid") == DS_UID, f"variable {name}: datasource")
    ids = [p.get("id") for p in dash["panels"]]
    u.check(len(ids) == len(set(ids)), "panel ids are not unique")
    return variables


def panel_targets(dash):
    """(panel title, expr) of every target; checks datasources and layout."""
    out = []
    for p in dash["panels"]:
        g = p.get("gridPos", {})
        u.check(g.get("x", 0) + g.get("w", 0) <= 24, f"panel {p.get('title')}: wider than 24")
        if p.get("type") == "row":
            continue
        title = p.get("title", "?")
        u.check(p.get("datasource", {}).get("uid") == DS_UID, f"panel {title}: datasource")
        u.check(p.get("targets"), f"panel {title}: no targets")
        for t in p.get("targets", []):
            u.check(t.get("datasource", {}).get("uid") == DS_UID, f"panel {title}: target datasource")
            if u.check(t.get("expr"), f"panel {title}: target without expr"):
                out.append((title, t["expr"]))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    # The server must not outlive this script, even if CTest kills it.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_prometheus(binary, tmp):
    """A ready server and its base URL; tries a few ports."""
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1m\n")
    log_path = os.path.join(tmp, "prometheus.log")
    for attempt in range(5):
        port = free_port()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data{attempt}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return proc, url
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        stop(proc)  # exited (port taken?) or never ready: try another port
    sys.stdout.write(u.read(log_path))
    u.fail("prometheus did not become ready")
    u.finish("check_grafana_dashboard")


def query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(url + "/api/v1/query", data=data, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400 bad_data and the like carry a JSON body
        return json.load(e)


def main():
    # SIGTERM (CTest's timeout, ^C) unwinds, so the server is stopped and the
    # temporary TSDB removed; PR_SET_PDEATHSIG covers SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    prometheus = sys.argv[1] if len(sys.argv) > 1 else shutil.which("prometheus")
    try:
        dash = json.loads(u.read(DASHBOARD))
    except ValueError as e:
        u.fail(f"not valid JSON: {e}")
        u.finish("check_grafana_dashboard")
    variables = check_structure(dash)
    known = u.documented_metrics() | u.recorded_metrics(yaml)
    exprs = panel_targets(dash)
    for name in ("binary", "instance"):  # label_values(metric, label)
        q = variables.get(name, {}).get("definition", "")
        m = re.fullmatch(r"label_values\((\w+)\s*,\s*\w+\)", q)
        if u.check(m, f"variable {name}: expected label_values(metric, label), got {q!r}"):
            u.check(m.group(1) in known, f"variable {name}: unknown metric {m.group(1)}")
    for title, expr in exprs:
        u.check("__name__" not in expr, f"panel {title}: select metrics by plain name")
        for metric in sorted(u.metric_names(expr) - known):
            u.fail(f"panel {title}: unknown metric {metric} in {expr!r}")
    if not prometheus or not os.access(prometheus, os.X_OK):
        print("prometheus not installed: PromQL syntax not checked")
        if u._failures:
            u.finish("check_grafana_dashboard")
        u.skip("prometheus (Debian package prometheus) is needed for the PromQL syntax check")
    with tempfile.TemporaryDirectory(prefix="gcpilot-grafana-check-") as tmp:
        proc, url = start_prometheus(prometheus, tmp)
        try:
            # The checker itself must catch a syntax error.
            bad = query(url, "sum(rate(gcpilot_gc_cycles_total[1m])")
            u.check(bad.get("status") == "error", "prometheus accepted a malformed expression")
            for title, expr in exprs:
                r = query(url, substitute(expr, variables))
                u.check(r.get("status") == "success",
                        f"panel {title}: {r.get('errorType')}: {r.get('error')} in {expr!r}")
        finally:
            stop(proc)
    u.finish(f"check_grafana_dashboard: {len(exprs)} expressions")


if __name__ == "__main__":
    main()
