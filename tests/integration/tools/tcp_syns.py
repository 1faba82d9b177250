#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Bounded TCP connection attempts (SYNs), one every interval, each abandoned after it.
import socket
import sys
import time

dst, port, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((dst, port))
    except BlockingIOError:
        pass
    except OSError:
        pass
    time.sleep(interval)
    s.close()
