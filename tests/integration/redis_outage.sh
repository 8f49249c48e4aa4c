#!/usr/bin/env bash
# Redis trouble (issue 8, promise 3): Redis unreachable for 30 s while calls
# that must alert keep coming. The full stack runs, an officer's device is
# connected, alerts arrive before the outage; then Redis stops answering
# (SIGSTOP: connections accepted, commands time out) for 15 s, then is gone
# (SIGKILL: connections refused) for 15 s, and is started again on its
# append-only file. Meanwhile:
#   - matcher's and notifier's /readyz answer 503 and their /healthz 200
#     with {"status":"degraded","redis":{"state":"down",...}}; ingest, which
#     needs no Redis, stays ready and goes on turning calls into events;
#   - a claim answers 503 with Retry-After, quickly;
#   - the device's push stream stays open;
#   - nothing is lost or committed early: once Redis is back, readiness
#     returns, every alert of the calls made during the outage reaches the
#     device exactly once (counted by alert id), on the same stream, and the
#     data from before the outage is still there;
#   - the logs tell the outage once, not per call: redis.down when it
#     begins, redis.up with its length when it ends, the reconnections, and
#     the held batch's retries.
# First, two short outages of their own, where a command's reply is lost
# while the command itself runs when Redis resumes (a stopped server runs
# what it received, long after its caller gave up): matcher's incident
# script, then notifier's store. Each alert must still arrive, once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env redis_outage
it_station st-1 "思明派出所" 24.4539 118.0820
TIMEOUT_MS=1000
IT_NOTIFIER_ARGS="--redis.timeout-ms=$TIMEOUT_MS"
it_stack --redis.timeout-ms=$TIMEOUT_MS
it_device device st-1
api="http://127.0.0.1:$IT_HTTP"
M=$(it_admin matcher) I=$(it_admin ingest)
[ -n "$M" ] && [ -n "$I" ] || it_fail "no admin address for matcher ($M) or ingest ($I)"

F=+8617000000061
for n in 61 62 63 64 65 66 67 68 69; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
done
it_produce "$IT_TOPIC_gb_intel" "phone:$F" "{\"kind\":\"phone\",\"value\":\"$F\"}"
registered() { [ "$(grep -c 'registry.applied .*accepted=yes' "$IT_DIR/matcher.log")" -ge 9 ]; }
gb_wait_until 60 "9 registrations" registered || it_fail "the registrations were not applied"
it_wait_log matcher 'intel.applied kind=phone' 30 "the fraud number"

# Before: alerts arrive.
it_call c-61 $F 13900000061 300
it_call c-62 $F 13900000062 300
it_wait_alert device +8613900000061 '.revision == 1' 60 "the first alert before the outage"
it_wait_alert device +8613900000062 '.revision == 1' 60 "the second alert before the outage"
A1=$(it_alerts_for device +8613900000061 | jq -r .alert_id | head -1)
redis_pid=$(cat "$IT_REDIS_DIR/pid")
notifier_pid=$(cat "$IT_DIR/notifier.pid")
gb_pid_alive "$redis_pid" redis-server || it_fail "no redis-server pid"
# A failure while Redis is stopped must not leave it stopped for the cleanup.
trap 'kill -CONT "$redis_pid" 2>/dev/null || true; it_cleanup' EXIT

# A log line of NAME after its first SKIP lines.
logged_after() { tail -n +"$(($2 + 1))" "$IT_DIR/$1.log" | grep -q -- "$3"; }
past() { [ "$(gb_now_ms)" -gt "$1" ]; }
# lose_reply SERVICE CONN HELD WAITS COMMAND...: pauses Redis's writes for
# 4 s and runs COMMAND (which makes SERVICE send a write); once WAITS finds
# that write waiting in Redis, stops Redis, waits for SERVICE to give up on
# connection CONN and log HELD (holding its work), and resumes Redis once
# the pause is over, so that the write runs with nobody left to hear it.
lose_reply() {
  local svc=$1 conn=$2 held=$3 waits=$4 tp lines
  shift 4
  tp=$(gb_now_ms)
  lines=$(wc -l <"$IT_DIR/$svc.log")
  redis-cli -p "$IT_REDIS_PORT" CLIENT PAUSE 4000 WRITE >/dev/null || it_fail "CLIENT PAUSE"
  "$@"
  GB_WAIT_INTERVAL=0.02 gb_wait_until 10 "$svc's write waiting in Redis" "$waits" ||
    it_fail "$svc's write did not reach Redis during the pause"
  kill -STOP "$redis_pid"
  gb_wait_until 10 "$svc giving up on the write's answer" logged_after "$svc" "$lines" "event=redis.disconnected conn=$conn " ||
    it_fail "$svc did not time out"
  it_wait_log "$svc" "$held" 10 "$svc holding its work"
  gb_wait_until 10 "the pause to end" past $((tp + 4100)) || it_fail "the clock"
  kill -CONT "$redis_pid"
}

# ---- A lost reply: matcher's incident script runs, its answer never comes. ----
# Writes are paused for 4 s (CLIENT PAUSE WRITE: reads go on), so the
# incident script of the next call waits in Redis; Redis stops then, matcher
# gives up on the script's answer and holds its batch, and the script runs
# when Redis resumes, the pause over. matcher's retry finds the evidence
# recorded: it must emit the alert all the same (resent=yes), once.
script_waits() { redis-cli -p "$IT_REDIS_PORT" CLIENT LIST | grep -q 'flags=b .* cmd=eval '; }
lose_reply matcher pipeline 'event=pipeline.retrying ' script_waits it_call c-63 $F 13900000063 300
it_wait_log matcher 'event=alert.emitted .*resent=yes' 20 "the alert of the script whose answer was lost"
it_wait_alert device +8613900000063 '.revision == 1' 20 "the alert whose script's answer was lost"
it_wait_log matcher 'event=pipeline.resumed ' 20 "matcher going on"
[ "$(grep -c 'event=alert.emitted ' "$IT_DIR/matcher.log")" = 3 ] || it_fail "matcher emitted an alert twice"
gb_log "lost reply: matcher's incident script ran when Redis resumed; the retry emitted its alert once"

# ---- A lost reply: notifier's store runs, its answer never comes. ----
# The same with notifier's store of an alert published straight to
# gb.alerts (matcher's writes would wait too): the store waits in Redis
# (told from the escalation timer's by its size; that one may go first,
# time out and cost a second), Redis stops, notifier gives up on the
# answer and holds the alert, Redis resumes and runs the store; notifier's
# retry finds it stored and must push it all the same (recovered=yes), once.
X=feedfacefeedface0000000000000070
now_ms=$(gb_now_ms)
protoc --proto_path="$GB_ROOT/proto" --encode=goldenbell.v1.Alert goldenbell/v1/alert.proto >"$IT_DIR/x.bin" <<EOF2
version: 1 alert_id: "$X" station_id: "st-1" subject: "+8613900000070" risk: RISK_HIGH
rule: RULE_LONG_FRAUD_CALL evidence: "on a call with fraud number $F for 5 min 0 s, ended"
created_ms: $now_ms updated_ms: $now_ms count: 1 revision: 1
protectors { registrant: "+8613900000070" station_id: "st-1" relation: "self" following: true }
EOF2
publish_x() {
  kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -k st-1 -X enable.idempotence=true -X acks=all \
    -H 'content-type=application/x-protobuf; proto=goldenbell.v1.Alert' "$IT_DIR/x.bin" 2>>"$IT_DIR/kcat.log" ||
    it_fail "kcat could not publish the alert"
}
store_waits() {
  redis-cli -p "$IT_REDIS_PORT" CLIENT LIST |
    awk '/ flags=b / && / cmd=evalsha / { for (i = 1; i <= NF; i++) if ($i ~ /^argv-mem=/ && substr($i, 10) + 0 > 1000) f = 1 } END { exit !f }'
}
lose_reply notifier loop 'event=alerts.held ' store_waits publish_x
it_wait_log notifier "event=alert.pushed alert=$X .*recovered=yes" 20 "the alert the lost call stored, pushed after all"
it_wait_alert device +8613900000070 '.revision == 1' 20 "the alert whose store's reply was lost"
it_wait_log notifier 'event=alerts.resumed ' 20 "notifier going on"
[ "$(grep -c "event=alert.pushed alert=$X " "$IT_DIR/notifier.log")" = 1 ] || it_fail "alert $X pushed more than once"
gb_log "lost reply: notifier's store ran when Redis resumed; notifier found it stored and pushed it once"

# ---- The outage: 15 s silent, 15 s refused. ----
mlines=$(wc -l <"$IT_DIR/matcher.log") nlines=$(wc -l <"$IT_DIR/notifier.log")
records_out() { curl -sf -m 2 "http://$I/metrics" | sed -n 's/^gb_ingest_records_out_total \([0-9]*\)$/\1/p'; }
in0=$(records_out)
T0=$(gb_now_ms)
kill -STOP "$redis_pid"
# The first claim, before anything knows the server went silent: it waits
# for one command's timeout at most (plus a second of slack for a busy
# machine).
t=$(gb_now_ms)
code=$(curl -s -D "$IT_DIR/claim.h" -o /dev/null -w '%{http_code}' -m 10 -X POST \
  -H "Authorization: Bearer $IT_TOKEN" "$api/v1/alerts/$A1/claim")
first_claim_ms=$(($(gb_now_ms) - t))
[ "$code" = 503 ] || it_fail "the first claim of the outage answered $code"
grep -qi '^retry-after: [0-9]' "$IT_DIR/claim.h" || it_fail "the claim's 503 has no Retry-After"
[ "$first_claim_ms" -le $((TIMEOUT_MS + 1000)) ] ||
  it_fail "the first claim of the outage took $first_claim_ms ms (redis.timeout-ms is $TIMEOUT_MS)"
it_call c-64 $F 13900000064 300
it_call c-65 $F 13900000065 300
stage=silent
m503=0 n503=0 mdeg=0 ndeg=0 claims=0 claim_max_ms=0 ingest_ready=1 late_call=0
# One round of checks; returns 0 once the stage's time is up.
check() {
  local now code t body
  now=$(gb_now_ms)
  gb_pid_alive "$(cat "$IT_DIR/device.pid")" curl || it_fail "the device's stream closed during the outage"
  gb_pid_alive "$(cat "$IT_DIR/matcher.pid")" matcher || it_fail "matcher exited during the outage"
  gb_pid_alive "$notifier_pid" notifier || it_fail "notifier exited during the outage"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://$M/readyz")" = 503 ] && m503=$((m503 + 1))
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "$api/readyz")" = 503 ] && n503=$((n503 + 1))
  body=$(curl -sf -m 3 "http://$M/healthz") || it_fail "matcher's /healthz did not answer 200"
  jq -e '.status == "degraded" and .redis.state == "down"' <<<"$body" >/dev/null && mdeg=$((mdeg + 1))
  body=$(curl -sf -m 3 "$api/healthz") || it_fail "notifier's /healthz did not answer 200"
  jq -e '.status == "degraded" and .redis.state == "down"' <<<"$body" >/dev/null && ndeg=$((ndeg + 1))
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://$I/readyz")" = 200 ] || ingest_ready=0
  # A claim, once Redis is known to be away: 503 at once, with Retry-After.
  if [ "$n503" -gt 0 ]; then
    t=$(gb_now_ms)
    code=$(curl -s -D "$IT_DIR/claim.h" -o /dev/null -w '%{http_code}' -m 5 -X POST \
      -H "Authorization: Bearer $IT_TOKEN" "$api/v1/alerts/$A1/claim")
    t=$(($(gb_now_ms) - t))
    [ "$code" = 503 ] || it_fail "a claim during the outage answered $code"
    grep -qi '^retry-after: [0-9]' "$IT_DIR/claim.h" || it_fail "the claim's 503 has no Retry-After"
    claims=$((claims + 1))
    [ "$t" -gt "$claim_max_ms" ] && claim_max_ms=$t
  fi
  if [ "$stage" = silent ] && [ "$late_call" = 0 ] && [ $((now - T0)) -ge 7000 ]; then
    it_call c-66 $F 13900000066 300
    late_call=1
  fi
  [ "$now" -ge "$1" ]
}
GB_WAIT_INTERVAL=0.25 gb_wait_until 20 "the silent part of the outage" check $((T0 + 15000)) || it_fail "checks"
kill -KILL "$redis_pid"
gone() { ! gb_pid_alive "$redis_pid" redis-server; }
gb_wait_until 10 "redis-server gone" gone || it_fail "redis-server did not die"
stage=refused
it_call c-67 $F 13900000067 300
it_call c-68 $F 13900000068 300
GB_WAIT_INTERVAL=0.25 gb_wait_until 20 "the refused part of the outage" check $((T0 + 30000)) || it_fail "checks"
in1=$(records_out)
"$GB_ROOT/scripts/redis-start.sh" --dir "$IT_REDIS_DIR" >/dev/null 2>>"$IT_DIR/redis-restart.log" ||
  it_fail "redis-server did not start again"
T1=$(gb_now_ms)
outage_ms=$((T1 - T0))
[ "$m503" -gt 0 ] && [ "$n503" -gt 0 ] || it_fail "/readyz was not 503 during the outage (matcher $m503, notifier $n503 times)"
[ "$mdeg" -gt 0 ] && [ "$ndeg" -gt 0 ] || it_fail "/healthz did not say degraded (matcher $mdeg, notifier $ndeg times)"
[ "$claims" -gt 0 ] || it_fail "no claim was tried during the outage"
[ "$claim_max_ms" -le "$TIMEOUT_MS" ] || it_fail "a claim took $claim_max_ms ms (redis.timeout-ms is $TIMEOUT_MS)"
[ "$ingest_ready" = 1 ] || it_fail "ingest, which needs no Redis, was not ready during the outage"
# The five calls of the outage went through ingest meanwhile.
[ "${in1:-0}" -ge $(( ${in0:-0} + 5 )) ] || it_fail "ingest did not go on during the outage (records out $in0 -> $in1)"

# ---- Back. ----
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$1")" = 200 ]; }
gb_wait_until 20 "matcher ready again" ready "http://$M/readyz" || it_fail "matcher's /readyz stayed 503"
m_ready_ms=$(($(gb_now_ms) - T1))
gb_wait_until 20 "notifier ready again" ready "$api/readyz" || it_fail "notifier's /readyz stayed 503"
n_ready_ms=$(($(gb_now_ms) - T1))
for n in 64 65 66 67 68; do
  it_wait_alert device +86139000000$n '.revision == 1' 30 "the alert of call c-$n, made during the outage"
done
delivered_ms=$(($(gb_now_ms) - T1))
curl -sf -m 3 "http://$M/healthz" | jq -e '.status == "ok" and .redis.state == "up"' >/dev/null ||
  it_fail "matcher's /healthz still degraded"
curl -sf -m 3 "$api/healthz" | jq -e '.status == "ok" and .redis.state == "up" and .alerts_held == 0' >/dev/null ||
  it_fail "notifier's /healthz still degraded"
# Live again, on the same stream.
it_call c-69 $F 13900000069 300
it_wait_alert device +8613900000069 '.revision == 1' 60 "a live alert after the outage"
[ "$(grep -c 'event=stream.opened' "$IT_DIR/notifier.log")" = 1 ] || it_fail "the device had to reconnect"
! grep -q 'event=stream.closed' "$IT_DIR/notifier.log" || it_fail "a stream was closed"
# Exactly once, by alert id: 10 alerts (9 calls, and the one notifier
# stored without hearing so), 10 people, each once.
it_sse_events device alert >"$IT_DIR/alerts.jsonl"
total=$(wc -l <"$IT_DIR/alerts.jsonl")
distinct=$(jq -r .alert_id "$IT_DIR/alerts.jsonl" | sort -u | wc -l)
people=$(jq -r .subject "$IT_DIR/alerts.jsonl" | sort -u | tr '\n' ' ')
[ "$total" = 10 ] && [ "$distinct" = 10 ] ||
  it_fail "the device got $total alert events for $distinct alerts (want 10 and 10): $(jq -r '"\(.alert_id) \(.subject)"' "$IT_DIR/alerts.jsonl" | tr '\n' ' ')"
[ "$people" = "$(printf '+86139000000%s ' 61 62 63 64 65 66 67 68 69 70)" ] || it_fail "alerted people: $people"
[ -z "$(it_sse_events device alert.updated)" ] || it_fail "an alert came again as an update"
# The data from before the outage survived the restart: the first alert is
# still there, still new (the claims during the outage did nothing), and
# can be claimed now.
code=$(curl -s -o "$IT_DIR/claim.json" -w '%{http_code}' -m 5 -X POST -H "Authorization: Bearer $IT_TOKEN" \
  "$api/v1/alerts/$A1/claim")
[ "$code" = 200 ] || it_fail "claiming the first alert after the outage answered $code: $(cat "$IT_DIR/claim.json")"

# ---- What the logs say: once per outage, not per call. ----
# Each connection reconnects on its next call (the outbox threads look at
# least every 5 s): every one that logged its loss logs its return.
all_back() {
  local s f conn from
  for s in matcher notifier; do
    if [ "$s" = matcher ]; then from=$mlines; else from=$nlines; fi
    tail -n +"$((from + 1))" "$IT_DIR/$s.log" >"$IT_DIR/$s.outage.log"
    f=$IT_DIR/$s.outage.log
    for conn in $(sed -n 's/.*event=redis.disconnected conn=\([a-z]*\).*/\1/p' "$f" | sort -u); do
      grep -q "event=redis.reconnected conn=$conn " "$f" || return 1
    done
  done
}
gb_wait_until 15 "every connection back" all_back || it_fail "a connection did not log its reconnection"
for s in matcher notifier; do
  f=$IT_DIR/$s.outage.log
  [ "$(grep -c 'level=error .*event=redis.down ' "$f")" = 1 ] || it_fail "$s: redis.down $(grep -c 'event=redis.down ' "$f") times"
  [ "$(grep -c 'event=redis.up ' "$f")" = 1 ] || it_fail "$s: redis.up $(grep -c 'event=redis.up ' "$f") times"
  down=$(sed -n 's/.*event=redis.up .*down_ms=\([0-9]*\).*/\1/p' "$f")
  [ "$down" -ge 25000 ] && [ "$down" -le $((outage_ms + 5000)) ] || it_fail "$s: the outage lasted $down ms by its log (measured $outage_ms)"
  for conn in $(sed -n 's/.*event=redis.disconnected conn=\([a-z]*\).*/\1/p' "$f" | sort -u); do
    [ "$(grep -c "event=redis.disconnected conn=$conn " "$f")" = 1 ] || it_fail "$s: conn $conn disconnected more than once"
    grep -q "event=redis.reconnected conn=$conn .*down_ms=[0-9]* failed_calls=[0-9]* attempts=[0-9]*" "$f" ||
      it_fail "$s: conn $conn did not log its reconnection"
  done
  noisy=$(grep -E 'level=(warn|error)' "$f" | sed -n 's/.* event=\([^ ]*\).*/\1/p' | sort | uniq -c | awk '$1 > 3' || true)
  [ -z "$noisy" ] || it_fail "$s logs per call during the outage: $noisy"
done
grep -q 'event=redis.reconnected conn=pipeline ' "$IT_DIR/matcher.outage.log" || it_fail "matcher's connection did not reconnect"
grep -q 'event=redis.reconnected conn=loop ' "$IT_DIR/notifier.outage.log" || it_fail "notifier's connection did not reconnect"
[ "$(grep -c 'event=pipeline.retrying ' "$IT_DIR/matcher.outage.log")" = 1 ] || it_fail "matcher: pipeline.retrying not once"
retry_line=$(grep 'event=pipeline.resumed ' "$IT_DIR/matcher.outage.log" | head -1)
[ -n "$retry_line" ] || it_fail "matcher: no pipeline.resumed"
retries=$(sed -n 's/.*retries=\([0-9]*\).*/\1/p' <<<"$retry_line")
held_ms=$(sed -n 's/.*held_ms=\([0-9]*\).*/\1/p' <<<"$retry_line")
[ "$retries" -le 40 ] || it_fail "matcher retried $retries times in $held_ms ms: a busy loop"
! grep -q 'event=pipeline.commit\|event=notifier.fatal\|event=matcher.stopped' "$IT_DIR/matcher.outage.log" "$IT_DIR/notifier.outage.log" ||
  it_fail "a service stopped or failed to commit during the outage"

IT_OK=1
gb_log "PASS: Redis away ${outage_ms} ms (15 s silent, then refused, restarted on its AOF): 503s on readyz, degraded healthz, the first claim 503 in ${first_claim_ms} ms, then in <= ${claim_max_ms} ms ($claims tried), stream open; ingest turned $(( ${in1:-0} - ${in0:-0} )) records into events meanwhile; matcher held its batch ${held_ms} ms over ${retries} tries; ready again in ${m_ready_ms} ms (matcher) and ${n_ready_ms} ms (notifier); the 5 alerts of the outage delivered ${delivered_ms} ms after Redis returned; 10 alerts, each exactly once; two lost replies (matcher's incident script, notifier's store) recovered"
