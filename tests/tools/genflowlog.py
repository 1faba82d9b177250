#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""genflowlog: write Azure flow logs (virtual network flow logs version 4 or NSG flow logs
version 2) of the flows described in a spec file, for the "check" tests and benchmarks.

  genflowlog.py [--format vnet|nsg] [--gzip] [--start EPOCH] [--per-record N] [--malformed]
                (--tree DIR | -o FILE) SPEC
  genflowlog.py --bench TUPLES --flows N [--mac MAC] [--format vnet|nsg] [--gzip] -o FILE

Each non-comment line of SPEC is one flow, as its initiator sent it:
  NAME PROTO SRC SPORT DST DPORT DIR NSG RULE MAC [EXPECTED...]
PROTO tcp, udp, icmp, icmpv6 or a number; DIR O (the source is the NIC) or I; NSG A (allowed)
or D (denied); RULE the NSG rule's name; MAC the NIC (12 hex digits).  An allowed flow is a B, a
C and an E tuple 60 s apart (counters 10/1000 + 8/4000 on C, 2/100 + 1/60 on E: 21 packets and
5160 bytes in all); a denied one two D tuples (VNet) or two B tuples with decision D (NSG), 1 s
apart.  Flows start 10 minutes apart from --start, so a flow's tuples may fall in two hours.

--tree writes the blob layout (.../y=/m=/d=/h=/m=00/macAddress=/PT1H.json[.gz]), one file per
NIC and hour; -o one file.  --malformed adds, to the first record of the first file, three bad
tuples (an address out of range, too few fields, a number instead of a string), and two bad
records (a string, and a record of flowLogVersion 3 or properties.Version 7) after it.  The
counts written are printed as JSON on stdout.

--bench writes TUPLES tuples of N distinct outbound TCP flows (B, C and E tuples cycling), in
records of 1000 tuples, of the NIC --mac (whose value also seeds the flows' remote addresses),
for throughput measurements.
"""
import argparse
import gzip
import json
import os
import random
import sys

P = argparse.ArgumentParser(description=__doc__.split("\n")[0])
P.add_argument("spec", nargs="?")
P.add_argument("--format", choices=["vnet", "nsg"], default="vnet")
P.add_argument("--gzip", action="store_true")
P.add_argument("--start", type=int, default=1796284800)  # 2026-12-03T08:00:00Z
P.add_argument("--per-record", type=int, default=4)
P.add_argument("--malformed", action="store_true")
P.add_argument("--tree")
P.add_argument("-o", dest="out")
P.add_argument("--bench", type=int)
P.add_argument("--flows", type=int, default=10000)
P.add_argument("--mac", default="000D3A000001", help="--bench: the NIC (and the flows' seed)")
A = P.parse_args()

SUB = "00000000-0000-0000-0000-000000000000"
FLOWLOG_ID = (f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/"
              "NETWORKWATCHERS/NETWORKWATCHER_EASTUS2/FLOWLOGS/STAGINGVNETFLOWLOG")
TARGET_ID = (f"/subscriptions/{SUB}/resourceGroups/staging/providers/Microsoft.Network/"
             "virtualNetworks/staging-vnet")
NSG_ID = (f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/STAGING/PROVIDERS/MICROSOFT.NETWORK/"
          "NETWORKSECURITYGROUPS/STAGING-NSG")
ACL_ID = "5b7c1a2e-0d3f-4c4e-9a8b-7f6e5d4c3b2a"
PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def iso(sec):
    import datetime
    return datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.0000000Z")


def vnet_record(sec, mac, groups):
    """groups: {(acl, rule): [tuple strings]}"""
    flows = {}
    for (acl, rule), tuples in groups.items():
        flows.setdefault(acl, []).append({"rule": rule, "flowTuples": tuples})
    return {"time": iso(sec), "flowLogVersion": 4,
            "flowLogGUID": "abcdef01-2345-6789-0abc-def012345678", "macAddress": mac,
            "category": "FlowLogFlowEvent", "flowLogResourceID": FLOWLOG_ID,
            "targetResourceID": TARGET_ID, "operationName": "FlowLogFlowEvent",
            "flowRecords": {"flows": [{"aclID": acl, "flowGroups": g} for acl, g in flows.items()]}}


def nsg_record(sec, mac, groups):
    rules = {}
    for (_, rule), tuples in groups.items():
        rules.setdefault(rule, []).extend(tuples)
    return {"time": iso(sec), "systemId": "66aa66aa-bb77-cc88-dd99-00ee00ee00ee",
            "category": "NetworkSecurityGroupFlowEvent", "resourceId": NSG_ID,
            "operationName": "NetworkSecurityGroupFlowEvents",
            "properties": {"Version": 2, "flows": [
                {"rule": rule, "flows": [{"mac": mac, "flowTuples": t}]}
                for rule, t in rules.items()]}}


def write(path, doc_text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    data = doc_text.encode()
    if A.gzip:
        with gzip.open(path, "wb", compresslevel=6) as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def tuple_str(fmt, ms, src, dst, sport, dport, proto, d, state, nsg, ctr):
    c = ",".join(str(x) for x in ctr) if ctr else ",,,"
    if fmt == "vnet":
        st = "D" if nsg == "D" else state
        return f"{ms},{src},{dst},{sport},{dport},{proto},{d},{st},NX,{c}"
    p = {6: "T", 17: "U"}[proto]
    return f"{ms // 1000},{src},{dst},{sport},{dport},{p},{d},{nsg},{state},{c}"


def bench():
    rnd = random.Random(A.mac)
    flows = [f"192.0.2.{10 + i % 200},{'198.51.100' if i % 3 else '203.0.113'}.{rnd.randrange(1, 255)},"
             f"{1024 + i % 60000},{rnd.choice((443, 80, 8443, 22))},6,O" for i in range(A.flows)]
    recs, tuples, t0 = [], [], A.start * 1000
    states = ("B,NX,,,,", "C,NX,10,1000,8,4000", "E,NX,2,100,1,60")
    n = 0
    out = open(A.out + ".tmp", "w")
    out.write('{"records":[')
    first = True
    while n < A.bench:
        k = min(1000, A.bench - n)
        if A.format == "vnet":
            tuples = [f"{t0 + (n + i)},{flows[(n + i) % A.flows]},{states[((n + i) // A.flows) % 3]}"
                      for i in range(k)]
            rec = vnet_record(A.start, A.mac, {(ACL_ID, "DefaultRule_AllowInternetOutBound"): tuples})
        else:
            tuples = []
            for i in range(k):
                f = flows[(n + i) % A.flows].split(",")
                s = states[((n + i) // A.flows) % 3].split(",")
                tuples.append(f"{A.start + (n + i) // 1000},{f[0]},{f[1]},{f[2]},{f[3]},T,O,A,{s[0]},"
                              + ",".join(s[2:]))
            rec = nsg_record(A.start, A.mac, {("", "DefaultRule_AllowInternetOutBound"): tuples})
        out.write(("" if first else ",") + json.dumps(rec))
        first = False
        n += k
    out.write("]}\n")
    out.close()
    if A.gzip:
        with open(A.out + ".tmp", "rb") as f, gzip.open(A.out, "wb", compresslevel=6) as g:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                g.write(b)
        os.unlink(A.out + ".tmp")
    else:
        os.rename(A.out + ".tmp", A.out)
    print(json.dumps({"tuples": n, "flows": A.flows}))


def main():
    if A.bench:
        if not A.out:
            P.error("--bench needs -o")
        return bench()
    if not A.spec or not (A.tree or A.out):
        P.error("a SPEC and --tree or -o are needed")
    spec = [l.split() for l in open(A.spec) if l.strip() and not l.startswith("#")]
    events = []  # (ms, mac, rule, tuple)
    for i, s in enumerate(spec):
        name, proto, src, sport, dst, dport, d, nsg, rule, mac = s[:10]
        proto = PROTOS.get(proto, None) or int(proto)
        if A.format == "nsg" and proto not in (6, 17):
            continue  # NSG flow logs know TCP and UDP only
        t = (A.start + 600 * i) * 1000 + 250
        args = (src, dst, sport, dport, proto, d)
        if nsg == "D":
            st = "D" if A.format == "vnet" else "B"
            events.append((t, mac, rule, tuple_str(A.format, t, *args, st, "D", None)))
            events.append((t + 1000, mac, rule, tuple_str(A.format, t + 1000, *args, st, "D", None)))
        else:
            events.append((t, mac, rule, tuple_str(A.format, t, *args, "B", "A", None)))
            events.append((t + 60000, mac, rule,
                           tuple_str(A.format, t + 60000, *args, "C", "A", (10, 1000, 8, 4000))))
            events.append((t + 120000, mac, rule,
                           tuple_str(A.format, t + 120000, *args, "E", "A", (2, 100, 1, 60))))
    events.sort(key=lambda e: e[0])
    # files: per NIC and hour (tree), or one
    files = {}
    for e in events:
        hour = e[0] // 3600000
        key = (e[1], hour) if A.tree else ("", 0)
        files.setdefault(key, []).append(e)
    counts = {"files": 0, "records": 0, "tuples": 0, "bad_tuples": 0, "bad_records": 0, "paths": []}
    for n, ((mac, hour), evs) in enumerate(sorted(files.items(), key=lambda kv: (kv[0][1], kv[0][0]))):
        records = []
        for j in range(0, len(evs), A.per_record):
            chunk = evs[j:j + A.per_record]
            rmac = chunk[0][1]
            groups = {}
            for e in chunk:
                if e[1] != rmac:  # one NIC per record
                    continue
                groups.setdefault((ACL_ID, e[2]), []).append(e[3])
            sec = chunk[-1][0] // 1000
            rec = vnet_record(sec, rmac, groups) if A.format == "vnet" else nsg_record(sec, rmac, groups)
            records.append(rec)
            counts["tuples"] += sum(len(t) for t in groups.values())
            # a single file: several NICs, a record per NIC and chunk
            for other in sorted({e[1] for e in chunk} - {rmac}):
                g2 = {}
                for e in chunk:
                    if e[1] == other:
                        g2.setdefault((ACL_ID, e[2]), []).append(e[3])
                records.append(vnet_record(sec, other, g2) if A.format == "vnet" else nsg_record(sec, other, g2))
                counts["tuples"] += sum(len(t) for t in g2.values())
        if A.malformed and n == 0:
            r0 = records[0]
            tl = (r0["flowRecords"]["flows"][0]["flowGroups"][0]["flowTuples"] if A.format == "vnet"
                  else r0["properties"]["flows"][0]["flows"][0]["flowTuples"])
            bad = json.loads(json.dumps(r0))
            good = tl[0]
            f = good.split(",")
            tl.append(",".join([f[0], "192.0.2.300"] + f[2:]))
            tl.append(",".join(f[:5]))
            tl.append(42)
            counts["bad_tuples"] += 3
            if A.format == "vnet":
                bad["flowLogVersion"] = 3
            else:
                bad["properties"]["Version"] = 7
            records[1:1] = ["not a record", bad]
            counts["bad_records"] += 2
        counts["records"] += len(records)
        if A.tree:
            import datetime
            dt = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
            base = (f"flowLogResourceID={FLOWLOG_ID}" if A.format == "vnet"
                    else f"insights-logs-networksecuritygroupflowevent/resourceId={NSG_ID}")
            path = os.path.join(A.tree, base, f"y={dt.year}", f"m={dt.month:02d}", f"d={dt.day:02d}",
                                f"h={dt.hour:02d}", "m=00", f"macAddress={mac}",
                                "PT1H.json" + (".gz" if A.gzip else ""))
        else:
            path = A.out
        write(path, json.dumps({"records": records}, indent=1))
        counts["files"] += 1
        counts["paths"].append(path)
    print(json.dumps(counts))


main()
