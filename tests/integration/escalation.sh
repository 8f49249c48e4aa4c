#!/usr/bin/env bash
# Escalation with a short configured time (2 s): an alert nobody claims is
# pushed again to the station's devices, raised to the station
# administrator, then to the bureau, and each step is in the audit trail;
# an alert claimed in time is never escalated; a claimed alert with no
# record reminds the officer who has it (2 s too), until it is resolved.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env escalation
it_station st-1 "思明派出所" 24.4539 118.0820
IT_NOTIFIER_ARGS="--notifier.escalate-after-s=2 --notifier.remind-after-s=2" it_stack
it_device device st-1
# The bureau administrator's screen: every station's stream.
it_token boss "" bureau_admin
gb_launch "$IT_DIR/bureau.out" "$IT_DIR/bureau.pid" \
  curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$IT_HTTP/v1/stream?station=*"
IT_PIDS+=("$(cat "$IT_DIR/bureau.pid")"); IT_NAMES+=(bureau)
it_wait_log notifier 'stream.opened station=\* account=boss' 20 "the bureau's stream"
A=+8613900000041 B=+8613900000042
for n in 41 42; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
  it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"
done
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000000 '{"kind":"phone","value":"+8617000000000"}'
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"

# B's alert is claimed as soon as it arrives, by one of st-1's officers.
it_call esc-b +8617000000000 13900000042 300
it_wait_alert device $B '.revision == 1' 60 "B's alert"
it_token o-claimer st-1
b=$(it_alerts_for device $B | jq -r .alert_id | head -1)
[ "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $IT_TOKEN" \
     "http://127.0.0.1:$IT_HTTP/v1/alerts/$b/claim")" = 200 ] || it_fail "claiming B's alert: $(cat "$IT_DIR/body")"
# A's alert is left alone.
it_call esc-a +8617000000000 13900000041 300
it_wait_alert device $A '.revision == 1' 60 "A's alert"
escalated() { # LEVEL
  sed -n 's/^data: //p' "$IT_DIR/device.out" | jq -c --arg s "$A" --argjson l "$1" \
    'select(.subject == $s and .escalation.level == $l)' 2>/dev/null | grep -q .
}
gb_wait_until 15 "A's alert raised to the station administrator" escalated 1 || it_fail "no level-1 escalation"
gb_wait_until 15 "A's alert raised to the bureau" escalated 2 || it_fail "no level-2 escalation"
# (jq -e judges only the last input, so the tests select and count instead.)
sed -n 's/^data: //p' "$IT_DIR/device.out" | jq -c --arg s "$A" 'select(.subject == $s and .escalation.level == 2 and
  .escalation.to == "bureau" and (.evidence | length > 0))' | grep -q . || it_fail "the level-2 push lacks the alert"
grep -q '^event: alert.escalated$' "$IT_DIR/device.out" || it_fail "no alert.escalated event"
# The bureau saw it too: the alert, the claim of B, and the escalations.
it_wait_alert bureau $A '.escalation.level == 2' 10 "the escalation on the bureau's stream"
it_alerts bureau | jq -c 'select(.action == "claim" and .station_id == "st-1")' | grep -q . ||
  it_fail "the bureau's stream missed the claim"
! grep -q '^id: ' "$IT_DIR/bureau.out" || it_fail "the bureau's stream carries per-station ids"
# B, claimed in time, never escalated (its level-1 deadline passed before A's level 2).
[ -z "$(sed -n 's/^data: //p' "$IT_DIR/device.out" | jq -c --arg s "$B" 'select(.subject == $s and .escalation)')" ] ||
  it_fail "B's claimed alert was escalated"
n=$(redis-cli -p "$IT_REDIS_PORT" XRANGE "${IT_PREFIX}audit:{st:st-1}" - + | grep -c '^escalate$' || true)
[ "$n" = 2 ] || it_fail "want 2 escalations in the audit trail, got $n"

# B's officer has filed no record: reminded, by name; then the record ends
# the reminders.
reminded() { it_alerts device | jq -c --arg s "$B" 'select(.subject == $s and .reminder.officer == "o-claimer")' | grep -q .; }
gb_wait_until 15 "the reminder of B's claim" reminded || it_fail "no reminder for B's claimed alert"
grep -q '^event: alert.reminder$' "$IT_DIR/device.out" || it_fail "no alert.reminder event"
[ -z "$(it_alerts device | jq -c --arg s "$A" 'select(.subject == $s and .reminder)')" ] || it_fail "A's unclaimed alert was reminded"
[ "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $IT_TOKEN" -H 'content-type: application/json' \
     -d '{"method":"visit","outcome":"dissuaded"}' "http://127.0.0.1:$IT_HTTP/v1/alerts/$b/resolve")" = 200 ] ||
  it_fail "resolving B's alert: $(cat "$IT_DIR/body")"
it_wait_log notifier "alert.reminder_done alert=$b" 15 "the reminders of B ending with the record"
[ "$(redis-cli -p "$IT_REDIS_PORT" ZRANGE "${IT_PREFIX}due" 0 -1 | grep -c "|$b|r" || true)" = 0 ] || it_fail "B's reminder is still scheduled"
r=$(redis-cli -p "$IT_REDIS_PORT" XRANGE "${IT_PREFIX}audit:{st:st-1}" - + | grep -c '^remind$' || true)
[ "$r" -ge 1 ] && [ "$r" = "$(grep -c '^event: alert.reminder$' "$IT_DIR/device.out")" ] ||
  it_fail "reminders: $r in the audit trail, $(grep -c '^event: alert.reminder$' "$IT_DIR/device.out") on the device"
curl -sf -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$IT_HTTP/v1/stats/alerts" >"$IT_DIR/stats.json" || it_fail "statistics"
jq -e --argjson r "$r" '.today.escalations == {"station_admin": 1, "bureau": 1} and .today.reminders == $r and
  .today.outcomes == {"dissuaded": 1} and .open == {"new": 1}' "$IT_DIR/stats.json" >/dev/null ||
  it_fail "statistics: $(cat "$IT_DIR/stats.json")"
# The live figures: A, open and escalated, is the oldest unclaimed; the
# listing shows its level. Once A is resolved, nothing is open.
a=$(it_alerts_for device $A | jq -r .alert_id | head -1)
jq -e --arg a "$a" '.escalated_open == 1 and .open_by_risk == {"high": 1, "medium": 0, "low": 0} and
  .oldest_unclaimed.alert_id == $a' "$IT_DIR/stats.json" >/dev/null || it_fail "live statistics: $(cat "$IT_DIR/stats.json")"
curl -sf -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$IT_HTTP/v1/alerts" >"$IT_DIR/list.json" || it_fail "the listing"
jq -e --arg a "$a" '(.alerts | map(.alert_id)) == [$a] and .alerts[0].workflow.escalation_level == 2 and
  (.alerts[0].workflow.escalated | test("^20[0-9-]+T[0-9:.]+Z$"))' "$IT_DIR/list.json" >/dev/null ||
  it_fail "the listing of the escalated alert: $(cat "$IT_DIR/list.json")"
for action in claim resolve; do
  [ "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $IT_TOKEN" -H 'content-type: application/json'        -d '{"method":"call","outcome":"could_not_reach"}' "http://127.0.0.1:$IT_HTTP/v1/alerts/$a/$action")" = 200 ] ||
    it_fail "$action A's alert: $(cat "$IT_DIR/body")"
done
curl -sf -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$IT_HTTP/v1/stats/alerts" >"$IT_DIR/stats.json" || it_fail "statistics"
jq -e '.escalated_open == 0 and .open_by_risk == {"high": 0, "medium": 0, "low": 0} and .oldest_unclaimed == null and
  .open == {}' "$IT_DIR/stats.json" >/dev/null || it_fail "live statistics once A is resolved: $(cat "$IT_DIR/stats.json")"

IT_OK=1
gb_log "PASS: an unclaimed alert escalated to the station administrator then the bureau; a claimed one never, but its officer was reminded ($r times) until the record"
