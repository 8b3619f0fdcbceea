"""A webhook receiver for the watch-mode tests: records every POST (path, headers, JSON body,
whether the X-Anchorage-Signature HMAC-SHA256 header verifies) as one JSON line, then answers
200 after an optional delay (to let a test kill the engine mid-delivery).

usage: webhook_receiver.py PORT OUT_FILE SECRET [DELAY_SECONDS]
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

PORT = int(sys.argv[1])
OUT = sys.argv[2]
SECRET = sys.argv[3].encode()
DELAY = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        record = {
            "path": self.path,
            "auth": self.headers.get("Authorization"),
            "notification_id": self.headers.get("X-Anchorage-Notification-Id"),
            "signature_ok": hmac.compare_digest(
                expected, self.headers.get("X-Anchorage-Signature", "")
            ),
            "body": json.loads(body),
        }
        with open(OUT, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        time.sleep(DELAY)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
