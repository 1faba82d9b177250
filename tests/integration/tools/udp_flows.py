#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Many UDP flows, one datagram each: "udp_flows.py DST PORT COUNT INTERVAL [ports|sports]".
# ports: destination ports PORT, PORT+1, ... (wrapping below 65536) from one socket;
# sports: COUNT sockets, each from its own source port, to PORT.  Datagram i carries "i".
# Prints how many were handed to the kernel.
import socket
import sys
import time

dst, port, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
mode = sys.argv[5] if len(sys.argv) > 5 else "ports"
sent = 0
one = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(count):
    try:
        if mode == "sports":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"%d\n" % i, (dst, port))
            s.close()
        else:
            one.sendto(b"%d\n" % i, (dst, port + i % (65536 - port)))
        sent += 1
    except OSError:
        pass
    delay = t0 + (i + 1) * interval - time.monotonic()
    if delay > 0:
        time.sleep(delay)
print(sent)
