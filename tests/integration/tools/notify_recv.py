#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Stand-in for systemd's notification socket: each sd_notify() message, then a "--" line.
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
# Bounded: gone by itself after a minute even if nobody stops it.
end = time.monotonic() + float(sys.argv[3]) if len(sys.argv) > 3 else time.monotonic() + 60
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.5)
with open(out, "a") as f:
    while time.monotonic() < end:
        try:
            data = s.recv(1 << 20)
        except socket.timeout:
            continue
        f.write(data.decode() + "\n--\n")
        f.flush()
