#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""An Alertmanager webhook receiver for the tests: every POST body (Alertmanager's JSON) is
appended to a file as one line, {"received": <time.time()>, "path": ..., "body": {...}}.
Python's standard http.server; a test fixture only.

Usage: webhook_recv.py ADDRESS PORT OUTFILE SECONDS"""
import http.server
import json
import sys
import threading
import time

addr, port, out, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        now = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        rec = {"received": now, "path": self.path, "body": json.loads(body)}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


srv = http.server.HTTPServer((addr, port), Handler)
threading.Timer(secs, srv.shutdown).start()
srv.serve_forever()
