#!/usr/bin/env python3
# Checks deploy/prometheus/prometheus-scrape.yml with `promtool check config`
# (which also checks the rule files it loads), and its gcpilot job: Kubernetes
# pod discovery keeping the pods labelled app=gcpilot.
# Debian's prometheus package is built without Kubernetes service discovery,
# so its promtool rejects kubernetes_sd_configs as an unknown field. Then the
# rest of the file is checked on a copy in which each kubernetes_sd_configs
# is replaced by a static target (relabelling and rule files unchanged), and
# the discovery block itself only structurally here.
# Usage: check_prometheus_config.py [PROMTOOL]
import copy
import os
import shutil
import subprocess
import sys
import tempfile

import deploy_test_util as u

yaml = u.require_yaml()
CONFIG = os.path.join(u.DEPLOY, "prometheus", "prometheus-scrape.yml")
NO_K8S_SD = "field kubernetes_sd_configs not found"


def promtool_check(promtool, path):
    r = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True,
                       timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


def without_k8s_sd(cfg, config_dir):
    out = copy.deepcopy(cfg)
    out["rule_files"] = [os.path.join(config_dir, f) for f in out.get("rule_files", [])]
    for job in out.get("scrape_configs", []):
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["127.0.0.1:9464"]}]
    return out


def check_job(cfg):
    u.check("gcpilot-rules.yml" in cfg.get("rule_files", []), "rule_files must load gcpilot-rules.yml")
    jobs = {j["job_name"]: j for j in cfg.get("scrape_configs", [])}
    job = jobs.get("gcpilot")
    if not u.check(job, "no scrape job named gcpilot (the alerts use job=\"gcpilot\")"):
        return
    sd = job.get("kubernetes_sd_configs", [])
    u.check(len(sd) == 1 and sd[0].get("role") == "pod", "kubernetes_sd_configs: one, role: pod")
    keeps = [r for r in job.get("relabel_configs", []) if r.get("action") == "keep"]
    u.check(any(r.get("source_labels") == ["__meta_kubernetes_pod_label_app"]
                and r.get("regex") == "gcpilot" for r in keeps),
            "relabel_configs must keep __meta_kubernetes_pod_label_app = gcpilot")


def main():
    promtool = sys.argv[1] if len(sys.argv) > 1 else shutil.which("promtool")
    cfg = yaml.safe_load(u.read(CONFIG))
    check_job(cfg)
    if not promtool or not os.access(promtool, os.X_OK):
        if u._failures:
            u.finish("check_prometheus_config")
        u.skip("promtool (Debian package prometheus) not installed")
    rc, out = promtool_check(promtool, CONFIG)
    print(out)
    if rc != 0 and NO_K8S_SD in out:
        print("This promtool lacks Kubernetes service discovery: checking the file "
              "with a static target in its place.")
        with tempfile.TemporaryDirectory(prefix="gcpilot-prom-config-") as tmp:
            path = os.path.join(tmp, "prometheus.yml")
            with open(path, "w") as f:
                yaml.safe_dump(without_k8s_sd(cfg, os.path.dirname(CONFIG)), f)
            rc, out = promtool_check(promtool, path)
            print(out)
    u.check(rc == 0, f"promtool check config exited {rc}")
    u.check("SUCCESS" in out and "rules found" in out, "promtool did not check the rule file")
    u.finish("check_prometheus_config")


if __name__ == "__main__":
    main()
