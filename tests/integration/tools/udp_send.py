#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A steady, bounded UDP stream: datagram i carries "i", one every interval; send errors (a
# dropped packet in enforce mode reports nothing, but a route may) are ignored.
import socket
import sys
import time

dst, port, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 5:
    s.bind(("0.0.0.0", int(sys.argv[5])))
t0 = time.monotonic()
for i in range(count):
    try:
        s.sendto(b"%d\n" % i, (dst, port))
    except OSError:
        pass
    delay = t0 + (i + 1) * interval - time.monotonic()
    if delay > 0:
        time.sleep(delay)
