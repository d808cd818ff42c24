#!/usr/bin/env python3
"""Compares gcpilot's cycles with the Go runtime's own gctrace lines, for the
runs scripts/real_binaries.sh left in RESULTS_DIR (one directory per binary:
meta.json, gcpilot.jsonl from --json-out, stderr.txt with the program's stderr,
where GODEBUG=gctrace=1 printed its lines, and gcpilot's own messages).

  scripts/real_binaries_compare.py RESULTS_DIR [--strict] [--markdown FILE]

Per binary:
- cycles: the cycle numbers gcpilot reported (gc_cycle objects, "gc") against the
  numbers N of the `gc N @...` lines; equal sets, or the missing / extra ones;
- pauses: gctrace prints the cycle's sweep termination a and mark termination c
  (`a+b+c ms clock`) truncated after their last printed digit (0.15 is
  [0.150, 0.160) ms, 28 is [28, 29) ms), so a+c lies in [a_lo+c_lo, a_hi+c_hi);
  gcpilot's pause_ns must lie there. On Go 1.22+ gctrace's clock also counts the
  wait for the scheduler lock that the runtime's pause (what gcpilot reads)
  leaves out: a pause below the interval is counted apart ("lock wait"), not a
  mismatch;
- phases: gcpilot splits pause_ns in the proportion of the runtime's stamps, so
  sweep_term_ns and mark_term_ns must lie in a's and c's intervals (on 1.22+
  less at most the lock wait), and mark_ns in b's (on 1.22+ plus at most it);
- heap: `h0->h1->h2 MB, G MB goal, S MB stacks, L MB globals, P P` and the
  `X%` against the bytes gcpilot read (printed as bytes >> 20, exact; Go 1.19
  prints the live maxStackScan, read after gcpilot's probe: a stacks-only
  difference there is a note);
- start times: `@T s` (truncated ms since the runtime's start) against start_ns,
  relative to the first cycle (gcpilot's time origin is the exec, not the runtime's
  start): each difference within (-1, +1) ms;
- the GC CPU figures (`a+b/c/d+e ms cpu`), same truncation.
A run gcpilot refused shows its one-line reason. Writes RESULTS_DIR/table.md (the
table) and RESULTS_DIR/details.txt (up to five differing cycles per check) and
prints both. Exit status: 0; with --strict 1 when any binary was refused, did not
run, showed no GC cycle, or mismatched.
"""

import json
import os
import re
import sys

GC_HEAD = re.compile(r"\bgc (\d+) @(\d+)\.(\d+)s (\d+)%: ")
GC_FULL = re.compile(
    r"\bgc (\d+) @(\d+)\.(\d+)s (\d+)%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, "
    r"\S+ ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks, "
    r"(\d+) MB globals, (\d+) P")
GC_CPU = re.compile(r"ms clock, ([\d.]+)\+([\d.]+)/([\d.]+)/([\d.]+)\+([\d.]+) ms cpu")
REFUSED = re.compile(r"^gcpilot run --source=ebpf: (.*)$")


def interval_ns(text):
    """A printed ms figure -> [lo, hi) in ns (gctrace truncates after the last digit)."""
    whole, _, frac = text.partition(".")
    step = 10 ** (6 - len(frac))
    lo = int(whole) * 1_000_000 + (int(frac) * step if frac else 0)
    return lo, lo + step


def go_minor(version):
    m = re.search(r"go1\.(\d+)", version or "")
    return int(m.group(1)) if m else None


def read_json_lines(path):
    cycles, summary = {}, None
    if not os.path.exists(path):
        return cycles, summary
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("type") == "gc_cycle":
                cycles[obj["gc"]] = obj
            elif obj.get("type") == "summary":
                summary = obj
    return cycles, summary


def reassemble(lines):
    """The runtime writes a gctrace line in pieces ("gc ", N, " @", ...) while the
    program's own logger may write a whole line in between: "gc 14ts=... msg=...\n"
    then " @0.100s 35%: ...". Joins such a head with the continuation that starts one
    of the next lines; returns (lines, how many were joined)."""
    out, joined, skip = [], 0, set()
    for i, line in enumerate(lines):
        if i in skip:
            continue
        head = re.match(r"gc \d+", line)
        if head and not GC_FULL.match(line):
            done = False
            for j in range(i + 1, min(i + 6, len(lines))):
                if j in skip:
                    continue
                for k in range(len(line), head.end() - 1, -1):
                    if GC_FULL.match(line[:k] + lines[j]):
                        out.append(line[:k] + lines[j])
                        out.append(line[k:])  # the other writer's line
                        skip.add(j)
                        joined += 1
                        done = True
                        break
                if done:
                    break
            if done:
                continue
        out.append(line)
    return out, joined


def read_stderr(path):
    heads, full, refusal, garbled, joined = {}, {}, None, [], 0
    if not os.path.exists(path):
        return heads, full, refusal, garbled, joined
    with open(path, errors="replace") as f:
        lines = [line.rstrip("\n") for line in f]
    lines, joined = reassemble(lines)
    for line in lines:
        m = REFUSED.match(line)
        if m and refusal is None:
            refusal = m.group(1)
        h = GC_HEAD.search(line)
        if not h:
            frag = re.match(r"gc (\d+)", line)
            if frag:
                garbled.append(int(frag.group(1)))
            continue
        heads[int(h.group(1))] = h
        m = GC_FULL.search(line)
        if m:
            full[int(m.group(1))] = m
        else:
            garbled.append(int(h.group(1)))
    return heads, full, refusal, garbled, joined


def short_reason(reason, binary):
    # "PATH: go1.24.4: why (detail)" -> "go1.24.4: why (detail)"
    for prefix in (binary + ": ", os.path.basename(binary) + ": "):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason


def ranges(nums):
    nums = sorted(nums)
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    text = ",".join(out[:6])
    return text + (",..." if len(out) > 6 else "")


def compare_one(rundir):
    with open(os.path.join(rundir, "meta.json")) as f:
        meta = json.load(f)
    cycles, summary = read_json_lines(os.path.join(rundir, "gcpilot.jsonl"))
    heads, full, refusal, garbled, joined = read_stderr(os.path.join(rundir, "stderr.txt"))
    row = {
        "id": meta["id"], "binary": meta["name"], "version": meta["version"],
        "go": meta.get("go", "?"), "stripped": meta.get("stripped", "?"),
        "workload": meta.get("workload", ""), "ok": False, "notes": [],
        "cycles": f"{len(cycles) if summary else '-'}/{len(set(heads) | set(garbled))}", "pauses": "-",
    }
    rc = meta.get("gcpilot_rc")
    if summary is None:
        if refusal:
            row["result"] = "refused: " + short_reason(refusal, meta.get("path", ""))
        else:
            row["result"] = f"did not run (gcpilot exit {rc}; see {rundir}/stderr.txt)"
        row["kind"] = "refused" if refusal else "failed"
        row["cycles"] = f"-/{len(heads) if heads else '-'}"
        return row
    row["kind"] = "observed"
    problems = []
    if not heads:
        problems.append("no gctrace line (the workload did not collect)")
    missing = sorted(set(heads) - set(cycles))
    unreadable = sorted((set(cycles) - set(heads)) & set(garbled))
    extra = sorted(set(cycles) - set(heads) - set(garbled))
    if missing:
        problems.append(f"gcpilot missed cycle(s) {ranges(missing)}")
    if extra:
        problems.append(f"gcpilot has cycle(s) {ranges(extra)} gctrace does not")
    if joined:
        row["notes"].append(f"{joined} gctrace line(s) split by the program's own log output, rejoined")
    if garbled:
        row["notes"].append(f"gctrace line(s) of cycle(s) {ranges(set(garbled))} unreadable (interleaved "
                            f"with other output){': gcpilot has ' + ranges(unreadable) if unreadable else ''}")

    minor = go_minor(meta.get("go"))
    lock_wait_ok = minor is None or minor >= 22
    matched = compared = below = 0
    below_max = 0
    stack_drift = []
    bad = {what: [] for what in ("pause", "phase split", "concurrent mark", "GC CPU", "heap/stacks/globals/P/%",
                                 "start time")}
    first = None
    for n in sorted(set(full) & set(cycles)):
        m, c = full[n], cycles[n]
        compared += 1
        (a_lo, a_hi), (b_lo, b_hi), (c_lo, c_hi) = (interval_ns(m.group(i)) for i in (5, 6, 7))
        pause = c["pause_ns"]
        if a_lo + c_lo <= pause < a_hi + c_hi:
            matched += 1
        elif pause < a_lo + c_lo and lock_wait_ok:
            below += 1
            below_max = max(below_max, a_lo + c_lo - pause)
        else:
            bad["pause"].append(f"gc {n}: gctrace {m.group(5)}+{m.group(7)} ms, gcpilot {pause / 1e6:.6f} ms")
        # gcpilot splits pause_ns in the proportion of the runtime's stamps (what gctrace
        # prints): below Go 1.22 the stamps are the pauses, exact; on 1.22+ each phase
        # may lose part of the lock wait w (at most a_hi + c_hi - pause), and the mark
        # phase between them gains it
        w = max(0, a_hi + c_hi - pause) if lock_wait_ok else 0
        sweep, mark_term, mark = c["sweep_term_ns"], c["mark_term_ns"], c["mark_ns"]
        if not (a_lo - w <= sweep < a_hi and c_lo - w <= mark_term < c_hi):
            bad["phase split"].append(f"gc {n}: gctrace {m.group(5)} / {m.group(7)} ms, gcpilot "
                                      f"{sweep / 1e6:.6f} / {mark_term / 1e6:.6f} ms")
        if not b_lo <= mark < b_hi + w:
            bad["concurrent mark"].append(f"gc {n}: gctrace {m.group(6)} ms, gcpilot {mark / 1e6:.6f} ms")
        cpu = GC_CPU.search(m.string, m.start())
        if cpu:
            got = (c["cpu_sweep_term_ns"], c["cpu_assist_ns"], c["cpu_background_ns"], c["cpu_idle_ns"],
                   c["cpu_mark_term_ns"])
            if not all(lo <= v < hi for v, (lo, hi) in zip(got, (interval_ns(x) for x in cpu.groups()))):
                bad["GC CPU"].append(f"gc {n}: gctrace {'+'.join(cpu.groups())} ms cpu, gcpilot "
                                     f"{'+'.join(f'{v / 1e6:.6f}' for v in got)}")
        want = tuple(int(m.group(i)) for i in (8, 9, 10, 11, 12, 13, 14, 4))
        got = (c["heap_start_bytes"] >> 20, c["heap_end_bytes"] >> 20, c["heap_live_bytes"] >> 20,
               c["heap_goal_bytes"] >> 20, c["stacks_bytes"] >> 20, c["globals_bytes"] >> 20,
               c["gomaxprocs"], c["cpu_percent_since_start"])
        if got != want:
            if minor is not None and minor <= 19 and got[:4] + got[5:] == want[:4] + want[5:]:
                stack_drift.append(n)
            else:
                bad["heap/stacks/globals/P/%"].append(f"gc {n}: gctrace {want}, gcpilot {got}")
        t_ms = int(m.group(2)) * 1000 + int(m.group(3))
        if first is None:
            first = (t_ms, c["start_ns"])
        else:
            d_trace = t_ms - first[0]
            d_pilot = (c["start_ns"] - first[1]) / 1e6
            if not -1 < d_pilot - d_trace < 1:
                bad["start time"].append(f"gc {n}: gctrace +{d_trace} ms, gcpilot +{d_pilot:.3f} ms")
    row["pauses"] = f"{matched}/{compared}"
    if below:
        row["notes"].append(f"{below} pause(s) below gctrace's figure by up to {below_max / 1e3:.1f} µs "
                            f"(Go 1.22+: gctrace counts the scheduler-lock wait)")
    if stack_drift:
        row["notes"].append(f"stacks MB differ on cycle(s) {ranges(stack_drift)} (Go 1.19's gctrace prints "
                            f"the live maxStackScan, read after gcpilot's probe)")
    details = []
    for what, cases in bad.items():
        if cases:
            problems.append(f"{what} differs on {len(cases)} cycle(s)")
            details += [f"{what}: {x}" for x in cases[:5]]
    drops = summary.get("dropped_records", 0)
    if drops:
        problems.append(f"{drops} probe record(s) dropped")
    if problems:
        row["kind"] = "mismatch"
        row["result"] = "mismatch: " + "; ".join(problems)
    else:
        row["ok"] = True
        row["result"] = "observed"
    row["details"] = details
    return row


def markdown(rows):
    out = ["| binary | version | Go | stripped | result | cycles gcpilot/gctrace | pauses matched | notes |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        notes = "; ".join([r["workload"]] + r["notes"]) if r["workload"] else "; ".join(r["notes"])
        cells = [r["binary"], r["version"], r["go"], r["stripped"], r["result"], r["cycles"], r["pauses"], notes]
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def main(argv):
    args = argv[1:]
    strict = "--strict" in args
    args = [a for a in args if a != "--strict"]
    md_path = None
    if "--markdown" in args:
        i = args.index("--markdown")
        md_path = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    results = args[0]
    rows = []
    for name in sorted(os.listdir(results)):
        rundir = os.path.join(results, name)
        if os.path.isfile(os.path.join(rundir, "meta.json")):
            rows.append(compare_one(rundir))
    # order.txt: the run order (the script writes it), else by directory name
    order = []
    if os.path.exists(os.path.join(results, "order.txt")):
        with open(os.path.join(results, "order.txt")) as f:
            order = [line.strip() for line in f if line.strip()]
    rows.sort(key=lambda r: order.index(r["id"]) if r["id"] in order else len(order))
    table = markdown(rows)
    with open(md_path or os.path.join(results, "table.md"), "w") as f:
        f.write(table)
    print(table, end="")
    details = [f"{r['id']}: {d}" for r in rows for d in r.get("details", [])]
    with open(os.path.join(results, "details.txt"), "w") as f:
        f.write("".join(d + "\n" for d in details))
    for d in details:
        print("  " + d)
    counts = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print("real_binaries: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) +
          f" of {len(rows)} binaries")
    if strict and any(not r["ok"] for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
