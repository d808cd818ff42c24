#!/usr/bin/env python3
# Checks the example `gcpilot serve` configs (deploy/systemd/gcpilot.toml and
# the one in the Kubernetes ConfigMap): valid TOML, only keys that the config
# parser knows (it rejects unknown keys; read from src/serve/serve_config.cc
# when present, else the documented list), well-formed durations, counts and
# listen address.
import os
import re
import tomllib

import deploy_test_util as u

yaml = u.require_yaml()
DOCUMENTED = {"listen", "slo_pause", "retention", "max_cycles_per_process", "max_processes",
              "exited_retention", "store", "store_retention", "token_file", "watch"}
WATCH_KEYS = {"pids", "exes"}
DURATIONS = {"slo_pause", "retention", "exited_retention", "store_retention"}
COUNTS = {"max_cycles_per_process", "max_processes", "max_stream_clients", "http_threads"}


def known_keys():
    src = os.path.join(u.ROOT, "src", "serve", "serve_config.cc")
    if not os.path.exists(src):
        print(f"{src} not found: using the documented keys")
        return DOCUMENTED
    keys = set(re.findall(r'key == "(\w+)"', u.read(src))) - WATCH_KEYS
    u.check(DOCUMENTED <= keys, f"serve_config.cc lacks keys {sorted(DOCUMENTED - keys)}")
    return keys


def check_config(origin, text, keys):
    try:
        cfg = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        u.fail(f"{origin}: {e}")
        return
    for key in sorted(set(cfg) - keys):
        u.fail(f"{origin}: unknown key {key}")
    for key in DURATIONS & set(cfg):
        u.check(re.fullmatch(r"\d+(\.\d+)?(ns|us|ms|s|m|h|d)", str(cfg[key])),
                f"{origin}: {key} = {cfg[key]!r} is not a duration like \"5ms\"")
    for key in COUNTS & set(cfg):
        u.check(isinstance(cfg[key], int) and cfg[key] >= 1, f"{origin}: {key} must be >= 1")
    u.check(re.fullmatch(r"[^:\s]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}", cfg.get("listen", "")),
            f"{origin}: listen must be host:port")
    watch = cfg.get("watch", {})
    u.check(isinstance(watch, dict), f"{origin}: watch must be a table")
    for key in sorted(set(watch) - WATCH_KEYS):
        u.fail(f"{origin}: unknown key watch.{key}")
    u.check(all(isinstance(p, int) for p in watch.get("pids", [])), f"{origin}: watch.pids: ints")
    u.check(all(isinstance(e, str) for e in watch.get("exes", [])), f"{origin}: watch.exes: paths")


keys = known_keys()
check_config("deploy/systemd/gcpilot.toml",
             u.read(os.path.join(u.DEPLOY, "systemd", "gcpilot.toml")), keys)
manifest = os.path.join(u.DEPLOY, "kubernetes", "gcpilot-daemonset.yaml")
for doc in yaml.safe_load_all(u.read(manifest)):
    if doc and doc["kind"] == "ConfigMap":
        for name, text in doc["data"].items():
            check_config(f"ConfigMap {doc['metadata']['name']} {name}", text, keys)
u.finish("check_serve_configs")
