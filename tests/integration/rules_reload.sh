#!/usr/bin/env bash
# matcher picks a changed rules file up on SIGHUP, between batches, without
# a restart and without losing events; a broken file keeps the rules in
# force. A 40 s call with a fraud number is below the default 60 s threshold;
# after the threshold is lowered to 30 s and SIGHUP, the same kind of call
# alerts. (Rule 3, which would warn of the shorter call, is off throughout.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env rules_reload
it_station st-1 "思明派出所" 24.4539 118.0820
rules=$IT_DIR/rules.json
echo '{"version": 1, "long_call": {"min_duration_s": 60}, "fraud_contact": {"enabled": false}}' >"$rules"
it_service_args
it_start ingest ingest/ingest "${IT_ARGS[@]}" --ingest.group="i$IT_SUFFIX" --admin.port=0
it_start matcher matcher/matcher "${IT_ARGS[@]}" --log.level=debug --matcher.group="m$IT_SUFFIX" \
  --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file="$IT_KEYS_FILE" --admin.port=0 \
  --matcher.rules-file="$rules"
it_wait_log matcher 'rules.loaded long_call_s=60' 30 "the rules at start"
it_wait_log ingest "kafka.assigned topic=$IT_TOPIC_gb_calls" 60 "ingest assignment"
it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_events" 60 "matcher assignment"

it_produce "$IT_TOPIC_gb_registry" 13900139000 \
  '{"request_id":"r1","op":"register","registrant":"13900139000","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000000 '{"kind":"phone","value":"+8617000000000"}'
it_wait_log matcher 'registry.applied request_id=r1' 30 "registration"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
call() {
  it_produce "$IT_TOPIC_gb_calls" "$1" \
    "{\"call_id\":\"$1\",\"caller\":\"+8617000000000\",\"callee\":\"13900139000\",\"start\":\"$now\",\"duration_s\":40,\"carrier\":\"CMCC\"}"
}
call before
it_wait_log matcher 'event_id=call:CMCC:before:\+8613900139000:40 reason=below_threshold' 30 "the 40 s call below 60 s"

echo '{"version": 1, "long_call": {"min_duration_s": 30}, "fraud_contact": {"enabled": false}}' >"$rules"
kill -HUP "$(cat "$IT_DIR/matcher.pid")"
it_wait_log matcher 'rules.reloaded long_call_s=30' 30 "the reloaded rules"
call after
alerts() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l; }
one_alert() { [ "$(alerts)" -ge 1 ]; }
gb_wait_until 30 "an alert for the 40 s call under the new rules" one_alert || it_fail "no alert after the reload"
timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f '%s\n' 2>/dev/null |
  grep -a -q 'after' || it_fail "the alert is not for the call after the reload"
[ "$(alerts)" = 1 ] || it_fail "want exactly one alert, got $(alerts)"

# A broken file is refused and the rules in force stay.
echo '{"long_call": {"min_duration_s": "soon"}}' >"$rules"
kill -HUP "$(cat "$IT_DIR/matcher.pid")"
it_wait_log matcher 'rules.reload_failed .*long_call.min_duration_s: want a whole number.*action=kept_previous_rules' 30 "the refused reload"
gb_pid_alive "$(cat "$IT_DIR/matcher.pid")" || it_fail "matcher died on a broken rules file"

IT_OK=1
gb_log "PASS: SIGHUP reloaded the rules between batches; a broken file kept the rules in force"
