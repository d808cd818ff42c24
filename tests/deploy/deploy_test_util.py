# Helpers shared by the deploy/ checks (tests/deploy/check_*.py): the repo
# root, failing and skipping as CTest expects, the metric names that
# docs/serve.md and the recording rules define, and the metric names a PromQL
# expression uses.
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
SKIP = 77  # SKIP_RETURN_CODE of every deploy test

_failures = []


def fail(msg):
    """Records a failed check (reported by finish())."""
    _failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def finish(what):
    """Exits 1 if any check failed, else 0."""
    if _failures:
        print(f"{what}: {len(_failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print(f"{what}: ok")
    sys.exit(0)


def skip(reason):
    """Skips (exit 77); under CI=true a missing prerequisite is a failure."""
    if os.environ.get("CI") == "true":
        print(f"FAIL (CI=true, cannot skip): {reason}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def require_yaml():
    try:
        import yaml  # noqa: F401
    except ImportError:
        skip("python3 module yaml missing (Debian package python3-yaml)")
    return sys.modules["yaml"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def documented_metrics():
    """Metric names of docs/serve.md ("Prometheus metrics"), with the
    _bucket/_count/_sum series of its histograms."""
    text = read(os.path.join(ROOT, "docs", "serve.md"))
    section = text[text.index("## Prometheus metrics"):]
    names = set()
    for name in re.findall(r"`([a-z_][a-z0-9_]*)`", section):
        if name.startswith(("gcpilot_", "process_")):
            names.add(name)
    for name in re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*histogram\s*\|", section, re.M):
        names.discard(name)  # no series has the bare histogram name
        names.update({name + "_bucket", name + "_count", name + "_sum"})
    return names


def recorded_metrics(yaml):
    """Names recorded by deploy/prometheus/gcpilot-rules.yml."""
    rules = yaml.safe_load(read(os.path.join(DEPLOY, "prometheus", "gcpilot-rules.yml")))
    return {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}


_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "start", "end"}


def metric_names(expr):
    """Metric names selected by a PromQL expression (a lexical scan: string
    literals, label matchers, ranges and grouping clauses are removed first;
    an identifier followed by "(" is a function)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names
