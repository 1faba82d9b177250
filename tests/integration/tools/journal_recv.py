#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Stand-in for journald's native socket: each entry as one JSON object a line.  Entries are
# "FIELD=value" lines, or FIELD, newline, 64-bit little-endian length, value, for binary values.
#   journal_recv.py PATH OUT [SECONDS]
import json
import struct

from dgram_recv import serve


def entry(data):
    fields, i = {}, 0
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
        fields[k.decode()] = v.decode()
    return json.dumps(fields) + "\n"


serve(entry)
