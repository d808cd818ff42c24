#!/usr/bin/env python3
# Structural check of deploy/kubernetes/gcpilot-daemonset.yaml: only a
# Namespace, a ConfigMap and a DaemonSet (no RBAC, no Service/PodMonitor);
# hostPID, not privileged, capabilities exactly BPF, PERFMON, SYS_PTRACE,
# DAC_READ_SEARCH with ALL dropped, read-only root, probes on /readyz and
# /healthz, the stated resources, read-only hostPath for /sys/kernel/btf only,
# and a ConfigMap whose config listens on all interfaces at the probed port.
import os
import tomllib

import deploy_test_util as u

yaml = u.require_yaml()
PATH = os.path.join(u.DEPLOY, "kubernetes", "gcpilot-daemonset.yaml")
docs = [d for d in yaml.safe_load_all(u.read(PATH)) if d]
by_kind = {}
for d in docs:
    u.check(d["kind"] not in by_kind, f"more than one {d['kind']}")
    by_kind[d["kind"]] = d
u.check(set(by_kind) == {"Namespace", "ConfigMap", "DaemonSet"},
        f"expected exactly Namespace, ConfigMap, DaemonSet; got {sorted(by_kind)}")
ns = by_kind["Namespace"]["metadata"]["name"]
u.check(ns == "gcpilot", "namespace must be gcpilot")
for d in docs[1:]:
    u.check(d["metadata"].get("namespace") == ns, f"{d['kind']} not in namespace {ns}")

ds = by_kind["DaemonSet"]
spec = ds["spec"]
tmpl = spec["template"]
pod = tmpl["spec"]
u.check(spec["selector"]["matchLabels"].items() <= tmpl["metadata"]["labels"].items(),
        "selector does not match the pod labels")
u.check(tmpl["metadata"]["labels"].get("app") == "gcpilot", "pod label app=gcpilot missing")
ann = tmpl["metadata"].get("annotations", {})
u.check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9464",
        "prometheus.io/scrape and prometheus.io/port annotations")
u.check(pod.get("hostPID") is True, "hostPID must be true")
u.check(not pod.get("hostNetwork") and not pod.get("hostIPC"), "no hostNetwork / hostIPC")
u.check(pod.get("automountServiceAccountToken") is False, "automountServiceAccountToken: false")
u.check({"operator": "Exists"} in pod.get("tolerations", []),
        "a toleration {operator: Exists} (run on every node)")

u.check(len(pod["containers"]) == 1 and not pod.get("initContainers"), "exactly one container")
c = pod["containers"][0]
u.check(c.get("image"), "container image")
sc = c.get("securityContext", {})
u.check(sc.get("privileged") is False, "privileged must be explicitly false")
u.check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
u.check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
caps = sc.get("capabilities", {})
add = caps.get("add", [])
u.check(sorted(add) == sorted(["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"])
        and len(add) == 4, f"capabilities.add must be exactly BPF PERFMON SYS_PTRACE "
        f"DAC_READ_SEARCH, got {add}")
u.check(caps.get("drop") == ["ALL"], "capabilities.drop must be [ALL]")

ports = {p.get("name"): p for p in c.get("ports", [])}
u.check(ports.get("metrics", {}).get("containerPort") == 9464, "port metrics: 9464")
for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
    get = c.get(probe, {}).get("httpGet", {})
    u.check(get.get("path") == path and get.get("port") in (9464, "metrics"),
            f"{probe} must be httpGet {path} on 9464")
res = c.get("resources", {})
u.check(res.get("requests") == {"cpu": "50m", "memory": "64Mi"}, "requests cpu 50m memory 64Mi")
u.check(res.get("limits") == {"cpu": "500m", "memory": "256Mi"}, "limits cpu 500m memory 256Mi")

volumes = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
host_paths = {n: v["hostPath"]["path"] for n, v in volumes.items() if "hostPath" in v}
u.check(set(host_paths.values()) == {"/sys/kernel/btf"},
        f"the only hostPath must be /sys/kernel/btf, got {sorted(host_paths.values())}")
for name, path in host_paths.items():
    m = mounts.get(name, {})
    u.check(m.get("mountPath") == path and m.get("readOnly") is True,
            f"hostPath {path} must be mounted read-only at the same path")

# The config file the container is told to read is the ConfigMap's.
args = c.get("args", [])
u.check(args[:1] == ["serve"] and "--config" in args, "args: serve --config FILE")
config_path = args[args.index("--config") + 1] if "--config" in args else ""
cm = by_kind["ConfigMap"]
cfg_volume = next((n for n, v in volumes.items()
                   if v.get("configMap", {}).get("name") == cm["metadata"]["name"]), None)
m = mounts.get(cfg_volume, {})
u.check(m.get("readOnly") is True, "config volume must be mounted read-only")
u.check(os.path.dirname(config_path) == m.get("mountPath")
        and os.path.basename(config_path) in cm["data"],
        f"--config {config_path} is not a file of the ConfigMap mount")
cfg = tomllib.loads(cm["data"].get(os.path.basename(config_path), ""))
u.check(cfg.get("listen") == "0.0.0.0:9464", "ConfigMap: listen = \"0.0.0.0:9464\"")
u.check(cfg.get("store", "") == "", "ConfigMap: store must be empty (read-only root)")
u.finish("check_daemonset")
