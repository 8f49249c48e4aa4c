"""The peers of the flood test (tests/integration/flood.sh), each one process:

  flood_peers.py gateways PORTS_FILE LOG_FILE
      Three push gateways on loopback, "slow", "dead" and "ok", written to
      PORTS_FILE as "SLOW_PORT DEAD_PORT OK_PORT". Each answers every
      webhook request 200 at once (HTTP/1.1, keep-alive) until SIGUSR1;
      then the slow one accepts connections and reads requests but never
      answers, and the dead one closes its listening socket and every
      connection, so that connecting is refused; the ok one goes on
      answering. LOG_FILE gets a line per request ("<ms> <slow|dead|ok>
      <answered|held> <delivery id>") and "<ms> trouble" once the switch is
      made.

  flood_peers.py hits BOOTSTRAP TOPIC WARMUP_TOPIC FRAUD FIRST COUNT RATE PHASE LOG_FILE
      Calls that must alert, as a carrier publishes them (Debian's
      python3-confluent-kafka; idempotent, acks=all, no lingering). First a
      message to WARMUP_TOPIC, acknowledged, and TOPIC's metadata, so that
      the client's start (its connection, the idempotent producer's id, the
      topic's leaders) is not timed; then, at RATE a second: call i (FIRST <= i < FIRST+COUNT) is the fraud number FRAUD
      on a 5-minute call with protected person 13900100000+i, key and
      call_id "hit-<i>". LOG_FILE gets "<i> <PHASE> <ms of the produce call>"
      per call, the time the test's latencies start at. Exits 1 if a
      delivery failed.

  flood_peers.py device HOST PORT STATION TOKEN_FILE
      An officer's device on notifier's push stream
      (GET /v1/stream?station=STATION, the token read from TOKEN_FILE so
      that it is on no command line): every line received goes to stdout
      as "<ms arrived><TAB><line>", at once. The arrival time is what the
      test's latencies end at.
"""
import asyncio
import os
import signal
import socket
import sys
import time


def now_ms():
    return int(time.time() * 1000)


class Gateways:
    def __init__(self, log):
        self.log = log
        self.trouble = False
        self.dead_server = None
        self.dead_writers = set()

    def note(self, line):
        self.log.write(f"{now_ms()} {line}\n")
        self.log.flush()

    async def serve(self, kind, reader, writer):
        if kind == "dead":
            self.dead_writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, delivery = 0, "-"
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                    elif name.strip().lower() == b"x-goldenbell-delivery":
                        delivery = value.strip().decode(errors="replace")
                if length:
                    await reader.readexactly(length)
                if self.trouble and kind == "slow":
                    # Accepted and read, never answered: the request waits
                    # for notifier's timeout; the connection stays open.
                    self.note(f"slow held {delivery}")
                    await reader.read()  # until the client gives up
                    return
                self.note(f"{kind} answered {delivery}")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self.dead_writers.discard(writer)
            writer.close()

    def go_wrong(self):
        self.trouble = True
        self.dead_server.close()  # no more accepting: connecting is refused
        for w in list(self.dead_writers):
            w.close()
        self.note("trouble")


async def gateways(ports_file, log_file):
    g = Gateways(open(log_file, "a"))
    slow = await asyncio.start_server(lambda r, w: g.serve("slow", r, w), "127.0.0.1", 0, backlog=1024)
    g.dead_server = await asyncio.start_server(lambda r, w: g.serve("dead", r, w), "127.0.0.1", 0,
                                               backlog=1024)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, g.go_wrong)
    ok = await asyncio.start_server(lambda r, w: g.serve("ok", r, w), "127.0.0.1", 0, backlog=1024)
    ports = [s.sockets[0].getsockname()[1] for s in (slow, g.dead_server, ok)]
    with open(ports_file + ".tmp", "w") as f:
        f.write(" ".join(map(str, ports)) + "\n")
    os.rename(ports_file + ".tmp", ports_file)
    await asyncio.Event().wait()


def hits(bootstrap, topic, warmup, fraud, first, count, rate, phase, log_file):
    from confluent_kafka import Producer
    failed = []

    def report(err, msg):
        if err is not None:
            failed.append(str(err))

    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 0})
    p.produce(warmup, value=b"warm-up", on_delivery=report)
    if p.flush(30) or failed:
        sys.exit(f"hits: the warm-up message was not acknowledged ({failed[:1]})")
    # The calls topic's leaders too: a first message to a topic the client
    # does not know yet waits for its metadata (about a second).
    p.list_topics(topic, timeout=10)
    first, count, rate = int(first), int(count), float(rate)
    log = open(log_file, "a")
    t0 = time.monotonic()
    for k in range(count):
        due = t0 + k / rate
        while (left := due - time.monotonic()) > 0:
            p.poll(left)
        i = first + k
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        value = (f'{{"call_id":"hit-{i}","caller":"{fraud}","callee":"{13900100000 + i}",'
                 f'"start":"{start}","duration_s":300,"status":"final","carrier":"CMCC"}}')
        p.produce(topic, key=f"hit-{i}", value=value, headers={"content-type": "application/json"},
                  on_delivery=report)
        log.write(f"{i} {phase} {now_ms()}\n")
        log.flush()
        p.poll(0)
    left = p.flush(30)
    if failed or left:
        sys.exit(f"hits: {len(failed)} deliveries failed ({failed[:3]}), {left} not acknowledged")


def device(host, port, station, token_file):
    with open(token_file) as f:
        token = f.read().strip()
    s = socket.create_connection((host, int(port)))
    s.sendall((f"GET /v1/stream?station={station} HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
    out = sys.stdout
    buf = b""
    while True:
        data = s.recv(65536)
        if not data:
            return
        t = now_ms()
        buf += data
        *lines, buf = buf.split(b"\n")
        for line in lines:
            out.write(f"{t}\t{line.decode(errors='replace').rstrip(chr(13))}\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "gateways":
        asyncio.run(gateways(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 11 and sys.argv[1] == "hits":
        hits(*sys.argv[2:11])
    elif len(sys.argv) == 6 and sys.argv[1] == "device":
        device(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
