#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A current compute node's traffic through 'amlguard check' with the shipped policies.

A capture is generated (amlg-gencap) with what a compute instance or cluster sends and receives
today -- Batch simplified node communication (TCP and UDP 443 to BatchNodeManagement.<region>),
AzureMachineLearning UDP 5831 and TCP 8787/18881, AzureActiveDirectory 80, 44224 from
AzureMachineLearning -- the retired classic Batch inbound ports and near misses (another
region's Batch, UDP 5832, UDP 5831 to Storage); the addresses come from the generated tag files
('amlguard tags show').  Each flow must get the verdict and flow ID the variables give it: the
defaults, batch=classic, batch=both and publicip=off, in every cloud.  Needs root (BPF); exit
77 without.
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys

LOCAL = "10.0.0.4"
SETTINGS = [
    ("defaults", {}),
    ("batch=classic", {"batch": "classic"}),
    ("batch=both", {"batch": "both"}),
    ("publicip=off", {"publicip": "off"}),
]
CLOUDS = [
    ("public", "ServiceTags_Public_20261130.json", "EastUS2", "WestEurope"),
    ("usgov", "ServiceTags_AzureGovernment_20261130.json", "USGovVirginia", "USGovArizona"),
    ("china", "ServiceTags_China_20261130.json", "ChinaEast2", "ChinaNorth3"),
]
# Each 'check' loads a datapath: every setting on the instance in the public cloud, the
# defaults elsewhere (tests/bpf/test_flows.c has every cloud and setting at the datapath).
RUNS = {
    "public": [("compute-instance.policy", k) for k in range(len(SETTINGS))] +
              [("compute-cluster.policy", 0)],
    "usgov": [("compute-instance.policy", 0)],
    "china": [("compute-cluster.policy", 0)],
}
V = None  # a violation
B = "COMPUTE-OUT-BATCH"
# name, proto, direction, tag ({r}: region, {o}: another region), port,
# the flow ID (or V) under defaults, batch=classic, batch=both, publicip=off
FLOWS = [
    ("batch-simplified", "tcp", "out", "BatchNodeManagement.{r}", 443, [B, V, B, B]),
    ("batch-simplified-udp", "udp", "out", "BatchNodeManagement.{r}", 443, [B, V, B, B]),
    ("aml-udp-5831", "udp", "out", "AzureMachineLearning", 5831, ["COMPUTE-OUT-AML-UDP"] * 4),
    ("aml-8787", "tcp", "out", "AzureMachineLearning", 8787, ["COMPUTE-OUT-AML-CI"] * 4),
    ("aml-18881", "tcp", "out", "AzureMachineLearning", 18881, ["COMPUTE-OUT-AML-CI"] * 4),
    ("aml-443", "tcp", "out", "AzureMachineLearning", 443, ["COMPUTE-OUT-AML"] * 4),
    ("aad-80", "tcp", "out", "AzureActiveDirectory", 80, ["COMPUTE-OUT-AAD-WEB"] * 4),
    ("aad-443", "tcp", "out", "AzureActiveDirectory", 443, ["COMPUTE-OUT-AAD-WEB"] * 4),
    ("storage-443", "tcp", "out", "Storage.{r}", 443, ["COMPUTE-OUT-STORAGE"] * 4),
    ("aml-in-44224", "tcp", "in", "AzureMachineLearning", 44224,
     ["COMPUTE-IN-AML"] * 3 + [V]),
    ("batch-in-29876", "tcp", "in", "BatchNodeManagement.{r}", 29876,
     [V, "COMPUTE-IN-BATCH", "COMPUTE-IN-BATCH", V]),
    ("batch-in-29877", "tcp", "in", "BatchNodeManagement.{r}", 29877,
     [V, "COMPUTE-IN-BATCH", "COMPUTE-IN-BATCH", V]),
    ("batch-other-region", "tcp", "out", "BatchNodeManagement.{o}", 443, [V] * 4),
    ("aml-udp-5832", "udp", "out", "AzureMachineLearning", 5832, [V] * 4),
    ("storage-udp-5831", "udp", "out", "Storage.{r}", 5831, [V] * 4),
    ("aad-8080", "tcp", "out", "AzureActiveDirectory", 8080, [V] * 4),
]


def tag_addr(amlguard, tags, name):
    """The second address of the tag's first IPv4 prefix."""
    res = subprocess.run([amlguard, "-j", "tags", "show", name, "--tags", tags],
                         capture_output=True, text=True, check=True)
    for p in json.loads(res.stdout)["prefixes"]:
        n = ipaddress.ip_network(p)
        if n.version == 4:
            return str(n.network_address + 1)
    raise ValueError("%s has no IPv4 prefix" % name)


def clean_run(a, tags, spec, region):
    """Only today's traffic (what the defaults allow): check exits 0, no violating flow."""
    clean, cap = spec + ".clean", spec + ".clean.pcap"
    with open(spec, encoding="utf-8") as f, open(clean, "w", encoding="utf-8") as g:
        for line, fl in zip(f, FLOWS):
            if fl[5][0] is not V:
                g.write(line)
    subprocess.run([a.gencap, clean, cap], check=True, capture_output=True)
    res = subprocess.run([a.amlguard, "-j", "check", "-p",
                          os.path.join(a.policies, "compute-instance.policy"), "--tags", tags,
                          "--local", LOCAL + "/32", "--no-progress", "--var",
                          "region=" + region, cap], capture_output=True, text=True)
    summary = json.loads(res.stdout.splitlines()[-1])["summary"] if res.stdout else {}
    what = "compute-instance.policy, default variables, today's traffic only"
    if res.returncode != 0 or summary.get("violating_flows") != 0:
        print("FAIL %s: exit %d, %s\n%s" % (what, res.returncode, summary, res.stderr))
        return 1
    print("ok   %s: exit 0, %d flows, flow IDs %s" % (what, summary["flows"],
                                                   ", ".join(sorted(summary["flow_ids_used"]))))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlguard", required=True)
    ap.add_argument("--gencap", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--tags", required=True, help="directory of the generated tag files")
    ap.add_argument("--work", required=True, help="a directory for the captures")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (BPF_PROG_TEST_RUN)")
        return 77
    os.makedirs(a.work, exist_ok=True)
    failures = passes = 0
    for cloud, tagfile, region, other in CLOUDS:
        tags = os.path.join(a.tags, tagfile)
        spec = os.path.join(a.work, "traffic-%s.spec" % cloud)
        cap = os.path.join(a.work, "traffic-%s.pcap" % cloud)
        sports = {}
        with open(spec, "w", encoding="utf-8") as f:
            for i, (name, proto, d, tag, port, _) in enumerate(FLOWS):
                addr = tag_addr(a.amlguard, tags, tag.replace("{r}", region)
                                .replace("{o}", other))
                sport = 40000 + i
                sports[sport] = name
                src, dst = (LOCAL, addr) if d == "out" else (addr, LOCAL)
                f.write("%s %s %s %d %s %d\n" % (name, proto, src, sport, dst, port))
        subprocess.run([a.gencap, spec, cap], check=True, capture_output=True)
        if cloud == "public":
            failures += clean_run(a, tags, spec, region)
        for policy, k in RUNS[cloud]:
            sname, extra = SETTINGS[k]
            cmd = [a.amlguard, "-j", "check", "-p", os.path.join(a.policies, policy),
                   "--tags", tags, "--local", LOCAL + "/32", "--no-progress",
                   "--var", "region=" + region, "--var", "cloud=" + cloud]
            for n, v in extra.items():
                cmd += ["--var", "%s=%s" % (n, v)]
            res = subprocess.run(cmd + [cap], capture_output=True, text=True)
            lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
            got = {}
            for x in lines:
                if "summary" in x:
                    continue
                # the generated flows' initiators use the ports of the spec
                got[sports.get(x["sport"], "?")] = x["flow"] if x["verdict"] == "allow" else V
            want_violation = any(fl[5][k] is V for fl in FLOWS)
            what = "%s %s %s %s" % (policy, cloud, region, sname)
            if res.returncode != (1 if want_violation else 0):
                print("FAIL %s: check exit %d\n%s" % (what, res.returncode, res.stderr))
                failures += 1
            for name, proto, d, tag, port, want in FLOWS:
                w, g = want[k], got.get(name, "missing")
                line = "%s: %s %s %s %s port %d: %s" % (
                    what, name, d, proto, tag.replace("{r}", region).replace("{o}", other),
                    port, g or "violation")
                if g != w:
                    print("FAIL %s, expected %s" % (line, w or "violation"))
                    failures += 1
                else:
                    print("ok   " + line)
                    passes += 1
    print("%d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
