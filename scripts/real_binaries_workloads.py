#!/usr/bin/env python3
"""Inputs and loads for scripts/real_binaries.sh (standard library only).

Generators (deterministic, so a cached input is the same input):
  gen-js DIR MODULES         ES modules DIR/src/m*.js importing each other and
                             DIR/src/index.js importing them all (~24 KB each)
  gen-proto DIR FILES        a buf module (buf.yaml v1) of FILES .proto files in
                             20 packages, with imports, enums, services
  gen-repo DIR FILES CMDS    a git repository of FILES files and a lefthook.yml
                             whose pre-commit hook has CMDS glob-filtered commands
  gen-www DIR                a static site: big.txt (~600 KB of text) and list/
                             (1500 empty files, for directory listings)
Loads (127.0.0.1 only, bounded in time):
  wait-http URL SECONDS [PID]
                             exit 0 once URL answers (any HTTP status), 1 after
                             SECONDS or as soon as process PID has ended
  http-load SECONDS THREADS URL...
                             GET the URLs round robin from THREADS threads
  etcd-load SECONDS URL      PUT 32 KiB values through etcd's v3 JSON gateway
Loads print one line: requests done, errors.
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"real_binaries_workloads: {url}: only 127.0.0.1 is allowed")
    return url


def gen_js(root, modules):
    src = os.path.join(root, "src")
    os.makedirs(src, exist_ok=True)
    per = 60
    for i in range(modules):
        parts = []
        deps = range(max(0, i - 4), i)
        for j in deps:
            parts.append(f'import {{ f{j % per} as g{j} }} from "./m{j}.js";\n')
        for k in range(per):
            parts.append(
                f"export function f{k}(a, b) {{\n"
                f'  const obj_{k} = {{ x: a + {k}, y: [b, {k}, "s{i}_{k}"], z: `t${{a}}-{i}-{k}` }};\n'
                f"  let acc = 0;\n"
                f"  for (let q = 0; q < obj_{k}.y.length; q++) {{ acc += typeof obj_{k}.y[q] === "
                f'"number" ? obj_{k}.y[q] * {i % 7 + 1} : obj_{k}.y[q].length; }}\n'
                f"  class C{k} {{ constructor(v) {{ this.v = v; }} get w() {{ return this.v * {k}; }} }}\n"
                f"  return new C{k}(acc + obj_{k}.x).w + (b ? f{(k + 1) % per}(a - 1, !b) : 0);\n"
                f"}}\n")
        if i > 0:
            parts.append(f"export const use{i} = [{', '.join(f'g{j}' for j in deps)}];\n")
        with open(os.path.join(src, f"m{i}.js"), "w") as f:
            f.write("".join(parts))
    with open(os.path.join(src, "index.js"), "w") as f:
        for i in range(modules):
            f.write(f'import * as m{i} from "./m{i}.js";\n')
        f.write("console.log([" + ", ".join(f"m{i}" for i in range(modules)) + "]);\n")


def gen_proto(root, files):
    packages = 20
    for p in range(packages):
        os.makedirs(os.path.join(root, f"acme/pkg{p}/v1"), exist_ok=True)
    kinds = ["string", "int64", "bool", "double", "bytes"]
    for i in range(files):
        p = i % packages
        deps = [j for j in range(max(0, i - 2 * packages), i) if j % packages == p][-2:]
        out = [f'syntax = "proto3";\n\npackage acme.pkg{p}.v1;\n\n']
        out += [f'import "acme/pkg{p}/v1/file{j}.proto";\n' for j in deps]
        out.append('import "google/protobuf/timestamp.proto";\n\n')
        for k in range(30):
            out.append(f"// Msg{i}x{k} is a generated message.\nmessage Msg{i}x{k} {{\n")
            for q in range(12):
                out.append(f"  // f{q} is a field.\n  {kinds[q % 5]} f{q} = {q + 1};\n")
            out.append(f"  google.protobuf.Timestamp ts = 20;\n  repeated Msg{i}x{(k + 1) % 30} next = 21;\n")
            if deps:
                out.append(f"  Msg{deps[-1]}x{k} prev = 22;\n")
            out.append(f"  enum Kind{k} {{\n    KIND{k}_UNSPECIFIED = 0;\n    KIND{k}_A = 1;\n  }}\n"
                       f"  Kind{k} kind = 23;\n}}\n\n")
        out.append(f"// Svc{i}Service is a generated service.\nservice Svc{i}Service {{\n")
        for k in range(10):
            out.append(f"  // Call{k} is a method.\n  rpc Call{k}(Msg{i}x{k}) returns (Msg{i}x{(k + 1) % 30});\n")
        out.append("}\n")
        with open(os.path.join(root, f"acme/pkg{p}/v1/file{i}.proto"), "w") as f:
            f.write("".join(out))
    with open(os.path.join(root, "buf.yaml"), "w") as f:
        f.write("version: v1\n")


def gen_repo(root, files, commands):
    exts = ["go", "js", "txt", "md", "py"]
    for d in range(100):
        os.makedirs(os.path.join(root, f"src/dir{d}"), exist_ok=True)
    for i in range(files):
        with open(os.path.join(root, f"src/dir{i % 100}/file{i}.{exts[i % 5]}"), "w") as f:
            f.write(f"line {i}\n")
    with open(os.path.join(root, "lefthook.yml"), "w") as f:
        f.write("pre-commit:\n  parallel: false\n  commands:\n")
        for k in range(commands):
            f.write(f"    check{k}:\n"
                    f'      glob: "*.{exts[k % 5]}"\n'
                    f'      exclude: "src/dir{k % 100}/*"\n'
                    f"      run: echo {{all_files}} | wc -c\n")
    git = ["git", "-c", "user.email=real-binaries@invalid", "-c", "user.name=real-binaries",
           "-c", "init.defaultBranch=main", "-c", "gc.auto=0"]
    subprocess.run(git + ["init", "-q", "."], cwd=root, check=True)
    subprocess.run(git + ["add", "-A"], cwd=root, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "generated"], cwd=root, check=True)
    # pack now and never in the background (git's automatic gc would delete loose
    # objects while the script copies the repository)
    subprocess.run(["git", "config", "gc.auto", "0"], cwd=root, check=True)
    subprocess.run(["git", "gc", "-q"], cwd=root, check=True)


def gen_www(root):
    os.makedirs(os.path.join(root, "list"), exist_ok=True)
    with open(os.path.join(root, "big.txt"), "w") as f:
        f.write("".join(f"line {i} {i * 2654435761 % 4294967296:010d} {'abcdefgh' * (i % 5)}\n"
                        for i in range(20000)))
    for i in range(1500):
        open(os.path.join(root, "list", f"f{i}.txt"), "w").close()


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_http(url, seconds, pid=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (pid is None or running(pid)):
        try:
            urllib.request.urlopen(loopback_only(url), timeout=1).read()
            return 0
        except urllib.error.HTTPError:
            return 0
        except Exception:
            time.sleep(0.1)
    return 1


def run_threads(seconds, threads, one_request):
    done, errors = [0], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(w):
        n = 0
        while time.monotonic() < deadline:
            try:
                one_request(w, n)
                with lock:
                    done[0] += 1
            except Exception:
                with lock:
                    errors[0] += 1
                time.sleep(0.05)
            n += 1

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"{done[0]} requests, {errors[0]} errors")
    return 0 if done[0] > 0 else 1


def http_load(seconds, threads, urls):
    urls = [loopback_only(u) for u in urls]

    def one(w, n):
        req = urllib.request.Request(urls[(w + n) % len(urls)], headers={"Accept-Encoding": "gzip"})
        urllib.request.urlopen(req, timeout=5).read()

    return run_threads(seconds, threads, one)


def etcd_load(seconds, base):
    url = loopback_only(base.rstrip("/") + "/v3/kv/put")
    value = base64.b64encode(b"v" * 32768).decode()

    def one(w, n):
        key = base64.b64encode(f"key-{w}-{n % 500}".encode()).decode()
        body = json.dumps({"key": key, "value": value}).encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=5).read()

    return run_threads(seconds, 2, one)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "gen-js":
        gen_js(args[0], int(args[1]))
    elif cmd == "gen-proto":
        gen_proto(args[0], int(args[1]))
    elif cmd == "gen-repo":
        gen_repo(args[0], int(args[1]), int(args[2]))
    elif cmd == "gen-www":
        gen_www(args[0])
    elif cmd == "wait-http":
        return wait_http(args[0], float(args[1]), int(args[2]) if len(args) > 2 else None)
    elif cmd == "http-load":
        return http_load(float(args[0]), int(args[1]), args[2:])
    elif cmd == "etcd-load":
        return etcd_load(float(args[0]), args[1])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
