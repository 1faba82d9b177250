#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Stand-in for systemd's notification socket: each sd_notify() message, then a "--" line.
#   notify_recv.py PATH OUT [SECONDS]
from dgram_recv import serve

serve(lambda data: data.decode() + "\n--\n")
