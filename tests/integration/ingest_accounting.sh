#!/usr/bin/env bash
# Nothing lost, nothing silent: a mixed feed of good and bad records, in
# every format, published by kcat and by Debian's python3-confluent-kafka,
# goes through ingest. Every record becomes canonical output or a dead
# letter with its reason, and the counters add up:
#   records_in = records_out + sum(records_dead by reason)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init ingest_accounting
it_topics gb.calls gb.visits gb.events gb.dlq
admin=$(gb_free_port)
it_start ingest ingest/ingest --log.level=info \
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000 \
  --topic.calls="$IT_TOPIC_gb_calls" --topic.visits="$IT_TOPIC_gb_visits" \
  --topic.events="$IT_TOPIC_gb_events" --topic.dlq="$IT_TOPIC_gb_dlq" \
  --ingest.group="i$IT_SUFFIX" --ingest.max-message-bytes=4096 \
  --admin.port="$admin"
it_wait_log ingest "kafka.assigned topic=$IT_TOPIC_gb_calls" 60 "ingest assignment"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
now_ms=$(( $(date +%s) * 1000 ))
future=$(( $(date +%s) + 7200 ))
call() { # id caller callee [extra json]
  printf '{"call_id":"%s","caller":"%s","callee":"%s","start":"%s","duration_s":90,"carrier":"CMCC"%s}' \
    "$1" "$2" "$3" "$now" "${4:-}"
}
pub() { # topic content-type file
  kcat -P -b "$IT_BOOTSTRAP" -t "$1" ${2:+-H "content-type=$2"} "$3" 2>>"$IT_DIR/kcat.log" ||
    it_fail "kcat could not publish $3"
}
m=0
msg() { m=$((m + 1)); cat >"$IT_DIR/m$m"; echo "$IT_DIR/m$m"; }

# ---- gb.calls, JSON ----
pub "$IT_TOPIC_gb_calls" application/json "$(call j1 +8613800138000 13900139000 | msg)"   # good
pub "$IT_TOPIC_gb_calls" "" "$(call j2 13800138001 '(0755) 8888 8888' | msg)"             # good, no header: topic default
pub "$IT_TOPIC_gb_calls" application/json "$(printf '{"call_id": "j3", "caller":' | msg)" # bad_json
pub "$IT_TOPIC_gb_calls" application/x-ndjson "$( { call n1 13800138002 13900139002; echo
  echo; call n2 13800138003 110; echo                     # good (110 is nobody: one event)
  printf '{"call_id":"n3","caller":"13800138004","start":"%s","duration_s":1}\n' "$now"  # missing_field callee
  call n4 13800138005 13900139005 ',"international":"yes"'; echo                          # wrong_type
  call n5 13800138006 13900139006; echo; } | msg)"        # good
pub "$IT_TOPIC_gb_calls" application/json "$( { printf '['; call a1 13800138007 13900139007
  printf ','; printf '{"call_id":"a2","caller":"13800138008","callee":"13900139008","start":%s,"duration_s":5}' "$future"  # future_time
  printf ','; call a3 13800138009 13900139009 ',"status":"paused"'                        # unknown_enum
  printf ','; call a4 12 13900139010                                                       # invalid_value (caller)
  printf ','; call a5 13800138011 13900139011; printf ']'; } | msg)"                       # good
pub "$IT_TOPIC_gb_calls" application/json "$(printf '{"call_id":"u1","caller":"\xff\xfe"}' | msg)"  # invalid_utf8
pub "$IT_TOPIC_gb_calls" application/json "$( { printf '{"call_id":"big","pad":"'; head -c 5000 /dev/zero | tr '\0' x; printf '"}'; } | msg)"  # too_large
pub "$IT_TOPIC_gb_calls" text/csv "$(echo 'call_id,caller' | msg)"                        # bad_content_type

# ---- gb.calls, protobuf, encoded by protoc (an independent encoder) ----
pb() { protoc --proto_path="$GB_ROOT/proto" --encode="$1" goldenbell/v1/input.proto; }
rec() { printf 'version: %s call_id: "%s" caller: "%s" callee: "%s" start_ms: %s duration_s: 75 carrier: "CTCC" status: CALL_STATUS_ONGOING' "$@"; }
{ for i in 1 2 3; do echo "records { $(rec 1 p$i 1380013810$i 1390013910$i "$now_ms") }"; done
  echo "records { $(rec 2 p4 13800138104 13900139104 "$now_ms") }"; } |   # unsupported_version
  pb goldenbell.v1.CallRecordBatch >"$IT_DIR/batch.bin"
pub "$IT_TOPIC_gb_calls" application/x-protobuf "$IT_DIR/batch.bin"          # 3 good, 1 unsupported_version
rec 1 s1 13800138201 13900139201 "$now_ms" | pb goldenbell.v1.CallRecord >"$IT_DIR/single.bin"
pub "$IT_TOPIC_gb_calls" "application/x-protobuf; proto=goldenbell.v1.CallRecord" "$IT_DIR/single.bin"  # good
head -c $(( $(stat -c %s "$IT_DIR/batch.bin") - 4 )) "$IT_DIR/batch.bin" >"$IT_DIR/trunc.bin"
pub "$IT_TOPIC_gb_calls" application/x-protobuf "$IT_DIR/trunc.bin"         # 3 good, 1 bad_protobuf (cut)

# ---- gb.visits ----
visit() { printf '{"event_id":"%s","phone":"%s","kind":"%s","target":"%s","ts":%s,"partner":"p1"}' "$@"; }
pub "$IT_TOPIC_gb_visits" application/x-ndjson "$( {
  visit v1 13900139000 site 'https://pay.Example-Fraud.com:8443/x?y' "$now_ms"; echo      # good
  visit v2 13900139000 app ' com.example.loan ' "$now_ms"; echo                          # good
  visit v3 13900139000 email 'x' "$now_ms"; echo                                         # unknown_enum
  visit v4 13900139000 site 'https://' "$now_ms"; echo                                   # invalid_value
  visit v5 110 site 'example.com' "$now_ms"; echo; } | msg)"                             # invalid_value (service number)

# ---- python3-confluent-kafka, as a partner on that client would ----
/usr/bin/python3 - "$IT_BOOTSTRAP" "$IT_TOPIC_gb_calls" "$now" <<'PY' || it_fail "confluent-kafka producer failed"
import json, sys
from confluent_kafka import Producer
boot, topic, now = sys.argv[1:4]
p = Producer({"bootstrap.servers": boot, "acks": "all", "enable.idempotence": True})
def rec(i, caller):
    return json.dumps({"call_id": i, "caller": caller, "callee": "13900139300", "start": now,
                       "duration_s": 61, "carrier": "CUCC"}).encode()
p.produce(topic, rec("py1", "+86 138 0013 8301"), key=b"py1", headers=[("content-type", b"application/json")])
p.produce(topic, rec("py2", "13800138302"), key=b"py2")
p.produce(topic, b'{"call_id": "py3"}', key=b"py3", headers=[("content-type", b"application/json")])  # missing_field
left = p.flush(30)
sys.exit(1 if left else 0)
PY

# Expected, by construction above.
want_in=33 want_out=18
declare -A want_dead=([bad_json]=1 [missing_field]=2 [wrong_type]=1 [future_time]=1 [unknown_enum]=2
  [invalid_value]=3 [invalid_utf8]=1 [too_large]=1 [bad_content_type]=1 [unsupported_version]=1
  [bad_protobuf]=1)
want_events=33 # 16 good calls x 2 parties - 1 service number (110), plus 2 visits

metric() { curl -sf "http://127.0.0.1:$admin/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
all_in() { [ "$(metric gb_ingest_records_in_total)" = "$want_in" ]; }
gb_wait_until 60 "ingest to read all $want_in records" all_in ||
  it_fail "records_in=$(metric gb_ingest_records_in_total), want $want_in"
# The batch that read the last record is committed only after its outputs
# are acknowledged; wait for the dead letters to be readable too.
dlq_count() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'gb-reason=' || true; }
want_dead_total=0; for r in "${!want_dead[@]}"; do want_dead_total=$((want_dead_total + want_dead[$r])); done
all_dead() { [ "$(dlq_count)" -ge "$want_dead_total" ]; }
gb_wait_until 60 "$want_dead_total dead letters" all_dead || it_fail "dead letters: $(dlq_count), want $want_dead_total"

# Every record read has been decided: out or dead.
balanced() {
  curl -sf "http://127.0.0.1:$admin/metrics" >"$IT_DIR/metrics.txt" || return 1
  [ "$(awk '/^gb_ingest_records_(out|dead)_total/ {s += $2} END {print s}' "$IT_DIR/metrics.txt")" = "$want_in" ]
}
gb_wait_until 30 "every record decided" balanced || it_fail "out + dead never reached $want_in"
got_out=$(metric gb_ingest_records_out_total)
[ "$got_out" = "$want_out" ] || it_fail "records_out=$got_out, want $want_out"
sum_dead=0
for r in "${!want_dead[@]}"; do
  got=$(metric "gb_ingest_records_dead_total{reason=\"$r\"}")
  [ "$got" = "${want_dead[$r]}" ] || it_fail "dead[$r]=$got, want ${want_dead[$r]}"
done
sum_dead=$(awk '/^gb_ingest_records_dead_total/ {s += $2} END {print s}' "$IT_DIR/metrics.txt")
[ $((got_out + sum_dead)) -eq "$want_in" ] ||
  it_fail "accounting: out $got_out + dead $sum_dead != in $want_in"
got_events=$(metric gb_ingest_events_out_total)
[ "$got_events" = "$want_events" ] || it_fail "events_out=$got_events, want $want_events"

# Every dead letter names its reason, field (where there is one) and origin.
timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q \
  -f '%h|||%s\n' >"$IT_DIR/dlq.txt" 2>/dev/null || true
[ "$(wc -l <"$IT_DIR/dlq.txt")" -ge "$want_dead_total" ] || it_fail "dead letters unreadable"
while IFS= read -r line; do
  for h in gb-reason= gb-detail= gb-topic= gb-partition= gb-offset= gb-service=ingest; do
    [[ $line == *"$h"* ]] || it_fail "dead letter without $h: ${line:0:300}"
  done
done < <(grep 'gb-reason=' "$IT_DIR/dlq.txt")
for r in "${!want_dead[@]}"; do
  n=$(grep -c "gb-reason=$r," "$IT_DIR/dlq.txt" || true)
  [ "$n" -eq "${want_dead[$r]}" ] || it_fail "dead letters with reason $r: $n, want ${want_dead[$r]}"
done
# A bad record of a batch goes out as its own bytes, unchanged.
grep -qF 'gb-index=2' "$IT_DIR/dlq.txt" || it_fail "no dead letter carries its batch index"
grep -qF '|||{"call_id":"n3","caller":"13800138004"' "$IT_DIR/dlq.txt" || it_fail "the bad NDJSON record is not dead-lettered as its own bytes"
grep -qF 'gb-field=callee' "$IT_DIR/dlq.txt" || it_fail "missing_field without gb-field"

IT_OK=1
gb_log "PASS: in $want_in = out $got_out + dead $sum_dead; events $got_events; every dead letter carries its reason"
