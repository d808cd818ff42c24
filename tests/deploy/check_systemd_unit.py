#!/usr/bin/env python3
# Checks deploy/systemd/gcpilot.service.
# 1. Directives (always): the ExecStart, exactly the four capabilities in
#    both CapabilityBoundingSet and AmbientCapabilities, the sandboxing and
#    restart settings, and a StateDirectory that holds the example config's
#    store file.
# 2. `systemd-analyze verify` when installed. It needs no running systemd, but
#    it reports a missing ExecStart binary, so it checks a copy whose ExecStart
#    runs /bin/true (gcpilot is not installed in /usr/local/bin on a build
#    machine). It exits 0 even for unknown keys or unparsable values (it only
#    logs "…, ignoring"), so any line of its output naming the unit fails too.
# 3. `systemd-analyze security --offline=yes`: the exposure score must stay
#    at or below 4.0 (3.0 when written), so hardening cannot silently erode.
import os
import shutil
import subprocess
import tempfile
import tomllib

import deploy_test_util as u

UNIT = os.path.join(u.DEPLOY, "systemd", "gcpilot.service")
EXEC = "/usr/local/bin/gcpilot serve --config /etc/gcpilot/gcpilot.toml"
CAPS = {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"}
MAX_EXPOSURE = "40"  # --threshold is in tenths: 4.0


def parse_unit(text):
    """{(section, key): [values]} of a unit file (no line continuations)."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def one(unit, section, key):
    values = unit.get((section, key), [])
    u.check(len(values) == 1, f"[{section}] {key}= must be set once, found {values}")
    return values[-1] if values else None


def check_directives(unit):
    u.check(one(unit, "Service", "ExecStart") == EXEC, f"ExecStart must be {EXEC}")
    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        caps = (one(unit, "Service", key) or "").split()
        u.check(set(caps) == CAPS and len(caps) == len(CAPS),
                f"{key} must be exactly {sorted(CAPS)}, got {caps}")
    u.check(("Service", "User") not in unit, "runs as root: no User=")
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ProtectHome": "read-only", "PrivateTmp": "yes", "StateDirectory": "gcpilot",
                "Restart": "on-failure", "Type": "simple"}
    for key, value in expected.items():
        u.check(one(unit, "Service", key) == value, f"{key} must be {value}")
    u.check((one(unit, "Service", "MemoryMax") or "").rstrip("KMG").isdigit(),
            "MemoryMax must be a size")
    u.check(one(unit, "Install", "WantedBy") == "multi-user.target", "WantedBy=multi-user.target")
    # The example config's store must be in the one writable directory.
    cfg = tomllib.loads(u.read(os.path.join(u.DEPLOY, "systemd", "gcpilot.toml")))
    state = "/var/lib/" + (one(unit, "Service", "StateDirectory") or "")
    u.check(os.path.dirname(cfg.get("store", "")) == state,
            f"gcpilot.toml store must be in {state}")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


def check_with_systemd_analyze(analyze, text):
    with tempfile.TemporaryDirectory(prefix="gcpilot-unit-check-") as tmp:
        copy = os.path.join(tmp, "gcpilot.service")
        with open(copy, "w") as f:
            f.write(text.replace("ExecStart=/usr/local/bin/gcpilot ", "ExecStart=/bin/true "))
        rc, out = run([analyze, "verify", "--man=no", copy])
        if out:
            print(out)
        u.check(rc == 0, f"systemd-analyze verify exited {rc}")
        for line in out.splitlines():
            if copy in line or "gcpilot.service" in line:
                u.fail(f"systemd-analyze verify: {line}")
        rc, out = run([analyze, "security", "--offline=yes", f"--threshold={MAX_EXPOSURE}", copy])
        if "--offline" in out and ("unrecognized" in out or "Unknown" in out):
            print("systemd-analyze too old for security --offline: exposure not checked")
            return
        print(out.splitlines()[-1] if out else "")
        u.check(rc == 0, f"systemd-analyze security: exposure above {int(MAX_EXPOSURE) / 10}")


text = u.read(UNIT)
check_directives(parse_unit(text))
analyze = shutil.which("systemd-analyze")
if analyze:
    check_with_systemd_analyze(analyze, text)
else:
    print("systemd-analyze not installed: checked the directives only")
u.finish("check_systemd_unit")
