"""A push gateway for the webhook tests: records every request it receives
(one JSON object a line: path, event, delivery, attempt, whether the
signature verifies with the shared secret, arrival time, body) and answers
200 on /ok, 500 on /fail. The signature is checked here, independently of
notifier's C: HMAC-SHA256(secret, timestamp + "." + body).

usage: gateway.py PORT_FILE LOG_FILE SECRET_FILE"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file, secret_file = sys.argv[1:4]
with open(secret_file, "rb") as f:
    secret = f.readline().rstrip(b"\r\n")
log = open(log_file, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Goldenbell-Timestamp", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Goldenbell-Signature", "")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        log.write(json.dumps({
            "path": self.path,
            "event": self.headers.get("X-Goldenbell-Event"),
            "delivery": self.headers.get("X-Goldenbell-Delivery"),
            "attempt": int(self.headers.get("X-Goldenbell-Attempt", "0")),
            "sig_ok": hmac.compare_digest(want, got),
            "fresh": abs(time.time() - int(ts or 0)) < 300,
            "t": time.time(),
            "body": parsed,
        }) + "\n")
        status = 200 if self.path == "/ok" else 500
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
