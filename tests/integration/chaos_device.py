#!/usr/bin/env python3
"""An officer's device for the chaos test (chaos.sh): reads a station's push
stream (Server-Sent Events, GET /v1/stream?station=<id>) from one of several
notifier workers, and reconnects, with backoff, to any live one whenever the
stream ends, resuming with Last-Event-ID after the last event it received.

  chaos_device.py --station ST --ports P1,P2,... --out FILE --log FILE

The device token comes from the environment (GB_DEVICE_TOKEN), not the
command line. P1 is the device's own worker: each (re)connection tries it
first, then the others in turn. Every event received is appended to FILE,
one a line, as it arrives:

  <event id> TAB <event type> TAB <alert_id or -> TAB <subject or -> TAB <port>

FILE is the device's whole record: nothing is filtered or deduplicated here
(the test counts what arrived). Connections, their ends and the replay
bounds go to LOG. SIGTERM stops it. Python's standard library only.
"""
import argparse
import json
import os
import signal
import socket
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True
    raise SystemExit(0)


def log(f, msg):
    f.write("%.3f %s\n" % (time.time(), msg))
    f.flush()


def stream(port, station, token, last_id, out, logf):
    """One connection. Returns (last_id, events, connected)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    events = 0
    connected = False
    try:
        # A stream idles with a keepalive every 15 s: a silence of 45 s is a
        # connection that died without closing.
        s.settimeout(45)
        head = ("GET /v1/stream?station=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n" % (station, port, token))
        if last_id:
            head += "Last-Event-ID: %s\r\n" % last_id
        s.sendall((head + "\r\n").encode())
        r = s.makefile("rb")
        status = r.readline().decode("latin-1").strip()
        length = 0
        while True:
            h = r.readline()
            if not h:
                raise ConnectionError("closed in the response head")
            if h in (b"\r\n", b"\n"):
                break
            name, _, value = h.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = min(int(value.strip() or 0), 1000)
        if " 200 " not in status + " ":
            body = r.read(length).decode("utf-8", "replace")
            log(logf, "refused port=%d status=%r body=%r" % (port, status, body))
            return last_id, 0, False
        connected = True
        log(logf, "connected port=%d last_event_id=%s" % (port, last_id or "-"))
        ev_id, ev_type, data = None, "message", []
        while True:
            line = r.readline()
            if not line:
                break
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    alert_id = subject = "-"
                    try:
                        d = json.loads("\n".join(data))
                        alert_id = d.get("alert_id") or "-"
                        subject = d.get("subject") or "-"
                    except (ValueError, AttributeError):
                        pass
                    out.write("%s\t%s\t%s\t%s\t%d\n" % (ev_id or "-", ev_type, alert_id, subject, port))
                    out.flush()
                    events += 1
                    if ev_id:
                        last_id = ev_id
                ev_id, ev_type, data = None, "message", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "id":
                ev_id = value
            elif field == "event":
                ev_type = value
            elif field == "data":
                data.append(value)
        return last_id, events, connected
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--station", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    token = os.environ.get("GB_DEVICE_TOKEN", "")
    if not token:
        sys.exit("chaos_device: GB_DEVICE_TOKEN is not set")
    ports = [int(p) for p in a.ports.split(",") if p]
    signal.signal(signal.SIGTERM, on_term)
    out = open(a.out, "a", buffering=1)
    logf = open(a.log, "a", buffering=1)
    last_id = None
    attempt = 0
    backoff = 0.1
    try:
        while not stop:
            port = ports[attempt % len(ports)]
            try:
                last_id, n, connected = stream(port, a.station, token, last_id, out, logf)
                if connected:
                    log(logf, "ended port=%d events=%d last_event_id=%s" % (port, n, last_id or "-"))
            except (OSError, ConnectionError, UnicodeDecodeError) as e:
                connected = False
                log(logf, "failed port=%d last_event_id=%s error=%s" % (port, last_id or "-", e))
            if connected:
                # Its worker died (or closed the stream): its own worker
                # first again, almost at once.
                attempt, backoff = 0, 0.1
                time.sleep(0.05)
                continue
            attempt += 1
            # A round of every worker refused: wait, longer each round (at
            # most 2 s), before the next.
            if attempt % len(ports) == 0:
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
    except SystemExit:
        pass
    finally:
        log(logf, "stopped last_event_id=%s" % (last_id or "-"))


if __name__ == "__main__":
    main()
