#!/usr/bin/env python3
# Checks deploy/kubernetes/Dockerfile: Debian bookworm-slim, no package
# mirror or other URL written in it, libbpf1 from bookworm-backports, the
# entrypoint the DaemonSet's args expect, and that the packages it installs
# provide every shared library the built gcpilot binary links directly
# (readelf NEEDED, located by ldd, owner by dpkg -S; libc6 is in every Debian
# image, and apt brings the libraries' own dependencies). That last part
# needs the binary: skipped (failed under CI=true) when it is not built.
# Usage: check_dockerfile.py GCPILOT_BINARY
import os
import re
import shutil
import subprocess
import sys

import deploy_test_util as u

DOCKERFILE = os.path.join(u.DEPLOY, "kubernetes", "Dockerfile")
BASE_PACKAGES = {"libc6"}


def installed_packages(text):
    """Packages of every `apt-get install` line, and those from backports."""
    text = text.replace("\\\n", " ")
    pkgs, backports = set(), set()
    for cmd in re.findall(r"apt-get install([^;&\n]*)", text):
        words = cmd.split()
        target = None
        names = []
        i = 0
        while i < len(words):
            if words[i] in ("-t", "--target-release"):
                target = words[i + 1]
                i += 2
                continue
            if not words[i].startswith("-"):
                names.append(words[i])
            i += 1
        pkgs.update(names)
        if target == "bookworm-backports":
            backports.update(names)
    return pkgs, backports


def owner(lib):
    """Debian package owning a shared library path (usrmerge-aware)."""
    real = os.path.realpath(lib)
    candidates = [lib, real]
    for p in (lib, real):
        candidates.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for path in candidates:
        r = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None


def check_libraries(binary, pkgs):
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    if not u.check(r.returncode == 0, f"readelf -d {binary} failed: {r.stderr.strip()}"):
        return
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)
    u.check(needed, f"{binary}: no NEEDED entries (static binary?)")
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if not u.check(r.returncode == 0, f"ldd {binary} failed: {r.stderr.strip()}"):
        return
    found = dict(re.findall(r"^\s*(\S+)\s*=>\s*(\S+)", r.stdout, re.M))
    for soname in needed:
        path = found.get(soname)
        if not u.check(path and path != "not", f"{soname}: not found by ldd"):
            continue
        pkg = owner(path)
        if u.check(pkg, f"no Debian package owns {path}"):
            u.check(pkg in pkgs | BASE_PACKAGES, f"the image lacks {pkg} (for {soname})")
    print(f"{len(needed)} libraries: {' '.join(needed)}")


def main():
    text = u.read(DOCKERFILE)
    u.check("://" not in text, "no URL (e.g. a package mirror) may be written in the Dockerfile")
    u.check(re.search(r"^FROM debian:bookworm-slim\s*$", text, re.M), "FROM debian:bookworm-slim")
    u.check(re.search(r'^ENTRYPOINT \["/usr/local/bin/gcpilot"\]', text, re.M),
            "ENTRYPOINT [\"/usr/local/bin/gcpilot\"]")
    pkgs, backports = installed_packages(text)
    u.check("libbpf1" in backports, "libbpf1 must come from bookworm-backports (needs 1.4)")
    binary = sys.argv[1] if len(sys.argv) > 1 else ""
    if u._failures:
        u.finish("check_dockerfile")
    if not (binary and os.path.exists(binary)):
        u.skip(f"gcpilot binary not built ({binary or 'no path given'}): "
               "runtime libraries not checked")
    if not all(shutil.which(t) for t in ("readelf", "ldd", "dpkg-query")):
        u.skip("readelf, ldd or dpkg-query missing: runtime libraries not checked")
    check_libraries(binary, pkgs)
    u.finish("check_dockerfile")


if __name__ == "__main__":
    main()
