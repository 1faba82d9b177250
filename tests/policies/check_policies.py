#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The shipped policies against the project's flow catalogue (policies/catalogue.tsv).

1. Every shipped scenario compiles, in every cloud, for two regions, with its switches off and
   on and with every value of batch and publicip, against generated tag files in Microsoft's
   format (tests/tools/gentags.py); with --real-tags, against Microsoft's real files as well.
   The time of each compile is printed.
2. Every rule cites a catalogue ID whose direction, protocol, ports and endpoints it has, in a
   scenario, cloud and variable setting the catalogue gives it ('when'); in every other setting
   of a scenario that has the ID, the policy declares it 'noflow' with a reason.  Every ID is
   covered; a retired ID is never a rule with the default variables; publicip=off leaves no
   inbound rule of the policy.
3. 'compile --what-if' and 'tags diff --what-if' name exactly the flow IDs the catalogue's
   conditions say a change of batch, publicip or a switch opens and closes.
4. With --flows (shared/aml-flows.md, when it is there): every ID of that document is in the
   catalogue with the same direction, protocol and ports.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

# cloud variable, generated tag file, two regions
GEN_CLOUDS = [
    ("public", "ServiceTags_Public_20261130.json", ["EastUS2", "WestEurope"]),
    ("usgov", "ServiceTags_AzureGovernment_20261130.json", ["USGovVirginia", "USGovArizona"]),
    ("china", "ServiceTags_China_20261130.json", ["ChinaEast2", "ChinaNorth3"]),
]
REAL_CLOUDS = [
    ("public", "ServiceTags_Public_20251020.json", ["EastUS2", "WestEurope"]),
    ("usgov", "ServiceTags_AzureGovernment_20251020.json", ["USGovVirginia", "USGovArizona"]),
    ("usgov", "ServiceTags_AzureGovernment_20260719.json", ["USGovVirginia", "USGovTexas"]),
    ("china", "ServiceTags_China_20251020.json", ["ChinaEast2", "ChinaNorth3"]),
]
SWITCHES = ["ssh", "monitor", "python", "r", "vscode", "support"]
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
COLUMNS = ["id", "status", "retired", "dir", "proto", "ports", "endpoints", "scenarios",
           "clouds", "when", "source", "source_date", "note"]


def load_catalogue(path):
    """The catalogue's rows by ID, in order; every field checked for shape."""
    rows, errors = {}, []
    header = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                if header != COLUMNS:
                    errors.append("%s:%d: columns %s, expected %s" % (path, n, cells, COLUMNS))
                continue
            if len(cells) != len(COLUMNS):
                errors.append("%s:%d: %d columns, expected %d" % (path, n, len(cells),
                                                                   len(COLUMNS)))
                continue
            r = dict(zip(COLUMNS, cells))
            r["line"] = n
            if not ID_RE.match(r["id"]) or r["id"] in rows:
                errors.append("%s:%d: bad or repeated ID '%s'" % (path, n, r["id"]))
            if r["status"] not in ("active", "retired"):
                errors.append("%s:%d: status '%s'" % (path, n, r["status"]))
            if (r["status"] == "retired") != bool(re.match(r"^\d{4}-\d\d-\d\d$", r["retired"])):
                errors.append("%s:%d: a retired ID needs its date, an active one '-'" % (path, n))
            if r["source"] == "-" or r["source_date"] == "-":
                errors.append("%s:%d: no source or no date" % (path, n))
            r["when_map"] = parse_when(r["when"])
            rows[r["id"]] = r
    return rows, errors


def parse_when(text):
    if text in ("-", "never"):
        return text
    conds = {}
    for c in text.split():
        k, _, v = c.partition("=")
        conds[k] = set(v.split("|"))
    return conds


def when_holds(row, variables):
    w = row["when_map"]
    if w == "never":
        return False
    if w == "-":
        return True
    return all(variables.get(k) in vals for k, vals in w.items())


def ports_of(text):
    """'80,443' or '29876-29877' or 'any' as a sorted list of [lo, hi]."""
    if text in ("any", "-"):
        return []
    out = []
    for p in text.split(","):
        lo, _, hi = p.partition("-")
        out.append([int(lo), int(hi or lo)])
    return sorted(out)


def defines(policy):
    with open(policy, encoding="utf-8") as f:
        return dict(re.findall(r"^define (\w+) = \"?([^\"\n]*)\"?$", f.read(), re.M))


_compiled = {}


def compile_policy(amlguard, policy, tags, variables):
    """One compile per distinct (policy, tags, variables): a scenario without switches is the
    same configuration with its switches "on" and "off", and is compiled once."""
    key = (policy, tags, tuple(sorted(variables.items())))
    if key not in _compiled:
        _compiled[key] = run_compile(amlguard, policy, tags, variables)
    return _compiled[key]


def run_compile(amlguard, policy, tags, variables):
    cmd = [amlguard, "-q", "compile", "-j", "-p", policy, "--tags", tags]
    for k, v in variables.items():
        cmd += ["--var", "%s=%s" % (k, v)]
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - start
    if res.returncode != 0:
        return None, took, res.stdout + res.stderr
    return json.loads(res.stdout), took, res.stderr


def configs(defs, full):
    """Variable settings to compile: defaults, switches on, each Batch mode, no public IP."""
    sw = [s for s in SWITCHES if s in defs]
    on = {s: "on" for s in sw}
    out = [("defaults", {})]
    if sw:
        out.append(("switches-on", dict(on)))
    if "batch" in defs:
        for b in ("classic", "both"):
            out.append(("batch=" + b, {"batch": b}))
        if full:
            out.append(("batch=classic switches-on", dict(on, batch="classic")))
    if "publicip" in defs:
        out.append(("publicip=off", {"publicip": "off"}))
        if full:
            out.append(("publicip=off switches-on batch=both",
                        dict(on, publicip="off", batch="both")))
    return out


def endpoints_of(rule):
    """The rule's remote items as the catalogue writes them: @SET for a set, else the text."""
    items = set()
    for it in rule["remote"]["items"]:
        items.add(("@" + it["set"]) if it.get("set") else it["text"])
    return {i.lower() for i in items}


class Checker:
    def __init__(self, cat):
        self.cat = cat
        self.failures = 0
        self.implemented = {}
        self.declared = {}

    def fail(self, msg):
        print("FAIL " + msg)
        self.failures += 1

    def judge(self, what, sc, cloud, region, variables, out, name):
        rules = [r for r in out["rules"] if not r["platform"]]
        flows = {}
        for r in rules:
            if not r["flow"]:
                self.fail("%s: rule %s cites no flow ID" % (what, r["origin"]))
                continue
            flows.setdefault(r["flow"], []).append(r)
        noflows = {n["flow"] for n in out["noflow"]}
        for f, rs in flows.items():
            row = self.cat.get(f)
            if not row:
                self.fail("%s: %s cites %s, which the catalogue does not have" %
                          (what, rs[0]["origin"], f))
                continue
            self.implemented.setdefault(f, set()).add(name)
            for r in rs:
                self.check_rule(what, row, r, region)
            if sc not in row["scenarios"].split(",") or cloud not in row["clouds"].split(","):
                self.fail("%s: %s is a rule here, the catalogue gives it to %s in %s" %
                          (what, f, row["scenarios"], row["clouds"]))
            elif not when_holds(row, variables):
                self.fail("%s: %s is a rule, but the catalogue's condition '%s' does not "
                          "hold" % (what, f, row["when"]))
        for f in noflows:
            if f not in self.cat:
                self.fail("%s: noflow %s is not in the catalogue" % (what, f))
                continue
            self.declared.setdefault(f, set()).add(name)
        # Every ID the catalogue gives this scenario: a rule exactly when its condition holds.
        for f, row in self.cat.items():
            if sc not in row["scenarios"].split(","):
                continue
            want = cloud in row["clouds"].split(",") and when_holds(row, variables)
            if want and f not in flows:
                self.fail("%s: %s should be a rule (%s)" % (what, f, row["when"]))
            elif not want and f not in flows and f not in noflows:
                self.fail("%s: %s is neither a rule nor declared noflow" % (what, f))
        if variables.get("publicip") == "off":
            inbound = [r["flow"] for r in rules if r["dir"] == "in"]
            if inbound:
                self.fail("%s: publicip=off has inbound rules: %s" % (what, ", ".join(inbound)))

    def check_rule(self, what, row, r, region):
        f = row["id"]
        if r["dir"] != row["dir"] or r["proto"] != row["proto"]:
            self.fail("%s: %s is %s %s, the catalogue says %s %s" %
                      (what, f, r["dir"], r["proto"], row["dir"], row["proto"]))
        if sorted(r["ports"]) != ports_of(row["ports"]):
            self.fail("%s: %s has ports %s, the catalogue says %s" %
                      (what, f, r["ports"], row["ports"]))
        want = {e.replace("{region}", region).lower() for e in row["endpoints"].split(",")}
        got = endpoints_of(r)
        if got != want:
            self.fail("%s: %s has endpoints %s, the catalogue says %s" %
                      (what, f, sorted(got), sorted(want)))


WHATIFS = [
    # current values (beyond the defaults), the change
    ({}, {"batch": "classic"}),
    ({}, {"batch": "both"}),
    ({"batch": "classic"}, {"batch": "simplified"}),
    ({}, {"publicip": "off"}),
    ({"batch": "both", "ssh": "on"}, {"publicip": "off"}),
    ({}, {"monitor": "on", "python": "on"}),
]


def expected_whatif(cat, sc, cloud, now, then):
    """(opens, closes) by the catalogue: the IDs whose condition holds under one setting only."""
    opens, closes = set(), set()
    for i, row in cat.items():
        if sc not in row["scenarios"].split(",") or cloud not in row["clouds"].split(","):
            continue
        a, b = when_holds(row, now), when_holds(row, then)
        if b and not a:
            opens.add(i)
        elif a and not b:
            closes.add(i)
    return opens, closes


def check_whatif(chk, amlguard, policy, sc, defs, cloud, region, tagdir, tagfile, oldfile, site):
    """compile --what-if and tags diff --what-if against the catalogue's conditions."""
    tags = os.path.join(tagdir, tagfile)
    for cur, change in WHATIFS:
        if any(k not in defs for k in list(cur) + list(change)):
            continue
        now = dict(defs, cloud=cloud, region=region)
        now.update(cur)
        then = dict(now)
        then.update(change)
        want = expected_whatif(chk.cat, sc, cloud, now, then)
        base = ["--var", "cloud=%s" % cloud, "--var", "region=%s" % region,
                "--var", "site=%s" % site]
        for k, v in cur.items():
            base += ["--var", "%s=%s" % (k, v)]
        wi = []
        for k, v in change.items():
            wi += ["--what-if", "%s=%s" % (k, v)]
        what = "%s %s %s %s what-if %s" % (os.path.basename(policy), cloud, cur or "defaults",
                                           tagfile, change)
        for cmd, ok_rc in (([amlguard, "-q", "compile", "-j", "-p", policy, "--tags", tags] +
                            base + wi, (0,)),
                           ([amlguard, "-q", "tags", "diff", "-j", os.path.join(tagdir, oldfile),
                             tags, "-p", policy] + base + wi, (0, 1))):
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode not in ok_rc:
                chk.fail("%s: %s exit %d\n%s" % (what, cmd[2], res.returncode, res.stderr))
                continue
            flows = json.loads(res.stdout)["what_if"]["flows"]
            got = ({f["flow"] for f in flows if f["change"] == "opens"},
                   {f["flow"] for f in flows if f["change"] == "closes"})
            if got != want:
                chk.fail("%s: %s --what-if opens %s closes %s, the catalogue says opens %s "
                         "closes %s" % (what, cmd[2], sorted(got[0]), sorted(got[1]),
                                        sorted(want[0]), sorted(want[1])))
            else:
                print("ok   %s (%s): opens %s, closes %s" % (what, cmd[2],
                                                             ", ".join(sorted(got[0])) or "-",
                                                             ", ".join(sorted(got[1])) or "-"))


def aml_flows_rows(path):
    """ID -> (dir, proto, ports) of the tables in shared/aml-flows.md."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.split("|")[1:-1]]
            if cells and ID_RE.match(cells[0]) and cells[0] not in rows:
                rows[cells[0]] = cells[1:4] if len(cells) >= 4 else None
    return rows


def compare_aml_flows(cat, path):
    failures = 0
    doc = aml_flows_rows(path)
    print("\n%s: %d flow IDs" % (path, len(doc)))
    for i, cells in doc.items():
        row = cat.get(i)
        if not row:
            print("FAIL %s of %s is not in the catalogue" % (i, path))
            failures += 1
            continue
        if not cells or cells[0] not in ("in", "out"):
            continue
        d, p, ports = cells
        if (d, p) != (row["dir"], row["proto"]) or ports_of(ports) != ports_of(row["ports"]):
            print("FAIL %s: %s says %s %s %s, the catalogue %s %s %s" %
                  (i, path, d, p, ports, row["dir"], row["proto"], row["ports"]))
            failures += 1
    added = [i for i in cat if i not in doc]
    print("in the catalogue, not in %s: %s" % (os.path.basename(path), ", ".join(added)))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlguard", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--catalogue", help="default: POLICIES/catalogue.tsv")
    ap.add_argument("--tags", required=True, help="directory of the generated tag files")
    ap.add_argument("--real-tags", help="directory of Microsoft's tag files (extra cases)")
    ap.add_argument("--flows", help="shared/aml-flows.md (compared when it exists)")
    a = ap.parse_args()

    cat_path = a.catalogue or os.path.join(a.policies, "catalogue.tsv")
    cat, errors = load_catalogue(cat_path)
    for e in errors:
        print("FAIL " + e)
    print("%d flow IDs in %s (%d retired)" %
          (len(cat), cat_path, sum(r["status"] == "retired" for r in cat.values())))
    chk = Checker(cat)
    chk.failures += len(errors)
    site = os.path.abspath(os.path.join(a.policies, "site", "example.policy"))
    scenarios = sorted(f for f in os.listdir(a.policies) if f.endswith(".policy"))
    runs = [(a.tags, GEN_CLOUDS, True)]
    if a.real_tags and os.path.isdir(a.real_tags):
        runs.append((a.real_tags, REAL_CLOUDS, False))
    elif a.real_tags:
        print("no %s: the runs on Microsoft's real files are left out" % a.real_tags)
    slowest = (0, "")
    ncompiles = 0
    for tagdir, clouds, full in runs:
        for fname in scenarios:
            policy = os.path.join(a.policies, fname)
            sc = fname[:-len(".policy")]
            defs = defines(policy)
            for cloud, tagfile, regions in clouds:
                tags = os.path.join(tagdir, tagfile)
                if not os.path.exists(tags):
                    chk.fail("no tag file %s" % tags)
                    continue
                for region in regions:
                    for name, extra in configs(defs, full):
                        variables = {"cloud": cloud, "region": region, "site": site}
                        variables.update(extra)
                        out, took, err = compile_policy(a.amlguard, policy, tags, variables)
                        ncompiles += 1
                        what = "%-22s %-6s %-13s %-42s %s" % (fname, cloud, region, tagfile,
                                                              name)
                        if out is None:
                            chk.fail("%s\n%s" % (what, err))
                            continue
                        print("ok   %s %6.3f s, %2d rules" %
                              (what, took, sum(not r["platform"] for r in out["rules"])))
                        slowest = max(slowest, (took, what))
                        full_vars = dict(defs)
                        full_vars.update(variables)
                        chk.judge(what, sc, cloud, region, full_vars, out, name)
                        if name == "defaults":
                            for r in out["rules"]:
                                row = cat.get(r["flow"])
                                if row and row["status"] == "retired":
                                    chk.fail("%s: retired %s is a rule by default" %
                                             (what, r["flow"]))
    print("%d compiles, slowest %.3f s: %s" % ((ncompiles,) + slowest))
    print()
    for fname in scenarios:
        defs = defines(os.path.join(a.policies, fname))
        for cloud, tagfile, regions in GEN_CLOUDS:
            check_whatif(chk, a.amlguard, os.path.join(a.policies, fname),
                         fname[:-len(".policy")], defs, cloud, regions[0], a.tags, tagfile,
                         "ServiceTags_Public_20260601.json" if cloud == "public" else tagfile,
                         site)
    print("\ncoverage of %s:" % cat_path)
    for i, row in cat.items():
        status = row["status"] + (" " + row["retired"] if row["status"] == "retired" else "")
        if i in chk.implemented:
            print("  %-24s %-18s rule under %s" % (i, status,
                                                   ", ".join(sorted(chk.implemented[i]))))
        elif i in chk.declared and row["when"] == "never":
            print("  %-24s %-18s noflow (%s)" % (i, status, row["note"]))
        else:
            print("  %-24s %-18s MISSING: no rule in any configuration" % (i, status))
            chk.failures += 1
    if a.flows and os.path.exists(a.flows):
        chk.failures += compare_aml_flows(cat, a.flows)
    elif a.flows:
        print("no %s: the comparison with it is left out" % a.flows)
    print("FAILED: %d" % chk.failures if chk.failures else "all %d flow IDs covered" % len(cat))
    return 1 if chk.failures else 0


if __name__ == "__main__":
    sys.exit(main())
