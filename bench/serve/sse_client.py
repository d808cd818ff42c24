#!/usr/bin/env python3
"""Event-stream clients of the serve benchmark (bench/serve_bench.sh runs them).

Three roles, each a process of its own so that none slows the others' reading:

  latency    one connection to /api/v1/stream, read line by line with http.client
             (the chunked text/event-stream decoded as a browser would). For every
             `cycle` event: the CLOCK_MONOTONIC time the data line arrived, minus the
             cycle's end in the target (start_ns + sweep_term_ns + mark_ns +
             mark_term_ns, the same clock on the same host). Written at exit to
             --out as CSV: pid,generation,seq,end_ns,arrival_ns. Reconnects (and
             counts it) if the server closes the stream. With --quickack the
             client sets TCP_QUICKACK before every read (a browser does not): it
             acknowledges at once, so the server's Nagle algorithm never waits for
             a delayed ACK; the difference between the two shows that wait.
  dashboard  what a dashboard tab does when the real one is not served: GET
             /api/v1/status and /api/v1/processes, follow the stream (every event
             parsed as JSON), and reload /api/v1/processes every 10 s.
  fanout     --clients N raw connections to /api/v1/stream in one process
             (selectors, no parsing: bytes and "event:" lines counted), to load the
             agent's stream fan-out. Counts connections the server closed.

Every role runs until SIGTERM/SIGINT and then writes a JSON summary to --summary.
Standard library only.
"""

import argparse
import http.client
import json
import os
import selectors
import signal
import socket
import sys
import time

STOP = False


def _on_signal(signum, frame):
    global STOP
    if STOP:
        return  # a second signal must not interrupt writing the results
    STOP = True
    raise KeyboardInterrupt


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def write_json(path, obj):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)


def follow(host, port, on_event, counts, quickack=False):
    """Reads /api/v1/stream until it ends; calls on_event(name, data, arrival_ns)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/api/v1/stream", headers={"Accept": "text/event-stream"})
    sock = conn.sock
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"/api/v1/stream: HTTP {resp.status}")
    counts["connects"] += 1
    name, data, arrival = "message", [], 0
    try:
        while True:
            if quickack:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            line = resp.readline()
            if not line:
                return  # the server closed the stream
            if line in (b"\n", b"\r\n"):
                if data:
                    counts["events"] += 1
                    on_event(name, b"\n".join(data), arrival)
                name, data = "message", []
                continue
            if line.startswith(b"data:"):
                if not data:
                    arrival = now_ns()
                data.append(line[5:].strip())
            elif line.startswith(b"event:"):
                name = line[6:].strip().decode()
            counts["bytes"] += len(line)
    finally:
        conn.close()


def run_stream_role(args, on_event, extra=None):
    counts = {"connects": 0, "events": 0, "bytes": 0, "errors": 0}
    while not STOP:
        try:
            if extra:
                extra(counts)
            follow(args.host, args.port, on_event, counts, getattr(args, "quickack", False))
        except KeyboardInterrupt:
            break
        except Exception as e:  # reconnect after a short pause, as EventSource does
            counts["errors"] += 1
            print(f"sse_client: {e}", file=sys.stderr)
            try:
                time.sleep(0.5)
            except KeyboardInterrupt:
                break
    return counts


def role_latency(args):
    rows = []

    def on_event(name, data, arrival):
        if name != "cycle":
            return
        d = json.loads(data)
        c = d["cycle"]
        end = c["start_ns"] + c["sweep_term_ns"] + c["mark_ns"] + c["mark_term_ns"]
        rows.append((d["pid"], d["generation"], c["seq"], end, arrival))

    counts = run_stream_role(args, on_event)
    with open(args.out, "w") as f:
        f.write("pid,generation,seq,end_ns,arrival_ns\n")
        for r in rows:
            f.write(",".join(map(str, r)) + "\n")
    counts["cycles"] = len(rows)
    write_json(args.summary, counts)


def role_dashboard(args):
    by_type = {}
    state = {"next_reload": 0.0, "reloads": 0}

    def get(path):
        conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
        try:
            conn.request("GET", path)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def on_event(name, data, arrival):
        json.loads(data)
        by_type[name] = by_type.get(name, 0) + 1
        if time.monotonic() >= state["next_reload"]:
            get("/api/v1/processes")
            state["reloads"] += 1
            state["next_reload"] = time.monotonic() + 10

    def on_connect(counts):
        get("/api/v1/status")
        get("/api/v1/processes")
        state["next_reload"] = time.monotonic() + 10

    counts = run_stream_role(args, on_event, on_connect)
    counts["by_type"] = by_type
    counts["reloads"] = state["reloads"]
    write_json(args.summary, counts)


def role_fanout(args):
    sel = selectors.DefaultSelector()
    request = (f"GET /api/v1/stream HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    counts = {"clients": args.clients, "connected": 0, "closed_by_server": 0,
              "bytes": 0, "events": 0, "errors": 0}
    for _ in range(args.clients):
        try:
            s = socket.create_connection((args.host, args.port), timeout=10)
            s.sendall(request)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            counts["connected"] += 1
        except OSError as e:
            counts["errors"] += 1
            print(f"sse_client: fanout connect: {e}", file=sys.stderr)
    write_json(args.summary, counts)
    try:
        while not STOP and sel.get_map():
            for key, _ in sel.select(timeout=1.0):
                s = key.fileobj
                try:
                    buf = s.recv(1 << 18)
                except BlockingIOError:
                    continue
                except OSError:
                    buf = b""
                if not buf:
                    counts["closed_by_server"] += 1
                    sel.unregister(s)
                    s.close()
                    continue
                counts["bytes"] += len(buf)
                counts["events"] += buf.count(b"\nevent:")
    except KeyboardInterrupt:
        pass
    counts["still_connected"] = len(sel.get_map())
    write_json(args.summary, counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("role", choices=["latency", "dashboard", "fanout"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", help="latency: the CSV of cycles")
    ap.add_argument("--summary", help="JSON summary written at exit")
    ap.add_argument("--clients", type=int, default=100, help="fanout: connections")
    ap.add_argument("--quickack", action="store_true",
                    help="latency: set TCP_QUICKACK before every read")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    {"latency": role_latency, "dashboard": role_dashboard, "fanout": role_fanout}[args.role](args)


if __name__ == "__main__":
    main()
