#!/usr/bin/env bash
# Data that ages out before ingest reads it is lost upstream of goldenbell;
# ingest must say so loudly: an error log line and a counter, not silence.
# The group's committed offset is made older than the partition's first
# record (records deleted, as retention would), then ingest is restarted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init ingest_offset_reset
IT_PARTITIONS=1 it_topics gb.calls gb.visits gb.events gb.dlq
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
publish() { # first last
  for i in $(seq "$1" "$2"); do
    printf '{"call_id":"r%d","caller":"13800138000","callee":"13900139000","start":"%s","duration_s":5}\n' "$i" "$now"
  done | kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_calls" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
}
run_ingest() { # name admin-port
  it_start "$1" ingest/ingest --kafka.bootstrap.servers="$IT_BOOTSTRAP" \
    --kafka.session.timeout.ms=6000 --topic.calls="$IT_TOPIC_gb_calls" \
    --topic.visits="$IT_TOPIC_gb_visits" --topic.events="$IT_TOPIC_gb_events" \
    --topic.dlq="$IT_TOPIC_gb_dlq" --ingest.group="g$IT_SUFFIX" --admin.port="$2"
}
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1 == k {print $2}'; }
records_are() { [ "$(metric "$1" gb_ingest_records_in_total)" = "$2" ]; }

publish 0 2
a1=$(gb_free_port)
run_ingest ingest1 "$a1"
gb_wait_until 60 "the first 3 records" records_are "$a1" 3 || it_fail "first run did not read 3 records"
gb_pid_stop "${IT_PIDS[0]}" 20 ingest1 || it_fail "ingest1 did not stop"
it_wait_log ingest1 'event=pipeline.stopped .* clean=yes' 5 "ingest1 committed and stopped"

publish 3 7                                   # offsets 3..7
"$GB_BUILD_DIR/tools/gb-topics" -b "$IT_BOOTSTRAP" delete-records "$IT_TOPIC_gb_calls" 0 6 \
  2>>"$IT_DIR/topics.log" || it_fail "delete-records failed"

a2=$(gb_free_port)
run_ingest ingest2 "$a2"
it_wait_log ingest2 'level=error .*event=kafka.offset_out_of_range' 60 "a loud offset-out-of-range line"
resets() { [ "$(metric "$a2" gb_kafka_offset_resets_total)" -ge 1 ] 2>/dev/null; }
gb_wait_until 30 "the offset-reset counter" resets || it_fail "gb_kafka_offset_resets_total stayed 0"
# It went on from the earliest record left (6): records 3..5 were lost
# before ingest could read them, and it said so.
gb_wait_until 60 "the 2 records left" records_are "$a2" 2 || it_fail "second run read $(metric "$a2" gb_ingest_records_in_total) records, want 2"

IT_OK=1
gb_log "PASS: out-of-range offset logged at error level and counted; ingest resumed at the earliest record"
