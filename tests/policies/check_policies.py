#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The shipped policies against the requirements catalogue.

1. Every shipped scenario compiles, in every cloud, for two regions, with its switches off and
   on, against Microsoft's real tag files; the time of each compile is printed.
2. Every flow ID of aml-flows.md is implemented by a rule of some shipped policy or declared
   'noflow' (not a packet flow) in a configuration with every switch on; every shipped rule
   cites a flow ID, and none cites an ID the catalogue does not have.
"""
import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import time

CLOUDS = [
    # cloud variable, tag file, two regions
    ("public", "ServiceTags_Public_20251020.json", ["EastUS2", "WestEurope"]),
    ("usgov", "ServiceTags_AzureGovernment_20251020.json", ["USGovVirginia", "USGovArizona"]),
    ("usgov", "ServiceTags_AzureGovernment_20260719.json", ["USGovVirginia", "USGovTexas"]),
    ("china", "ServiceTags_China_20251020.json", ["ChinaEast2", "ChinaNorth3"]),
]
SWITCHES = ["ssh", "python", "r", "vscode", "support"]
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


def catalogue_ids(path):
    """Flow IDs: the first cell of every table row that looks like an ID."""
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("|"):
                continue
            cell = line.split("|")[1].strip()
            if ID_RE.match(cell) and cell not in ids:
                ids.append(cell)
    return ids


def defined_switches(policy):
    with open(policy, encoding="utf-8") as f:
        text = f.read()
    return [s for s in SWITCHES if re.search(r"^define %s = " % s, text, re.M)]


_compiled = {}


def compile_policy(amlguard, policy, tags, variables):
    """One compile per distinct (policy, tags, variables): a scenario without switches is the
    same configuration with its switches "on" and "off", and is compiled once."""
    key = (policy, tags, tuple(sorted(variables.items())))
    if key not in _compiled:
        _compiled[key] = run_compile(amlguard, policy, tags, variables)
    return _compiled[key]


def run_compile(amlguard, policy, tags, variables):
    cmd = [amlguard, "-q", "compile", "-j", "-v", "-p", policy, "--tags", tags]
    for k, v in variables.items():
        cmd += ["--var", "%s=%s" % (k, v)]
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - start
    if res.returncode != 0:
        return None, took, res.stdout + res.stderr
    return json.loads(res.stdout), took, res.stderr


def merged_prefixes(out):
    """Distinct addresses of all rules, collapsed per family."""
    nets = {4: [], 6: []}
    for r in out["rules"]:
        if r["platform"]:
            continue
        for side in ("remote", "local"):
            s = r.get(side)
            for p in (s or {}).get("prefixes", []):
                n = ipaddress.ip_network(p)
                nets[n.version].append(n)
    return {v: len(list(ipaddress.collapse_addresses(nets[v]))) for v in (4, 6)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlguard", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--flows", required=True)
    ap.add_argument("--tags", required=True, help="directory of Microsoft's tag files")
    a = ap.parse_args()

    if not os.path.exists(a.flows) or not os.path.isdir(a.tags):
        print("no %s or %s: skipped" % (a.flows, a.tags))
        return 77
    ids = catalogue_ids(a.flows)
    print("%d flow IDs in %s" % (len(ids), a.flows))
    site = os.path.abspath(os.path.join(a.policies, "site", "example.policy"))
    scenarios = sorted(f for f in os.listdir(a.policies) if f.endswith(".policy"))
    implemented, declared, cited = {}, {}, set()
    failures = 0
    slowest = (0, "")
    for sc in scenarios:
        policy = os.path.join(a.policies, sc)
        switches = defined_switches(policy)
        for cloud, tagfile, regions in CLOUDS:
            tags = os.path.join(a.tags, tagfile)
            if not os.path.exists(tags):
                continue
            for region in regions:
                for on in (False, True):
                    variables = {"cloud": cloud, "region": region, "site": site}
                    if on:
                        variables.update({s: "on" for s in switches})
                    out, took, err = compile_policy(a.amlguard, policy, tags, variables)
                    what = "%-22s %-6s %-13s %-42s switches %-3s" % (
                        sc, cloud, region, tagfile, "on" if on else "off")
                    if out is None:
                        print("FAIL %s\n%s" % (what, err))
                        failures += 1
                        continue
                    rules = [r for r in out["rules"] if not r["platform"]]
                    pf = merged_prefixes(out)
                    print("ok   %s %6.3f s (compile %5.1f ms), %2d rules, %5d IPv4 and %4d "
                          "IPv6 prefixes" % (what, took, out["compile_us"] / 1000.0,
                                             len(rules), pf[4], pf[6]))
                    slowest = max(slowest, (took, what))
                    for r in rules:
                        cited.add(r["flow"])
                        if not r["flow"]:
                            print("FAIL %s: rule %s cites no flow ID" % (what, r["origin"]))
                            failures += 1
                    for n in out["noflow"]:
                        cited.add(n["flow"])
                    if not on:
                        continue
                    for r in rules:
                        if r["flow"]:
                            implemented.setdefault(r["flow"], set()).add(sc)
                    for n in out["noflow"]:
                        declared.setdefault(n["flow"], set()).add(sc)
    print("slowest compile: %.3f s: %s" % slowest)
    print("\ncoverage of %s:" % a.flows)
    for i in ids:
        if i in implemented:
            print("  %-20s rule in %s" % (i, ", ".join(sorted(implemented[i]))))
        elif i in declared:
            print("  %-20s noflow in %s" % (i, ", ".join(sorted(declared[i]))))
        else:
            print("  %-20s MISSING: no shipped rule and no noflow" % i)
            failures += 1
    unknown = sorted(f for f in cited if f and f not in ids)
    if unknown:
        print("flow IDs cited by shipped policies but not in the catalogue: %s" %
              ", ".join(unknown))
        failures += 1
    print("%s" % ("FAILED" if failures else "all %d flow IDs covered" % len(ids)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
