#!/usr/bin/python3
# Hostile and heavy clients against a running `gcpilot serve` (used by
# serve_test.cc): 100 concurrent event-stream clients, slow clients that never
# read, clients that disconnect mid-stream, malformed requests, oversized
# headers and bodies, bad parameters, other methods. Prints one JSON object:
# what each client saw, so the test can check the agent stayed healthy and
# the well-behaved clients were unaffected.
import http.client
import json
import socket
import sys
import threading
import time

host, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
result = {"status_codes": {}, "stream_clients_with_cycles": 0, "stream_errors": 0,
          "raw": {}}
lock = threading.Lock()


def get(path, headers=None):
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def stream_client(seconds, out):
    """Reads the stream for `seconds`; records whether cycle events came."""
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        end = time.time() + seconds
        got = b""
        while time.time() < end:
            s.settimeout(max(0.1, end - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk[-4096:] if len(got) > 1 << 20 else chunk
        s.close()
        out.append(b"event: cycle" in got)
    except OSError:
        with lock:
            result["stream_errors"] += 1


def raw(name, payload, read=True):
    """Sends raw bytes; records the status line (or what happened)."""
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(payload)
        line = b""
        if read:
            s.settimeout(10)
            try:
                line = s.recv(200).split(b"\r\n")[0]
            except OSError as e:
                line = ("error " + type(e).__name__).encode()
        s.close()
        result["raw"][name] = line.decode("latin-1")
    except OSError as e:
        result["raw"][name] = "connect error " + str(e)


# 1. Slow clients: open the stream with a tiny receive buffer and never read.
slow = []
for _ in range(10):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    slow.append(s)

# 2. 100 concurrent stream clients reading for 6 s.
seen = []
threads = [threading.Thread(target=stream_client, args=(6, seen)) for _ in range(100)]
for t in threads:
    t.start()

# 3. Clients that disconnect mid-stream, over and over.
for _ in range(50):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)
        s.close()
    except OSError:
        pass

# 4. Malformed and hostile requests.
raw("garbage", b"\x00\x01\x02 not http at all\r\n\r\n")
raw("no_version", b"GET /\r\n\r\n")
raw("huge_header", b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
    b"\r\n\r\n")
raw("many_headers", b"GET /api/v1/status HTTP/1.1\r\n" +
    b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n")
raw("huge_body", b"POST /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" +
    b"a" * 65536)
raw("half_request", b"GET /api/v1/sta", read=False)
raw("traversal", b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
for path in ["/api/v1/processes/abc", "/api/v1/processes/99999999999",
             "/api/v1/processes/%d/cycles?limit=0" % pid,
             "/api/v1/processes/%d/cycles?after=-1" % pid,
             "/api/v1/processes/%d/cycles?limit=1x" % pid,
             "/api/v1/processes/%d/windows?view=5y" % pid,
             "/api/v1/stream?pid=zero", "/nope", "/api/v1/processes/1"]:
    try:
        st, _ = get(path)
    except OSError as e:
        st = "error " + type(e).__name__
    result["status_codes"][path] = st
for method in ["POST", "PUT", "DELETE"]:
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request(method, "/api/v1/status", body=b"{}")
    result["status_codes"][method] = c.getresponse().status
    c.close()

for t in threads:
    t.join()
result["stream_clients_with_cycles"] = sum(1 for x in seen if x)
result["stream_clients"] = len(seen)

# 5. While the slow clients are still connected: the API answers.
st, body = get("/api/v1/status")
result["status_while_slow"] = st
result["status_json_while_slow"] = json.loads(body)
for s in slow:
    s.close()
print(json.dumps(result))
