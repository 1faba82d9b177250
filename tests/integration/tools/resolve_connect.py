#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Resolve a name with one UDP query to a given server, then connect at once.

  resolve_connect.py SERVER NAME PORT [--sni NAME] [--ip ADDR] [--no-tls]

Prints the addresses the answer held and "connected" or the error.  With --ip, no lookup: the
address is used as given (for "connect after the name expired").  Exit 0 when the connection
(and the TLS handshake, unless --no-tls) succeeded.
"""
import argparse
import random
import socket
import ssl
import struct
import sys


def query(server, name):
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (server, 53))
    data, _ = s.recvfrom(4096)
    return parse(data, qid)


def skip_name(d, p):
    while True:
        n = d[p]
        if n == 0:
            return p + 1
        if n & 0xC0 == 0xC0:
            return p + 2
        p += 1 + n


def parse(d, qid):
    rid, flags, qd, an = struct.unpack(">HHHH", d[:8])
    if rid != qid or not flags & 0x8000:
        raise RuntimeError("not our answer")
    p = 12
    for _ in range(qd):
        p = skip_name(d, p) + 4
    addrs = []
    for _ in range(an):
        p = skip_name(d, p)
        typ, _cls, _ttl, rdlen = struct.unpack(">HHIH", d[p:p + 10])
        p += 10
        if typ == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(d[p:p + 4]))
        p += rdlen
    return addrs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("name")
    ap.add_argument("port", type=int)
    ap.add_argument("--sni")
    ap.add_argument("--ip")
    ap.add_argument("--no-tls", action="store_true")
    a = ap.parse_args()
    addrs = [a.ip] if a.ip else query(a.server, a.name)
    print("answer:", " ".join(addrs))
    if not addrs:
        return 1
    try:
        # no delay between the answer and the SYN: the datapath must have learned already
        sock = socket.create_connection((addrs[0], a.port), timeout=2)
        if not a.no_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname=a.sni or a.name)
        sock.close()
    except (OSError, ssl.SSLError) as e:
        print("failed:", e)
        return 1
    print("connected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
