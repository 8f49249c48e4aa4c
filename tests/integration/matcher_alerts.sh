#!/usr/bin/env bash
# One alert per person and incident, through the real broker, Redis and
# notifier:
#   - a carrier re-sending a record (same call id, same content) changes
#     nothing; the final record of the same call updates the alert;
#   - new evidence within the suppression window (30 min), or while the
#     alert is open, updates it; after it is closed and the window has
#     passed, new evidence opens a new alert;
#   - a publicity-unit registrant is not protected: no alert, no task.
# Times are event times, hours in the past, as a late batch would carry.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env matcher_alerts
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-pub "终结诈骗防诈宣传中心" 24.48 118.10 --publicity
it_stack
it_device device st-1

A=+8613900000011 P=+8613900000012 F1=+8617000000001 F2=+8617000000002
it_produce "$IT_TOPIC_gb_registry" 13900000011 '{"request_id":"ra","op":"register","registrant":"13900000011","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_registry" 13900000012 '{"request_id":"rp","op":"register","registrant":"13900000012","station_id":"st-pub"}'
for f in $F1 $F2; do it_produce "$IT_TOPIC_gb_intel" "phone:$f" "{\"kind\":\"phone\",\"value\":\"$f\"}"; done
it_wait_log matcher 'registry.applied request_id=ra op=register accepted=yes protected=yes' 30 "A's registration"
it_wait_log matcher 'registry.applied request_id=rp op=register accepted=yes protected=no' 30 "P's registration (publicity unit)"
gb_wait_until 30 "both fraud numbers" bash -c "[ \$(grep -c 'intel.applied kind=phone' '$IT_DIR/matcher.log') -ge 2 ]" ||
  it_fail "the fraud numbers were not applied"

revisions() { it_alerts_for device $A | jq -r '"\(.alert_id) \(.revision) \(.count) \(.risk)"'; }

# c1, an interim record 90 s into the call: a new alert.
c1_start=$(it_ago 7200)
it_call c1 $F1 13900000011 90 "$c1_start" ongoing
it_wait_alert device $A '.revision == 1' 60 "the alert for c1"
first=$(it_alerts_for device $A | jq -r .alert_id | head -1)
# The same record again: nothing new. matcher says the alert again as it
# stands (a repeat may be a re-read after a crash that lost the first
# answer); notifier stores and pushes revision 1 once.
it_call c1 $F1 13900000011 90 "$c1_start" ongoing
it_wait_log matcher "alert.emitted alert=$first .*revision=1 .*resent=yes" 30 "the re-sent record decided"
# The final record of c1: the same alert, updated; then re-sent: nothing.
it_call c1 $F1 13900000011 200 "$c1_start" final
it_wait_alert device $A '.revision == 2' 60 "c1's final record"
[ -n "$(it_alerts_for device $A | jq -c 'select(.revision == 2 and .count == 1 and (.evidence | contains("for 3 min 20 s, ended")))')" ] ||
  it_fail "c1's update: $(revisions)"
it_call c1 $F1 13900000011 200 "$c1_start" final
it_wait_log matcher "alert.emitted alert=$first .*revision=2 .*resent=yes" 30 "the re-sent final record decided"

# c2, 20 min after c1 with another fraud number: within the window.
it_call c2 $F2 13900000011 120 "$(it_ago 6000)"
it_wait_alert device $A '.revision == 3 and .count == 2' 60 "c2 in the window"
# The repeats said revisions 1 and 2 again: the device had each once.
[ "$(it_alerts_for device $A | jq -r .revision | tr '\n' ' ')" = "1 2 3 " ] || it_fail "revisions pushed: $(revisions)"
# c3, 45 min after c2: past the window, but the alert is open.
it_call c3 $F1 13900000011 70 "$(it_ago 3000)"
it_wait_alert device $A '.revision == 4 and .count == 3' 60 "c3 while the alert is open"
[ "$(it_alerts_for device $A | jq -r .alert_id | sort -u)" = "$first" ] || it_fail "one incident, several alerts: $(revisions)"

# The officer claims and resolves the alert (notifier closes the incident),
# and c4 comes 45 min after c3: a new incident, a new alert; c5 a minute
# later joins it.
for action in claim resolve; do
  code=$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $IT_TOKEN" \
    -H 'content-type: application/json' -d '{"method":"call","outcome":"dissuaded"}' \
    "http://127.0.0.1:$IT_HTTP/v1/alerts/$first/$action")
  [ "$code" = 200 ] || it_fail "$action: $code $(cat "$IT_DIR/body")"
done
it_wait_log notifier "incident.closed alert=$first" 20 "the incident closed by notifier"
it_call c4 $F2 13900000011 100 "$(it_ago 300)"
it_wait_alert device $A ".alert_id != \"$first\"" 60 "a new alert after the closed one"
it_call c5 $F1 13900000011 100 "$(it_ago 240)"
it_wait_alert device $A ".alert_id != \"$first\" and .revision == 2" 60 "c5 joining the new alert"

# P, registered with a publicity unit, on a long call with a fraud number.
it_call p1 $F1 13900000012 300 "$(it_ago 200)"
it_wait_log matcher "event.dropped event_id=call:CMCC:p1:\\$P:300 reason=not_protected" 30 "P's call decided"

# Everything on gb.alerts: A's 4 + 2 revisions and the 2 repeats said
# again (revisions 1 and 2 of the first alert), nothing for P.
got=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f 'x\n' | wc -l)
[ "$got" = 8 ] || it_fail "want 8 alert messages on gb.alerts, found $got; device saw: $(revisions)"
[ -z "$(it_alerts_for device $P)" ] || it_fail "the publicity-unit registrant alerted"
[ "$(revisions | awk '{print $1}' | sort -u | wc -l)" = 2 ] || it_fail "want 2 alerts: $(revisions)"
[ "$(revisions | wc -l)" = 6 ] || it_fail "the device got a revision twice: $(revisions)"

IT_OK=1
gb_log "PASS: re-sent records changed nothing; c1-c3 one alert (4 revisions), c4-c5 a second after closing; no alert for the publicity-unit registrant"
