#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
The differential test of "check" against Wireshark.

For every capture given, tshark dissects the outermost IP layer of each packet (fragment, TCP
and UDP reassembly off); a model of what "check" promises builds flows from that dissection;
"amlguard check --each" reports its flows; both are compared: the flow key (protocol, local and
remote address and port or ICMP echo identifier, VLAN IDs), the direction, packets, bytes, and
the totals (packets, bytes, packets between non-local addresses).  Every disagreement is one
line; the ones listed in the known-differences file (with their reason) are allowed, any other
fails, and so does a listed one that no longer occurs.

The model, in the words of the README and amlguard(8):
  - a flow is keyed from the protected side; its direction is its first packet's;
  - a packet from a local address is "out", to one "in", between two other addresses it is not
    judged ("foreign"); between two local addresses it is "in" when it answers a packet that
    went the other way, else "out";
  - TCP and UDP flows are keyed by ports, ICMP and ICMPv6 echo by the identifier;
  - up to two VLAN tags (0x8100, 0x88a8) are part of the key, VLAN ID 0 included;
  - IPv6 extension headers are walked: the protocol is the last Next Header;
  - a later fragment belongs to the flow of the first fragment with the same addresses, ID
    and protocol (as the Fragment header names it) seen before it; without one it has no ports;
  - ARP, and frames that are not IP, are one flow each (no addresses);
  - bytes are the capture's lengths less the Linux cooked or BSD loopback pseudo-header.

Usage: tshark_diff.py --amlguard BIN --policy P --known FILE --marker PCAP [--local CIDR,...]
                      [--work DIR] [--one-by-one] CAPTURE...
--local adds to the first IPv4 and IPv6 source of every capture, which are local too; one
"check --each" judges all captures with that --local.  tshark reads them all in one run, merged
with mergecap, a marker frame (ethertype 0x88b5) between two captures.
Exit status: 0 agreement (up to the listed differences), 1 disagreement, 2 a tool failed.
"""
import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict

FIELDS = [
    "frame.len", "frame.encap_type", "frame.protocols", "eth.type", "vlan.id", "ieee8021ad.id",
    "ip.src", "ip.dst", "ip.proto", "ip.flags.mf", "ip.frag_offset", "ip.id",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
    "ipv6.dstopts.nxt", "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident", "ah.next_header", "tcp.srcport", "tcp.dstport", "udp.srcport",
    "udp.dstport", "icmp.type", "icmp.ident", "icmpv6.type", "icmpv6.echo.identifier",
]
TSHARK_OPTS = ["-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
               "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
               "-o", "tcp.reassemble_out_of_order:FALSE", "-T", "fields", "-E", "separator=\t",
               "-E", "occurrence=a", "-E", "aggregator=|", "-E", "quote=n"]
# Wiretap encapsulations: the pseudo-header that never was on the wire.
PSEUDO = {25: 16, 210: 20, 15: 4, 104: 4}
EXT = {0: "ipv6.hopopts.nxt", 43: "ipv6.routing.nxt", 60: "ipv6.dstopts.nxt",
       44: "ipv6.fraghdr.nxt", 51: "ah.next_header"}
PROTO_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
MARKER_TYPE = "0x88b5"  # the frame between two captures of the merged file


def ints(v):
    return [int(x, 0) for x in v.split("|")] if v else []


def num(x):
    return int(x, 0)


def first(v, conv=str):
    return conv(v.split("|")[0]) if v else None


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def tshark_rows(path):
    """The fields of every packet of one capture, and tshark's complaint if it stopped early."""
    cmd = ["tshark", "-r", path] + TSHARK_OPTS
    for f in FIELDS:
        cmd += ["-e", f]
    p = run(cmd)
    rows = [dict(zip(FIELDS, line.split("\t"))) for line in p.stdout.splitlines()]
    err = [l for l in p.stderr.splitlines() if "damaged" in l or "corrupt" in l or "cut short" in l]
    if p.returncode and not err:
        raise RuntimeError("tshark %s: %s" % (path, p.stderr.strip()))
    return rows, "; ".join(err) or None


def tshark_all(captures, marker, work):
    """tshark over all captures at once: concatenated with a marker frame between them."""
    good = list(captures)
    result = {}
    while good:
        merged = os.path.join(work, "merged.pcapng")
        args = []
        for c in good:
            args += [c, marker]
        p = run(["mergecap", "-a", "-I", "none", "-F", "pcapng", "-w", merged] + args)
        if p.returncode:
            # a capture mergecap cannot read whole: tshark reads it on its own
            bad = [c for c in good if '"%s"' % c in p.stderr]
            if not bad:
                raise RuntimeError("mergecap: " + p.stderr.strip())
            for c in bad:
                result[c] = tshark_rows(c)
                good.remove(c)
            continue
        rows, err = tshark_rows(merged)
        if err:
            raise RuntimeError("tshark on the merged captures: " + err)
        parts, cur = [], []
        for r in rows:
            if r["eth.type"] == MARKER_TYPE and r["frame.protocols"] == "eth:ethertype:data":
                parts.append(cur)
                cur = []
            else:
                cur.append(r)
        if len(parts) != len(good) or cur:
            raise RuntimeError("the merged captures do not split into %d" % len(good))
        for c, part in zip(good, parts):
            result[c] = (part, None)
        break
    return result


class Nets:
    def __init__(self, cidrs):
        self.nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]

    def has(self, a):
        ip = ipaddress.ip_address(a)
        return any(ip in n for n in self.nets)


def packet(r):
    """What the model needs of one packet, from tshark's fields."""
    p = {"wire": int(r["frame.len"]) - PSEUDO.get(int(r["frame.encap_type"] or 0), 0)}
    protos = r["frame.protocols"].split(":")
    l3 = next((i for i, t in enumerate(protos) if t in ("ip", "ipv6", "arp")), None)
    # the tags in front of the network layer, outer first (802.1Q and 802.1ad)
    tags = {"vlan": ints(r["vlan.id"]), "ieee8021ad": ints(r["ieee8021ad.id"])}
    vlan = []
    for t in protos[:l3]:
        if t in tags and tags[t]:
            vlan.append(tags[t].pop(0))
    p["vlan"] = tuple(vlan)
    if l3 is None or protos[l3] == "arp":
        p["kind"] = "non-ip" if l3 is None else "link"
        return p
    src = r["ip.src" if protos[l3] == "ip" else "ipv6.src"]
    if not src:
        p["kind"] = "malformed"  # tshark could not read the addresses either
        return p
    p["kind"] = "ip"
    sport = dport = 0
    later = first_frag = False
    frag_id = None
    if protos[l3] == "ip":
        p["family"] = 4
        src, dst = first(r["ip.src"]), first(r["ip.dst"])
        proto = first(r["ip.proto"], num)
        off = first(r["ip.frag_offset"], num) or 0
        mf = first(r["ip.flags.mf"], lambda x: x in ("1", "True"))
        later, first_frag = off > 0, off == 0 and bool(mf)
        frag_id = (first(r["ip.id"], lambda x: int(x, 0)), proto)
    else:
        p["family"] = 6
        src, dst = first(r["ipv6.src"]), first(r["ipv6.dst"])
        nh = first(r["ipv6.nxt"], num)
        used = {k: 0 for k in EXT}
        hdrs = 0
        while nh in EXT:
            vals = ints(r[EXT[nh]])
            i = used[nh]
            if i >= len(vals):
                break  # tshark stopped inside the chain
            used[nh] += 1
            hdrs += 1
            if nh == 44:
                off = ints(r["ipv6.fraghdr.offset"])[i]
                more = r["ipv6.fraghdr.more"].split("|")[i] in ("1", "True")
                frag_id = (ints(r["ipv6.fraghdr.ident"])[i], vals[i])
                if off:
                    later = True
                    nh = vals[i]
                    break
                first_frag = more
            nh = vals[i]
        proto = nh
        p["ext_headers"] = hdrs
    p.update(src=src, dst=dst, proto=proto, later=later, first_frag=first_frag,
             frag_id=frag_id)
    if not later:
        if proto == 6:
            sport, dport = first(r["tcp.srcport"], num) or 0, first(r["tcp.dstport"], num) or 0
        elif proto == 17:
            sport, dport = first(r["udp.srcport"], num) or 0, first(r["udp.dstport"], num) or 0
        elif proto == 1 and first(r["icmp.type"], num) in (0, 8) and r["icmp.ident"]:
            sport = dport = first(r["icmp.ident"], num)
        elif proto == 58 and first(r["icmpv6.type"], num) in (128, 129) and \
                r["icmpv6.echo.identifier"]:
            sport = dport = first(r["icmpv6.echo.identifier"], num)
    p["sport"], p["dport"] = sport, dport
    return p


def model(rows, local):
    """The flows "check" should report for these packets."""
    flows = OrderedDict()
    frags, seen = {}, set()
    tot = {"packets": 0, "bytes": 0, "foreign_packets": 0}
    for r in rows:
        p = packet(r)
        tot["packets"] += 1
        tot["bytes"] += p["wire"]
        if p["kind"] != "ip":
            key = (p["kind"], p["vlan"])
            d = "out"
        else:
            sl, dl = local.has(p["src"]), local.has(p["dst"])
            if not sl and not dl:
                tot["foreign_packets"] += 1
                continue
            if p["later"]:
                k = (p["family"], p["src"], p["dst"], p["frag_id"])
                if k in frags:
                    p["proto"], p["sport"], p["dport"] = frags[k]
            elif p["first_frag"]:
                frags[(p["family"], p["src"], p["dst"], p["frag_id"])] = \
                    (p["proto"], p["sport"], p["dport"])
            # connection tracking: a packet between two local addresses is "in" when the
            # other side's flow is tracked (keyed from the local side: local first)
            if sl and dl:
                d = "in" if (p["proto"], p["dst"], p["dport"], p["src"], p["sport"]) in seen \
                    else "out"
            else:
                d = "out" if sl else "in"
            if d == "out":
                seen.add((p["proto"], p["src"], p["sport"], p["dst"], p["dport"]))
            else:
                seen.add((p["proto"], p["dst"], p["dport"], p["src"], p["sport"]))
            if d == "out":
                key = ("ip", p["vlan"], p["family"], p["proto"], p["src"], p["sport"], p["dst"],
                       p["dport"])
            else:
                key = ("ip", p["vlan"], p["family"], p["proto"], p["dst"], p["dport"], p["src"],
                       p["sport"])
        f = flows.setdefault(key, {"dir": d, "packets": 0, "bytes": 0, "n": 1})
        f["packets"] += 1
        f["bytes"] += p["wire"]
    return flows, tot


def norm(a):
    return str(ipaddress.ip_address(a))


def amlguard_flows(lines):
    flows = OrderedDict()
    for f in lines:
        vlan = tuple(f["vlan"])
        if f["src"] is None:
            kind = "link" if f["verdict"] == "allow" else f["reason"]
            key = (kind, vlan)
        else:
            fam = 6 if ":" in f["src"] else 4
            proto = PROTO_NAMES.get(f["proto"]) or int(f["proto"])
            sp, dp = f["sport"] or 0, f["dport"] or 0
            if f.get("icmp_id") is not None:
                sp = dp = f["icmp_id"]
            s, d = norm(f["src"]), norm(f["dst"])
            kind = "malformed" if f["reason"] == "malformed" else "ip"
            if f["dir"] == "out":
                key = (kind, vlan, fam, proto, s, sp, d, dp)
            else:
                key = (kind, vlan, fam, proto, d, dp, s, sp)
        if key in flows:
            flows[key]["n"] += 1
            flows[key]["packets"] += f["packets"]
            flows[key]["bytes"] += f["bytes"]
            continue
        flows[key] = {"dir": f["dir"], "packets": f["packets"], "bytes": f["bytes"], "n": 1,
                      "reason": f["reason"]}
    return flows


def name(key):
    if len(key) == 2:
        return "%s%s" % (key[0], " vlan=" + ",".join(map(str, key[1])) if key[1] else "")
    kind, vlan, fam, proto, la, lp, ra, rp = key
    pn = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(proto, str(proto))

    def ep(a, port):
        if proto in (6, 17):
            return ("[%s]:%d" if fam == 6 else "%s:%d") % (a, port)
        return a
    s = "%s%s %s ~ %s" % ("malformed " if kind == "malformed" else "", pn, ep(la, lp), ep(ra, rp))
    if proto in (1, 58) and lp:
        s += " id=%d" % lp
    if vlan:
        s += " vlan=" + ",".join(map(str, vlan))
    return s


def compare(mflows, mtot, aflows, atot):
    out = []
    for k in ("packets", "bytes", "foreign_packets"):
        if mtot[k] != atot.get(k):
            out.append("summary %s: tshark %s, amlguard %s" % (k, mtot[k], atot.get(k)))
    for k, m in mflows.items():
        a = aflows.get(k)
        if a is None:
            out.append("%s: only in tshark (%s, %d packets, %d bytes)" %
                       (name(k), m["dir"], m["packets"], m["bytes"]))
            continue
        if a["n"] > 1:
            out.append("%s: amlguard reports %d flows" % (name(k), a["n"]))
        for f in ("dir", "packets", "bytes"):
            if m[f] != a[f]:
                out.append("%s: %s tshark %s, amlguard %s" % (name(k), f, m[f], a[f]))
    for k, a in aflows.items():
        if k not in mflows:
            out.append("%s: only in amlguard (%s, %d packets, %d bytes%s)" %
                       (name(k), a["dir"], a["packets"], a["bytes"],
                        ", " + a["reason"] if a["reason"] else ""))
    return out


def pattern(text):
    """'*' matches anything; every other character only itself."""
    return re.compile(".*".join(re.escape(x) for x in text.split("*")) + r"\Z")


def load_known(path):
    known = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(" | ")]
        if len(parts) != 3 or not all(parts):
            raise SystemExit("%s:%d: expected 'CAPTURE | DIFFERENCE | REASON'" % (path, n))
        known.append({"line": n, "capture": pattern(parts[0]), "diff": pattern(parts[1]),
                      "text": parts[0] + " | " + parts[1], "used": False})
    return known


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlguard", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--marker", required=True, help="a capture of one 0x88b5 frame")
    ap.add_argument("--local", default="", help="local prefixes besides each first source")
    ap.add_argument("--work", default="/tmp")
    ap.add_argument("--one-by-one", action="store_true",
                    help="one amlguard run per capture (a build without --each)")
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    known = load_known(a.known)

    ts = tshark_all(a.captures, a.marker, a.work)
    # --local: the first IPv4 and IPv6 source of every capture (and --local)
    local = set(x for x in a.local.split(",") if x)
    for c in a.captures:
        fams = set()
        for r in ts[c][0]:
            p = packet(r)
            if p["kind"] == "ip" and p["family"] not in fams:
                fams.add(p["family"])
                local.add("%s/%d" % (norm(p["src"]), 32 if p["family"] == 4 else 128))
    local = sorted(local)
    cmd = [a.amlguard, "-j", "check", "--no-progress", "-p", a.policy, "--local",
           ",".join(local)]
    per = {c: {"flows": [], "summary": None} for c in a.captures}
    errors = []
    # one policy load for all (--each), or, for a build without it, one run per capture
    for group in [a.captures] if not a.one_by_one else [[c] for c in a.captures]:
        p = run(cmd + ([] if a.one_by_one else ["--each"]) + group)
        if p.returncode not in (0, 1, 2):
            print("amlguard check: exit %d\n%s" % (p.returncode, p.stderr), file=sys.stderr)
            return 2
        for line in p.stdout.splitlines():
            o = json.loads(line)
            if "summary" in o:
                per[o["summary"].get("capture", group[0])]["summary"] = o["summary"]
            elif "error" in o:
                errors.append(o["error"])
            else:
                per[o.get("capture", group[0])]["flows"].append(o)

    agree = documented = 0
    failed = False
    for c in a.captures:
        base = os.path.basename(c)
        rows, terr = ts[c]
        mflows, mtot = model(rows, Nets(local))
        s = per[c]["summary"]
        if s is None:
            diffs = ["amlguard: no report (%s)" % "; ".join(e for e in errors if c in e)]
        else:
            diffs = compare(mflows, mtot, amlguard_flows(per[c]["flows"]), s)
            # a corrupt record ends both readers; anything else amlguard refuses is a difference
            if s.get("error") and not terr:
                diffs.append("amlguard error: " + s["error"].replace(c + ": ", "", 1))
            elif terr and not s.get("error"):
                diffs.append("tshark stopped early, amlguard did not: " + terr)
        if not diffs:
            agree += 1
        bad = []
        for d in diffs:
            k = next((k for k in known if k["capture"].match(base) and k["diff"].match(d)),
                     None)
            if k:
                k["used"] = True
            else:
                bad.append(d)
        if diffs and not bad:
            documented += 1
        state = "agrees" if not diffs else "documented" if not bad else "DISAGREES"
        print("%-10s %s (%d packets, %d flows)" % (state, base, mtot["packets"], len(mflows)))
        for d in diffs:
            print("    %s %s | %s" % ("!" if d in bad else "=", base, d))
        failed |= bool(bad)
    run_names = set(os.path.basename(c) for c in a.captures)
    for k in known:
        if not k["used"] and any(k["capture"].match(n) for n in run_names):
            print("STALE %s:%d: %s (no longer differs: remove the line)" %
                  (a.known, k["line"], k["text"]))
            failed = True
    print("tshark agreement: %d of %d captures agree, %d more only by documented differences"
          % (agree, len(a.captures), documented))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
