#!/usr/bin/env python3
"""Prometheus poller of the serve benchmark (bench/serve_bench.sh runs it).

Asks Prometheus's HTTP API for `gcpilot_gc_cycles_total` (an instant query, every
series at once) every --interval seconds, and records, per pid, the CLOCK_MONOTONIC
time each new counter value was first seen in a query answer. The driver joins
that with the cycles the SSE latency client saw: a cycle with sequence number S of
pid P (the agent's counter of P equals S once that cycle is counted) is visible to
a Prometheus query from the first poll whose value for P is >= S. So the measured
delay is scrape wait + ingestion + this poll's resolution (<= --interval).

Writes --out at exit (SIGTERM/SIGINT) as CSV: pid,value,seen_ns. Standard library
only.
"""

import argparse
import json
import signal
import sys
import time
import urllib.parse
import urllib.request

STOP = False


def _on_signal(signum, frame):
    global STOP
    STOP = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prometheus", required=True, help="base URL, e.g. http://127.0.0.1:9090")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    url = args.prometheus + "/api/v1/query?" + urllib.parse.urlencode(
        {"query": 'gcpilot_gc_cycles_total{job="gcpilot"}'})
    last = {}  # pid -> last value seen
    rows = []
    errors = 0
    next_t = time.monotonic()
    while not STOP:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.load(r)
            seen = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            for s in body.get("data", {}).get("result", []):
                pid = int(s["metric"].get("pid", "0"))
                value = int(float(s["value"][1]))
                if last.get(pid) != value:
                    last[pid] = value
                    rows.append((pid, value, seen))
        except Exception as e:  # Prometheus busy or restarting: try again
            errors += 1
            if errors <= 5:
                print(f"prom_poll: {e}", file=sys.stderr)
        next_t += args.interval
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_t = time.monotonic()
    with open(args.out, "w") as f:
        f.write("pid,value,seen_ns\n")
        for r in rows:
            f.write(f"{r[0]},{r[1]},{r[2]}\n")
    print(f"prom_poll: {len(rows)} changes, {errors} errors", file=sys.stderr)


if __name__ == "__main__":
    main()
