#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every metric the shipped dashboard and rules query exists: the amlguard_* names in their
PromQL expressions must be among the names the collector writes (the string literals of
user/metrics/metrics_collect.c, the only place metric names are spelled), besides Prometheus's own
"up" and "ALERTS".  The dashboard must parse as JSON and be a Grafana dashboard with panels,
each with a unique id, a grid position and at least one query.

Usage: metric_names.py METRICS_COLLECT.c DASHBOARD.json RULES.yml"""
import json
import re
import sys

import yaml

NAME = re.compile(r"\bamlguard_[a-z0-9_]+\b")
src, dash_path, rules_path = sys.argv[1:4]
known = set(re.findall(r'"(amlguard_[a-z0-9_]+)"', open(src).read()))
assert len(known) > 30, f"{src}: only {len(known)} metric names found"
errors = []


def check(where, expr):
    if not NAME.search(expr) and not re.search(r"\b(up|ALERTS)\b", expr):
        errors.append(f"{where}: queries no amlguard metric: {expr}")
    for n in NAME.findall(expr):
        if n not in known:
            errors.append(f"{where}: {n} is not a metric amlguard exports")


dash = json.load(open(dash_path))
panels = dash.get("panels") or []
if not panels or not dash.get("title") or "schemaVersion" not in dash:
    errors.append(f"{dash_path}: not a Grafana dashboard with panels")
ids = [p.get("id") for p in panels]
if len(set(ids)) != len(ids):
    errors.append(f"{dash_path}: panel ids are not unique: {ids}")
queries = 0
for p in panels:
    if p.get("type") == "row":
        continue
    if "gridPos" not in p:
        errors.append(f"{dash_path}: panel {p.get('title')}: no gridPos")
    targets = p.get("targets") or []
    if not targets:
        errors.append(f"{dash_path}: panel {p.get('title')}: no query")
    for t in targets:
        check(f"{dash_path}: panel {p.get('title')!r}", t["expr"])
        queries += 1
for v in dash.get("templating", {}).get("list", []):
    q = v.get("query")
    if v.get("type") == "query":
        check(f"{dash_path}: variable {v['name']}", q["query"] if isinstance(q, dict) else q)
        queries += 1

rules = 0
for g in yaml.safe_load(open(rules_path))["groups"]:
    for r in g["rules"]:
        check(f"{rules_path}: {r.get('alert') or r.get('record')}", r["expr"])
        rules += 1

for e in errors:
    print(e, file=sys.stderr)
print(f"{queries} dashboard queries, {rules} rules, {len(known)} metrics known: "
      f"{'ok' if not errors else f'{len(errors)} errors'}")
sys.exit(1 if errors else 0)
