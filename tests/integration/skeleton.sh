#!/usr/bin/env bash
# The walking skeleton, end to end through the real broker and Redis:
# a registration and a fraud number go in; a long call between them,
# published by kcat as a carrier would, comes out as an alert on an
# officer's device connected to notifier's push stream. A short call, a call
# with an unprotected number and a call with a clean number alert nobody.
# (The skeleton turns rule 3 off, under which the short call would be a
# low-risk warning: matcher_rules.sh tests that rule.)
#
#   skeleton.sh [--without ingest|matcher|notifier]
#
# --without leaves one service out; the test must then fail (see
# skeleton_needs_all.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

without=""
[ "${1:-}" = "--without" ] && without=$2
alert_timeout=${GB_SKELETON_ALERT_TIMEOUT:-60}

it_init skeleton${without:+-without-$without}
it_topics gb.calls gb.visits gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.dlq
it_redis
it_hash_key
port=$(gb_free_port)
it_station st-1 "思明派出所" 24.4539 118.0820

common=(
  --log.level=debug
  --redis.url="$IT_REDIS_URL" --redis.prefix="t$IT_SUFFIX:"
  --topic.calls="$IT_TOPIC_gb_calls" --topic.visits="$IT_TOPIC_gb_visits" --topic.registry="$IT_TOPIC_gb_registry"
  --topic.registry-results="$IT_TOPIC_gb_registry_results" --topic.intel="$IT_TOPIC_gb_intel" --topic.index="$IT_TOPIC_gb_index"
  --topic.events="$IT_TOPIC_gb_events" --topic.alerts="$IT_TOPIC_gb_alerts"
  --topic.dlq="$IT_TOPIC_gb_dlq"
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000
)
[ "$without" = ingest ] || it_start ingest ingest/ingest "${common[@]}" --ingest.group="i$IT_SUFFIX" --admin.port=0
echo '{"version": 1, "fraud_contact": {"enabled": false}}' >"$IT_DIR/rules.json"
[ "$without" = matcher ] || it_start matcher matcher/matcher "${common[@]}" \
  --matcher.group="m$IT_SUFFIX" --index.hash-key-file="$IT_HASH_KEY_FILE" \
  --index.keys-file="$IT_KEYS_FILE" --admin.port=0 --matcher.rules-file="$IT_DIR/rules.json"
[ "$without" = notifier ] || it_start notifier notifier/notifier "${common[@]}" \
  --notifier.group="n$IT_SUFFIX" --http.port="$port" --index.hash-key-file="$IT_HASH_KEY_FILE"

# Each running service has joined its group and owns its partitions.
[ "$without" = ingest ] || it_wait_log ingest "kafka.assigned topic=$IT_TOPIC_gb_calls" 60 "ingest assignment"
[ "$without" = matcher ] || it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_events" 60 "matcher assignment"
[ "$without" = notifier ] || it_wait_log notifier "kafka.assigned topic=$IT_TOPIC_gb_alerts" 60 "notifier assignment"

# An officer's device of station st-1 connects to the push stream.
IT_HTTP=$port IT_TOKEN=none
[ "$without" = notifier ] || it_token officer-1 st-1
gb_launch "$IT_DIR/device.out" "$IT_DIR/device.pid" \
  curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$port/v1/stream?station=st-1"
IT_PIDS+=("$(cat "$IT_DIR/device.pid")"); IT_NAMES+=(device)
[ "$without" = notifier ] || it_wait_log notifier "stream.opened station=st-1" 20 "device connection"

registrant=13900139000   # as the registration back end sends it
fraud=+8617000000000
it_produce "$IT_TOPIC_gb_registry" "$registrant" \
  '{"request_id":"req-1","op":"register","registrant":"13900139000","station_id":"st-1","following":true}'
it_produce "$IT_TOPIC_gb_intel" "phone:$fraud" \
  '{"kind":"phone","value":"+86 170 0000 0000","action":"add","source":"test","confidence":90}'
if [ "$without" != matcher ]; then
  it_wait_log matcher "registry.applied request_id=req-1" 30 "registration applied"
  it_wait_log matcher "intel.applied kind=phone" 30 "fraud number applied"
fi

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
call() { # id caller callee duration
  it_produce "$IT_TOPIC_gb_calls" "$1" \
    "{\"call_id\":\"$1\",\"caller\":\"$2\",\"callee\":\"$3\",\"start\":\"$now\",\"duration_s\":$4,\"carrier\":\"CMCC\"}"
}
call neg-short "$fraud" "$registrant" 30          # below the 60 s threshold
call neg-unprotected "$fraud" 13700137000 312     # nobody protected on the call
call neg-clean 13600136000 "$registrant" 312      # no fraud number on the call
call pos-1 "$fraud" "$registrant" 312             # the one that must alert

alert_seen() { [ "$(grep -c '^event: alert$' "$IT_DIR/device.out" 2>/dev/null)" -ge 1 ]; }
gb_wait_until "$alert_timeout" "the alert on the officer's device" alert_seen ||
  it_fail "no alert reached the device within ${alert_timeout} s"

# The alert is the right one, in full.
data=$(grep -m1 '^data: ' "$IT_DIR/device.out" | sed 's/^data: //')
for want in '"subject":"+8613900139000"' '"station_id":"st-1"' '"risk":"high"' \
            '"rule":"long_fraud_call"' '"call_id":"pos-1"' 'for 5 min 12 s'; do
  grep -qF -- "$want" <<<"$data" || it_fail "alert lacks $want: $data"
done
grep -q '^id: [0-9]*-[0-9]*$' "$IT_DIR/device.out" || it_fail "alert has no feed id"

# Every negative call was decided, and decided against alerting.
it_wait_log matcher 'event_id=call:CMCC:neg-short:\+8613900139000:30 reason=below_threshold' 30 "short call decision"
it_wait_log matcher 'event_id=call:CMCC:neg-unprotected:\+8613700137000:312 reason=not_protected' 30 "unprotected call decision"
it_wait_log matcher 'event_id=call:CMCC:neg-clean:\+8613900139000:312 reason=no_indicator' 30 "clean call decision"
alerts=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f 'x\n' | wc -l)
[ "$alerts" -eq 1 ] || it_fail "want exactly 1 alert on $IT_TOPIC_gb_alerts, found $alerts"
devices=$(grep -c '^event: alert$' "$IT_DIR/device.out")
[ "$devices" -eq 1 ] || it_fail "want exactly 1 alert on the device, got $devices"
dead=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f 'x\n' | wc -l)
[ "$dead" -eq 0 ] || it_fail "want no dead letters, found $dead"

# SIGTERM: each service finishes, commits and says so.
for i in "${!IT_PIDS[@]}"; do
  [ "${IT_NAMES[$i]}" = device ] && continue
  gb_pid_stop "${IT_PIDS[$i]}" 20 "${IT_NAMES[$i]}" TERM || it_fail "${IT_NAMES[$i]} ignored SIGTERM"
done
it_wait_log ingest 'event=pipeline.stopped .* clean=yes' 5 "ingest clean stop"
it_wait_log matcher 'event=pipeline.stopped .* clean=yes' 5 "matcher clean stop"
it_wait_log notifier 'event=notifier.stopped .* exit=0' 5 "notifier clean stop"

IT_OK=1
gb_log "PASS: 1 alert on the device and on $IT_TOPIC_gb_alerts; 3 negative calls decided against"
