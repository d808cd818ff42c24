#!/usr/bin/env python3
# Checks that every expression of deploy/prometheus/gcpilot-rules.yml selects
# only metrics that exist: those of docs/serve.md, the rules' own recordings,
# and `up` (a typo in a metric name would silently record nothing), and that
# every alert has a severity and a summary.
import os

import deploy_test_util as u

yaml = u.require_yaml()
rules = yaml.safe_load(u.read(os.path.join(u.DEPLOY, "prometheus", "gcpilot-rules.yml")))
known = u.documented_metrics() | u.recorded_metrics(yaml) | {"up"}
count = 0
for group in rules["groups"]:
    u.check(group.get("interval") == "1m", f"group {group['name']}: interval must be 1m "
            "(the SLO's 1-minute windows)")
    for rule in group["rules"]:
        name = rule.get("record") or rule.get("alert")
        count += 1
        for metric in sorted(u.metric_names(rule["expr"]) - known):
            u.fail(f"{name}: unknown metric {metric}")
        if "alert" in rule:
            u.check(rule.get("labels", {}).get("severity") in ("page", "ticket"),
                    f"{name}: severity must be page or ticket")
            u.check(rule.get("annotations", {}).get("summary"), f"{name}: no summary")
u.check(count > 0, "no rules found")
u.finish(f"check_rules_metrics: {count} rules")
