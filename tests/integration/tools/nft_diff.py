#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Differential test: the nftables export of a policy against amlguard, packet by packet.

  nft_diff.py --amlguard BIN --gencap BIN --work DIR --ns-host NS --ns-remote NS
              -- POLICY-ARGS...

The probes are derived from the compiled policy ('compile -j -v'): both ends of every prefix
on documentation addresses, both ends of every port range, the port after each range, the
protocols a rule takes, and traffic no rule allows.  amlguard judges them as a capture
('check', the eBPF datapath); nftables judges them live: the export (enforce mode) is loaded in
the host namespace, each probe is sent from the host (out) or from the remote namespace (in),
and the counters of the ruleset tell which rule took it.  Host rules are not probed (neither
side knows an address without DNS).  Exit status 0 when every verdict and flow ID agrees.
"""
import argparse
import ctypes
import ipaddress
import json
import os
import socket
import struct
import subprocess
import sys
import time

DOC = [ipaddress.ip_network(n) for n in
       ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
HOST = {4: "192.0.2.10", 6: "2001:db8:ffff::10"}
OUTSIDE = {4: "203.0.113.250", 6: "2001:db8:1::250"}
CLONE_NEWNET = 0x40000000
MAX_PROBES = 400

libc = ctypes.CDLL("libc.so.6", use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def documentation(addr):
    a = ipaddress.ip_address(addr)
    return any(a in n for n in DOC) and str(a) not in (HOST[4], HOST[6], "192.0.2.0",
                                                          "192.0.2.255", "192.0.2.1")


def probes_of(policy):
    probes = []
    for r in policy["rules"]:
        if r["platform"] or not r["remote"]:
            continue
        ports = [p for lo, hi in r["ports"] for p in (lo, hi)] or [1, 443]
        after = [hi + 1 for lo, hi in r["ports"]
                 if hi < 65535 and not any(a <= hi + 1 <= b for a, b in r["ports"])]
        protos = {"any": ["tcp", "udp"] + ([] if r["ports"] else ["icmp"])}.get(
            r["proto"], [r["proto"]])
        addrs = []
        for p in r["remote"].get("prefixes", []):
            net = ipaddress.ip_network(p)
            for a in (net[0], net[-1]):
                if documentation(a) and str(a) not in addrs:
                    addrs.append(str(a))
        for a in addrs:
            v = ipaddress.ip_address(a).version
            for proto in protos:
                if proto == "icmp" and v == 6:
                    proto = "icmpv6"
                if proto == "icmpv6" and v == 4:
                    continue
                for port in (ports + after if proto in ("tcp", "udp") else [0]):
                    probes.append((r["dir"], proto, v, a, port))
    for v in (4, 6):
        probes += [("out", "tcp", v, OUTSIDE[v], 443), ("out", "udp", v, OUTSIDE[v], 53),
                   ("in", "tcp", v, OUTSIDE[v], 22), ("in", "tcp", v, OUTSIDE[v], 44224)]
    seen, out = set(), []
    for p in probes:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out[:MAX_PROBES]


def amlguard_verdicts(args, probes, policy_args):
    spec = os.path.join(args.work, "diff.spec")
    with open(spec, "w") as f:
        for i, (d, proto, v, remote, port) in enumerate(probes):
            src, dst = (HOST[v], remote) if d == "out" else (remote, HOST[v])
            f.write("p%d %s %s %d %s %d\n" % (i, proto, src, 30000 + i, dst, port))
    cap = os.path.join(args.work, "diff.pcap")
    subprocess.run([args.gencap, spec, cap], check=True)
    res = subprocess.run([args.amlguard, "-q", "-j", "check", "--local",
                          "%s/32,%s/128" % (HOST[4], HOST[6])] + policy_args + [cap],
                         capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.exit("check failed: " + res.stderr)
    flows = [json.loads(l) for l in res.stdout.splitlines() if l.strip()][:-1]
    out = []
    for i, (d, proto, v, remote, port) in enumerate(probes):
        src, dst = (HOST[v], remote) if d == "out" else (remote, HOST[v])
        m = [f for f in flows if f["src"] == src and f["dst"] == dst and f["proto"] == proto and
             (proto.startswith("icmp") or (f["sport"] == 30000 + i and f["dport"] == port))]
        if proto.startswith("icmp"):
            m = m[:1]
        assert len(m) == 1, (i, probes[i], m)
        # a rule without flow ID: "-", as the nftables comment has it
        out.append((m[0]["flow"] or "-") if m[0]["verdict"] == "allow" else None)
    return out


def counters(ns):
    res = subprocess.run(["nsenter", "--net=/run/netns/" + ns, "nft", "-j", "list", "table",
                          "inet", "amlguard"], capture_output=True, text=True, check=True)
    c = {}
    for item in json.loads(res.stdout)["nftables"]:
        r = item.get("rule")
        if not r:
            continue
        for e in r["expr"]:
            if "counter" in e:
                c[(r["chain"], r["handle"])] = (e["counter"]["packets"], r.get("comment", ""))
    return c


def icmp_echo(v, src, dst):
    if v == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        body = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1)
        csum = sum(struct.unpack("!4H", body))
        csum = (csum & 0xffff) + (csum >> 16)
        body = struct.pack("!BBHHH", 8, 0, ~csum & 0xffff, 0x1234, 1)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        body = struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1)  # the kernel fills the checksum
    s.bind((src, 0))
    try:
        s.sendto(body, (dst, 0))
    except OSError:
        pass
    s.close()


def send(v, proto, src, dst, port):
    fam = socket.AF_INET if v == 4 else socket.AF_INET6
    if proto.startswith("icmp"):
        icmp_echo(v, src, dst)
        return
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    try:
        if proto == "tcp":
            s.connect_ex((dst, port))
        else:
            s.sendto(b"probe", (dst, port))
    except OSError:
        pass  # a drop in the output hook: EPERM
    time.sleep(0.02)
    s.close()


def nft_verdicts(args, probes):
    host, remote = "/run/netns/" + args.ns_host, "/run/netns/" + args.ns_remote
    own = set()
    out = []
    for d, proto, v, addr, port in probes:
        if d == "in" and addr not in own:
            subprocess.run(["nsenter", "--net=" + remote, "ip", "addr", "add",
                            addr + ("/32" if v == 4 else "/128"), "dev", "lo"] +
                           ([] if v == 4 else ["nodad"]), capture_output=True)
            own.add(addr)
    for d, proto, v, addr, port in probes:
        before = counters(args.ns_host)
        if d == "out":
            setns(host)
            send(v, proto, HOST[v], addr, port)
        else:
            setns(remote)
            send(v, proto, addr, HOST[v], port)
        time.sleep(0.03)
        after = counters(args.ns_host)
        chain = "output" if d == "out" else "input"
        hit = [after[k][1] for k in after if k[0] == chain and
               after[k][0] > before.get(k, (0, ""))[0]]
        if len(hit) != 1:
            out.append("?%s" % hit)
        elif hit[0].startswith("amlguard: not allowed"):
            out.append(None)
        else:
            out.append(hit[0].split()[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlguard", required=True)
    ap.add_argument("--gencap", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ns-host", required=True)
    ap.add_argument("--ns-remote", required=True)
    ap.add_argument("policy_args", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    pa = [a for a in args.policy_args if a != "--"]
    comp = subprocess.run([args.amlguard, "-q", "compile", "-j", "-v"] + pa,
                          capture_output=True, text=True, check=True)
    probes = probes_of(json.loads(comp.stdout))
    nft = os.path.join(args.work, "diff.nft")
    res = subprocess.run([args.amlguard, "-q", "export", "--format", "nft", "--mode", "enforce",
                          "-o", nft] + pa, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.exit("export failed: " + res.stderr)
    subprocess.run(["nsenter", "--net=/run/netns/" + args.ns_host, "nft", "-f", nft],
                   check=True)
    want = amlguard_verdicts(args, probes, pa)
    got = nft_verdicts(args, probes)
    bad = 0
    for p, a, n in zip(probes, want, got):
        same = a == n
        bad += not same
        if not same or os.environ.get("VERBOSE"):
            print("%s %-4s %-6s %-22s %5d  amlguard %-22s nft %-22s %s" %
                  (p[0], "", p[1], p[3], p[4], a or "violation", n or "violation",
                   "" if same else "DIFFERENT"))
    allowed = sum(1 for a in want if a)
    print("%d probes (%d allowed, %d violations): %d differ" %
          (len(probes), allowed, len(probes) - allowed, bad))
    return 1 if bad or not allowed or allowed == len(probes) else 0


if __name__ == "__main__":
    sys.exit(main())
