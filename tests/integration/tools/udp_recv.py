#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Receive a udp_send.py stream for a bounded time; write the sequence numbers, one a line.
import socket
import sys
import time

addr, port, out, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(0.2)
end = time.monotonic() + duration
with open(out, "w") as f:
    while time.monotonic() < end:
        try:
            data = s.recv(64)
        except socket.timeout:
            continue
        f.write(data.decode().strip() + "\n")
        f.flush()
