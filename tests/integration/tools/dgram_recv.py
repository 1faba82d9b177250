# SPDX-License-Identifier: GPL-2.0-only
# A stand-in for a Unix datagram socket of systemd's: bound at PATH, each datagram rendered
# as text and appended to OUT, for SECONDS (default 60) at the most.
#   serve(render) with the command line PATH OUT [SECONDS]; render(bytes) -> str
import socket
import sys
import time


def serve(render):
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
            f.write(render(data))
            f.flush()
