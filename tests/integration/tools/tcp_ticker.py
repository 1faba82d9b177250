#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A long-lived, mostly idle TCP connection whose data flows from the server: the server sends
# line i every interval, the client writes each line it reads.  Bounded in time either way.
#   tcp_ticker.py server ADDR PORT COUNT INTERVAL
#   tcp_ticker.py client ADDR PORT OUTFILE SECONDS
import socket
import sys
import time

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "server":
    count, interval = int(sys.argv[4]), float(sys.argv[5])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(10)
    c, _ = ls.accept()
    for i in range(count):
        c.sendall(b"%d\n" % i)
        time.sleep(interval)
    c.close()
else:
    out, seconds = sys.argv[4], float(sys.argv[5])
    s = socket.create_connection((addr, port), timeout=5)
    s.settimeout(1)
    end = time.monotonic() + seconds
    buf = b""
    with open(out, "w") as f:
        while time.monotonic() < end:
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                f.write(line.decode() + "\n")
                f.flush()
