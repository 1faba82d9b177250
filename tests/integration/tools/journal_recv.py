#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Stand-in for journald's native socket: each entry as one JSON object a line.  Entries are
# "FIELD=value" lines, or FIELD, newline, 64-bit little-endian length, value, for binary values.
import json
import socket
import struct
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
        entry, i = {}, 0
        while i < len(data):
            nl = data.index(b"\n", i)
            line = data[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1)
                i = nl + 1
            else:
                n = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
                k, v = line, data[nl + 9:nl + 9 + n]
                i = nl + 9 + n + 1
            entry[k.decode()] = v.decode()
        f.write(json.dumps(entry) + "\n")
        f.flush()
