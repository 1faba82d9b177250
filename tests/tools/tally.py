#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The test suite's count, for scripts/test: the name of each failure, one line
"N passed, N failed, N skipped", then the name and reason of each skip.

    tally.py [--check NAME=pass|fail]... STAGE=BUILD_DIR...

For each STAGE=BUILD_DIR, BUILD_DIR/junit.xml is ctest's report (--output-junit junit.xml) and
BUILD_DIR/test-results/ the per-case results of the runners with named cases (one line
"PASS|FAIL|SKIP<TAB>name<TAB>reason" each).  A ctest test counts by its named cases when it
wrote any, by its cmocka cases when it is a cmocka test, and as one case otherwise; a test that
failed without a failed case (a crash, a timeout) adds one failure.  --check adds a stage
outside ctest (the build, the format check).
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

CMOCKA = re.compile(r"^\[ +(OK|FAILED|SKIPPED|ERROR) +\] (\S+)\s*$")
RUN = re.compile(r"^\[ RUN +\] (\S+)\s*$")


def cmocka_cases(out):
    """(status, case, reason) from cmocka's output: each result right after its RUN line."""
    cases, current, last = [], None, ""
    for line in out.splitlines():
        m = RUN.match(line)
        if m:
            current, last = m.group(1), ""
            continue
        m = CMOCKA.match(line)
        if m and current == m.group(2):
            st = {"OK": "PASS", "SKIPPED": "SKIP"}.get(m.group(1), "FAIL")
            cases.append((st, current, last.strip()))
            current = None
            continue
        if current and line.strip():
            last = line
    return cases


def last_line(out):
    lines = [l.strip() for l in (out or "").splitlines() if l.strip()]
    return lines[-1] if lines else ""


def tally_stage(stage, build, counts, skips, fails):
    junit = os.path.join(build, "junit.xml")
    if not os.path.exists(junit):
        counts["FAIL"] += 1
        fails.append((stage, "no ctest report (%s)" % junit))
        return
    for tc in ET.parse(junit).getroot().iter("testcase"):
        name = tc.get("name")
        status = tc.get("status")  # run, fail, notrun, disabled
        out = (tc.findtext("system-out") or "")
        failed = status == "fail"
        skipped = status in ("notrun", "disabled")
        rfile = os.path.join(build, "test-results", re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".tsv")
        cases = []
        if os.path.exists(rfile):
            with open(rfile, encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) >= 2 and parts[0] in counts:
                        cases.append((parts[0], "%s: %s" % (name, parts[1]),
                                      parts[2] if len(parts) > 2 else ""))
        elif "[ RUN      ]" in out:
            cases = [(s, "%s: %s" % (name, c), r) for s, c, r in cmocka_cases(out)]
        if not cases:
            if failed:
                cases = [("FAIL", name, last_line(out))]
            elif skipped:
                why = tc.find("skipped")
                reason = last_line(out) or (why.get("message") if why is not None else "")
                cases = [("SKIP", name, reason)]
            else:
                cases = [("PASS", name, "")]
        elif failed and not any(s == "FAIL" for s, _, _ in cases):
            cases.append(("FAIL", name, "failed outside its named cases: " + last_line(out)))
        for st, cname, reason in cases:
            counts[st] += 1
            label = "%s %s" % (stage, cname)
            if st == "SKIP":
                skips.append((label, reason))
            elif st == "FAIL":
                fails.append((label, reason))


def main():
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    skips, fails = [], []
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--check":
            name, _, res = args.pop(0).partition("=")
            counts["PASS" if res == "pass" else "FAIL"] += 1
            if res != "pass":
                fails.append((name, "failed"))
            continue
        stage, _, build = a.partition("=")
        tally_stage(stage, build, counts, skips, fails)
    for label, reason in fails:
        print("failed: %s: %s" % (label, reason))
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    for label, reason in skips:
        print("skipped: %s: %s" % (label, reason or "no reason given"))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
