#!/usr/bin/env bash
# Every input limit, shown at its edge: what is at the limit passes, what is
# one past it is refused with a clear answer (HTTP: a status, a JSON error,
# the connection closed cleanly, a log line; Kafka: a dead letter with its
# reason, counted), and the service goes on. Limits are set small so that
# the test is quick.
#
#   notifier  http.max-header-bytes=1024 (and 64 header lines)  -> 431
#             http.max-body-bytes=2048                           -> 413
#             http.idle-timeout-ms=1000 (a trickled request)     -> 408
#             http.max-connections=4 (four devices' streams)     -> 503
#   ingest    admin endpoint: 16 KiB head, 4 KiB body, 64 connections
#             ingest.max-message-bytes=4096 -> too_large dead letter
#             ingest.max-records=3          -> too_many_records dead letters
#             a too_large message bigger than a dead letter may be
#             (kafka.message.max.bytes=65536) -> dead letter without value
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env limits

# ---- a raw HTTP client: exact bytes out, exact answer and EOF back ----
cat >"$IT_DIR/raw.py" <<'PY'
import json, socket, sys, time

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def response(s, deadline=10):
    """Reads one response; then, if it says Connection: close, whether
    the server closes (EOF) within 5 s."""
    s.settimeout(deadline)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return {"status": 0, "error": "closed before an answer", "got": buf[:200].decode("latin-1")}
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    r = {"status": int(lines[0].split()[1]), "headers": hdrs, "body": body.decode("utf-8", "replace")}
    if hdrs.get("connection", "").lower() == "close":
        s.settimeout(5)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    r["eof"] = True
                    break
        except socket.timeout:
            r["eof"] = False
        except ConnectionResetError:
            r["eof"] = "reset"
    return r

def exchange(port, req):
    s = connect(port)
    s.sendall(req)
    r = response(s)
    s.close()
    return r

def head_request(size, path, lines):
    """GET path whose head (request line, header lines, blank line) is
    exactly size bytes, with lines header lines in all."""
    start = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    extra = [b"X-%d: 1\r\n" % i for i in range(lines - 2)]
    fixed = len(start) + sum(map(len, extra)) + len(b"X-Pad: \r\n") + 2
    pad = size - fixed
    assert pad >= 0, "size too small for the lines"
    req = start + b"".join(extra) + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"
    assert len(req) == size
    return req

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "send":          # the request on stdin
    out = exchange(port, sys.stdin.buffer.read())
elif mode == "head":        # head SIZE PATH [LINES]
    out = exchange(port, head_request(int(sys.argv[3]), sys.argv[4],
                                      int(sys.argv[5]) if len(sys.argv) > 5 else 3))
elif mode == "trickle":     # the start of a request on stdin, then a header line every 0.2 s
    s = connect(port)
    t0 = time.monotonic()
    s.sendall(sys.stdin.buffer.read())
    s.settimeout(0.2)  # the slow client under test sends a line per 0.2 s of silence
    first = b""
    while not first and time.monotonic() - t0 < 10:
        try:
            first = s.recv(65536) or b"<eof>"
        except socket.timeout:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
    class Pre:  # the bytes already read, then the socket
        def __init__(self, s, d): self.s, self.d = s, d
        def settimeout(self, t): self.s.settimeout(t)
        def recv(self, n):
            d, self.d = self.d, b""
            return d if d else self.s.recv(n)
    elapsed = int((time.monotonic() - t0) * 1000)
    out = response(Pre(s, first)) if first and first != b"<eof>" else {"status": 0, "got": first.decode()}
    out["elapsed_ms"] = elapsed
elif mode == "hold":        # hold N PATH: N kept-alive connections, then one more, then one less
    n, path = int(sys.argv[3]), sys.argv[4]
    get = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    held = []
    for i in range(n):
        s = connect(port)
        s.sendall(get)
        r = response(s)
        if r["status"] != 200:
            print(json.dumps({"error": "held connection %d got %d" % (i, r["status"])}))
            sys.exit(0)
        held.append(s)
    out = {"refused": exchange(port, get)}
    held.pop().close()
    t0, tries = time.monotonic(), 0
    while True:
        tries += 1
        r = exchange(port, get)
        if r["status"] == 200 or time.monotonic() - t0 > 10:
            break
        time.sleep(0.05)  # a bounded poll for the server to see the close
    out["after_close"] = r["status"]
    out["tries"] = tries
    for s in held:
        s.sendall(get)
        out.setdefault("held_after", []).append(response(s)["status"])
        s.close()
print(json.dumps(out))
PY
raw() { /usr/bin/python3 "$IT_DIR/raw.py" "$@"; }
# expect JSON JQ_TEST WHAT: the raw client's answer passes the jq test.
expect() {
  jq -e "$2" <<<"$1" >/dev/null || it_fail "$3: got $1"
}

# ---- notifier, with small limits ----
IT_NOTIFIER_ARGS="--http.max-header-bytes=1024 --http.max-body-bytes=2048 --http.max-connections=4 --http.idle-timeout-ms=1000"
it_notifier
it_station st-lim "限额派出所" 22.54 114.05
H=$IT_HTTP

# Header bytes: the whole head (request line, header lines, blank line).
r=$(raw head "$H" 1024 /healthz)
expect "$r" '.status == 200' "a 1024-byte head (the limit) is served"
r=$(raw head "$H" 1025 /healthz)
expect "$r" '.status == 431 and .headers["content-type"] == "application/json" and .eof == true and
  (.body | fromjson | .error) == "request header too large: at most 1024 bytes and 64 header lines"' \
  "a 1025-byte head gets 431 with a JSON error, and the connection closes"
# Header lines: 64 pass, 65 do not (well under the byte limit).
r=$(raw head "$H" 900 /healthz 64)
expect "$r" '.status == 200' "64 header lines are served"
r=$(raw head "$H" 900 /healthz 65)
expect "$r" '.status == 431 and .eof == true' "65 header lines get 431"
# What a client library sees.
code=$(curl -s -o "$IT_DIR/431.json" -w '%{http_code}' -H "X-Pad: $(head -c 1100 /dev/zero | tr '\0' p)" \
  "http://127.0.0.1:$H/healthz")
[ "$code" = 431 ] || it_fail "curl with an oversized header: $code, want 431"
jq -e '.error | startswith("request header too large")' "$IT_DIR/431.json" >/dev/null ||
  it_fail "431 body: $(cat "$IT_DIR/431.json")"

# Body bytes: exactly 2048 reach the route (a wrong binding code: 401),
# 2049 are refused before the route, by Content-Length or as chunks arrive.
body() { # SIZE: a bind request body of exactly SIZE bytes
  local pre='{"code":"ZZZZZZZZZZ","device":"limits","pad":"' post='"}'
  printf '%s%s%s' "$pre" "$(head -c $(($1 - ${#pre} - ${#post})) /dev/zero | tr '\0' p)" "$post"
}
post() { # SIZE
  printf 'POST /v1/devices/bind HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$(body "$1")"
}
[ "$(body 2048 | wc -c)" = 2048 ] || it_fail "the test's body is not 2048 bytes"
r=$(post 2048 | raw send "$H")
expect "$r" '.status == 401 and (.body | fromjson | .error) == "unknown, used or expired binding code"' \
  "a 2048-byte body (the limit) reaches the route"
r=$(post 2049 | raw send "$H")
expect "$r" '.status == 413 and .headers["content-type"] == "application/json" and .eof == true and
  (.body | fromjson | .error) == "request body too large: at most 2048 bytes"' \
  "a 2049-byte body gets 413 with a JSON error, and the connection closes"
r=$( { printf 'POST /v1/devices/bind HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n'
  printf '400\r\n%s\r\n400\r\n%s\r\n1\r\n}\r\n0\r\n\r\n' "$(body 1024)" "$(head -c 1024 /dev/zero | tr '\0' p)"; } |
  raw send "$H")
expect "$r" '.status == 413 and .eof == true' "a chunked body of 2049 bytes gets 413 as it arrives"
body 4000 >"$IT_DIR/big.json"
code=$(curl -s -o "$IT_DIR/413.json" -w '%{http_code}' -H 'content-type: application/json' \
  --data-binary @"$IT_DIR/big.json" "http://127.0.0.1:$H/v1/devices/bind")
[ "$code" = 413 ] || it_fail "curl with a 4000-byte body: $code, want 413"
jq -e '.error == "request body too large: at most 2048 bytes"' "$IT_DIR/413.json" >/dev/null ||
  it_fail "413 body: $(cat "$IT_DIR/413.json")"

# Time: a request must be whole within http.idle-timeout-ms of its first
# byte; a client trickling header lines does not keep the connection.
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n' | raw trickle "$H")
expect "$r" '.status == 408 and .eof == true and .elapsed_ms >= 950 and .elapsed_ms < 4000 and
  (.body | fromjson | .error) == "request not received whole within 1000 ms of its first byte"' \
  "a trickled request gets 408 after 1 s"

# Connections: four devices' streams fill http.max-connections=4; a fifth
# connection gets 503 and is closed; once a device leaves, the next is served.
it_token o-lim st-lim
for i in 1 2 3 4; do
  gb_launch "$IT_DIR/dev$i.out" "$IT_DIR/dev$i.pid" \
    curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$H/v1/stream?station=st-lim"
  IT_PIDS+=("$(cat "$IT_DIR/dev$i.pid")"); IT_NAMES+=("dev$i")
  it_wait_log notifier "stream.opened station=st-lim .*devices=$i\b" 20 "device $i's stream"
done
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' | raw send "$H")
expect "$r" '.status == 503 and .headers["retry-after"] == "1" and .eof == true and
  (.body | fromjson | .error) == "too many connections: at most 4; try again"' \
  "the fifth connection gets 503 with a JSON error, and is closed"
gb_pid_stop "$(cat "$IT_DIR/dev4.pid")" 10 dev4
it_wait_log notifier "stream.closed station=st-lim devices=3" 20 "device 4 to leave"
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' | raw send "$H")
expect "$r" '.status == 200' "a connection is served again once a device has left"
for i in 1 2 3; do
  gb_pid_alive "$(cat "$IT_DIR/dev$i.pid")" || it_fail "device $i's stream ended when the fifth was refused"
done

# Each refusal is one log line, and notifier is still there.
for want in 'status=431 reason=header_too_large' 'status=413 reason=body_too_large' \
  'status=408 reason=request_timeout' 'status=503 reason=too_many_connections'; do
  it_wait_log notifier "event=http.refused server=api $want peer=127.0.0.1" 10 "log line: $want"
done
gb_pid_alive "${IT_PIDS[0]}" || it_fail "notifier is gone"

# ---- ingest: its admin endpoint and its input limits ----
admin=$(gb_free_port)
it_start ingest ingest/ingest --log.level=info \
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000 \
  --topic.calls="$IT_TOPIC_gb_calls" --topic.visits="$IT_TOPIC_gb_visits" \
  --topic.events="$IT_TOPIC_gb_events" --topic.dlq="$IT_TOPIC_gb_dlq" \
  --ingest.group="i$IT_SUFFIX" --admin.port="$admin" \
  --ingest.max-message-bytes=4096 --ingest.max-records=3 \
  --ingest.pack-bytes=16384 --kafka.message.max.bytes=65536
it_wait_log ingest "kafka.assigned topic=$IT_TOPIC_gb_calls" 60 "ingest assignment"

# The admin endpoint's fixed limits: a 16 KiB head, a 4 KiB body, 64 connections.
r=$(raw head "$admin" 16384 /healthz)
expect "$r" '.status == 200' "admin: a 16384-byte head is served"
r=$(raw head "$admin" 16385 /healthz)
expect "$r" '.status == 431 and .eof == true and (.body | fromjson | .error | startswith("request header too large: at most 16384 bytes"))' \
  "admin: a 16385-byte head gets 431"
r=$( { printf 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4096\r\n\r\n'; head -c 4096 /dev/zero | tr '\0' x; } | raw send "$admin")
expect "$r" '.status == 405' "admin: a 4096-byte body reaches routing (405: GET only)"
r=$( { printf 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4097\r\n\r\n'; head -c 4097 /dev/zero | tr '\0' x; } | raw send "$admin")
expect "$r" '.status == 413 and .eof == true' "admin: a 4097-byte body gets 413"
r=$(raw hold "$admin" 64 /healthz)
expect "$r" '.refused.status == 503 and .refused.eof == true and
  (.refused.body | fromjson | .error) == "too many connections: at most 64; try again" and
  .after_close == 200 and (.held_after | length == 63 and all(. == 200))' \
  "admin: the 65th connection gets 503; one closed, the next is served; the others stay"
it_wait_log ingest "event=http.refused server=admin status=431 reason=header_too_large" 10 "admin's 431 log line"
it_wait_log ingest "event=http.refused server=admin status=503 reason=too_many_connections" 10 "admin's 503 log line"

# Input messages. Each has its own key; dead letters keep it.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
call() { printf '{"call_id":"%s","caller":"1380013%04d","callee":"1390013%04d","start":"%s","duration_s":90,"carrier":"CMCC"}\n' "$1" "$2" "$2" "$now"; }
pub() { # KEY FILE
  kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_calls" -k "$1" -H content-type=application/x-ndjson \
    -X enable.idempotence=true -X acks=all "$2" 2>>"$IT_DIR/kcat.log" || it_fail "kcat could not publish $2"
}
pad_to() { # SIZE FILE: pads the JSON in FILE with spaces to SIZE bytes
  local n=$(( $1 - $(stat -c %s "$2") ))
  [ "$n" -ge 0 ] || it_fail "$2 is over $1 bytes already"
  head -c "$n" /dev/zero | tr '\0' ' ' >>"$2"
  [ "$(stat -c %s "$2")" = "$1" ] || it_fail "$2 is not $1 bytes"
}
{ call at1 1; call at2 2; call at3 3; } >"$IT_DIR/at-limit.json"; pad_to 4096 "$IT_DIR/at-limit.json"
{ call over1 4; } >"$IT_DIR/over-limit.json"; pad_to 4097 "$IT_DIR/over-limit.json"
{ call huge1 5; } >"$IT_DIR/huge.json"; pad_to 100000 "$IT_DIR/huge.json"
{ for i in 1 2 3 4 5; do call b$i $((10 + i)); done; } >"$IT_DIR/batch.json"
pub at-limit "$IT_DIR/at-limit.json"   # 4096 bytes, 3 records: both limits met exactly, all pass
pub over-limit "$IT_DIR/over-limit.json" # 4097 bytes: too_large, dead-lettered whole
pub huge "$IT_DIR/huge.json"           # 100000 bytes: too_large, and too large to copy (65536)
pub batch "$IT_DIR/batch.json"         # 5 records: 3 pass, records 3 and 4 too_many_records

want_in=10 want_out=6 want_events=12
metric() { curl -sf "http://127.0.0.1:$admin/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
decided() {
  curl -sf "http://127.0.0.1:$admin/metrics" >"$IT_DIR/metrics.txt" || return 1
  [ "$(awk '$1 == "gb_ingest_records_in_total" {print $2}' "$IT_DIR/metrics.txt")" = "$want_in" ] &&
    [ "$(awk '/^gb_ingest_records_(out|dead)_total/ {s += $2} END {print s}' "$IT_DIR/metrics.txt")" = "$want_in" ]
}
gb_wait_until 60 "ingest to decide all $want_in records" decided ||
  it_fail "records_in=$(metric gb_ingest_records_in_total), want $want_in, every one out or dead"
[ "$(metric gb_ingest_records_out_total)" = "$want_out" ] || it_fail "records_out=$(metric gb_ingest_records_out_total), want $want_out"
[ "$(metric 'gb_ingest_records_dead_total{reason="too_large"}')" = 2 ] || it_fail "dead too_large != 2"
[ "$(metric 'gb_ingest_records_dead_total{reason="too_many_records"}')" = 2 ] || it_fail "dead too_many_records != 2"
[ "$(awk '/^gb_ingest_records_dead_total/ {s += $2} END {print s}' "$IT_DIR/metrics.txt")" = 4 ] ||
  it_fail "dead letters counted: $(grep dead_total "$IT_DIR/metrics.txt")"
[ "$(metric gb_ingest_events_out_total)" = "$want_events" ] || it_fail "events_out=$(metric gb_ingest_events_out_total), want $want_events"

# The dead letters: key, value size, headers.
dlq() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%k|%S|%h\n' 2>/dev/null >"$IT_DIR/dlq.txt" || true; }
four() { dlq; [ "$(grep -c 'gb-reason=' "$IT_DIR/dlq.txt")" -ge 4 ]; }
gb_wait_until 30 "4 dead letters" four || it_fail "dead letters: $(cat "$IT_DIR/dlq.txt")"
[ "$(grep -c 'gb-reason=' "$IT_DIR/dlq.txt")" = 4 ] || it_fail "dead letters: $(cat "$IT_DIR/dlq.txt"), want 4"
line() { grep "^$1|" "$IT_DIR/dlq.txt" | grep -F -- "$2" || it_fail "no dead letter with key $1 and $2 in: $(cat "$IT_DIR/dlq.txt")"; }
l=$(line over-limit 'gb-reason=too_large')
[[ $l == 'over-limit|4097|'* ]] || it_fail "the 4097-byte message is not dead-lettered whole: $l"
[[ $l == *'gb-detail=message of 4097 bytes, limit 4096'* ]] || it_fail "too_large detail: $l"
l=$(line huge 'gb-reason=too_large')
[[ $l == 'huge|0|'* ]] || it_fail "the 100000-byte message's dead letter carries a value: $l"
[[ $l == *'value of 100000 bytes left out'*'read it at gb-topic'* ]] || it_fail "huge detail: $l"
[[ $l == *"gb-topic=$IT_TOPIC_gb_calls"* && $l == *'gb-offset='* ]] || it_fail "huge: no origin: $l"
for i in 3 4; do
  l=$(line batch "gb-index=$i")
  [[ $l == *'gb-reason=too_many_records'* ]] || it_fail "record $i of the batch: $l"
  [ "${l#batch|}" != "$l" ] && [ "$(cut -d'|' -f2 <<<"$l")" = "$(call b$((i + 1)) $((11 + i)) | head -c -1 | wc -c)" ] ||
    it_fail "record $i of the batch is not dead-lettered as its own bytes: $l"
done
grep -q '^at-limit|' "$IT_DIR/dlq.txt" && it_fail "the message at the limits was dead-lettered"
gb_pid_alive "${IT_PIDS[-1]}" || it_fail "ingest is gone"

IT_OK=1
gb_log "PASS: 431 at 1025 head bytes and 65 lines, 413 at 2049 body bytes, 408 for a trickled request, 503 for the 5th connection (and recovery); admin 431/413/503; ingest: 4096 bytes and 3 records pass, too_large (whole, and without value past 65536), too_many_records, in $want_in = out $want_out + dead 4"
