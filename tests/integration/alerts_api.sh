#!/usr/bin/env bash
# The station's alerts as a listing and one alert with its people, and the
# live figures of the bureau's dashboard, through the real broker, Redis
# and all three services:
#   - an officer of st-1 lists exactly st-1's alerts, newest first, with
#     their workflow (who claimed, by name), filtered by open/closed, paged
#     with limit and before;
#   - the detail names the people: the subject, the registrants who
#     protect them and a registered subject's family numbers, name, age and
#     occupation opened from the registrations (never a location), each
#     relation; every read is audited (access stream, log line) without
#     numbers or names;
#   - another station's officer gets 404 (403 when naming st-1);
#   - GET /v1/stats/alerts: open alerts by risk, escalated_open, the oldest
#     unclaimed (per station and of all), exact after each change, an
#     updated revision included.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env alerts_api
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_stack
api="http://127.0.0.1:$IT_HTTP"
it_device dev1 st-1
it_device dev2 st-2
O2=$IT_TOKEN
# st-1's officer, with a name to show for the claims.
acc=("$GB_BUILD_DIR/tools/gb-accounts" --redis "$IT_REDIS_URL" --prefix "$IT_PREFIX")
"${acc[@]}" create o-li --role officer --station st-1 --name "李警官" >>"$IT_DIR/accounts.log" 2>&1 || it_fail "creating o-li"
code=$("${acc[@]}" code o-li 2>>"$IT_DIR/accounts.log") || it_fail "o-li's binding code"
O1=$(curl -sf -X POST "$api/v1/devices/bind" -H 'content-type: application/json' \
  -d "{\"code\":\"$code\",\"device\":\"o-li phone\"}" | jq -er .token) || it_fail "binding o-li's device"
it_token boss "" bureau_admin
BOSS=$IT_TOKEN

R1=+8613900000061 R2=+8613900000062 R3=+8613900000063 MOTHER=+8613800000069 F=+8617000000061
it_produce "$IT_TOPIC_gb_registry" 13900000061 '{"request_id":"r1","op":"register","registrant":"13900000061","station_id":"st-1","name":"张三","age":70,"occupation":"退休教师","lat":24.45,"lon":118.08}'
it_produce "$IT_TOPIC_gb_registry" 13900000062 '{"request_id":"r2","op":"register","registrant":"13900000062","station_id":"st-1","name":"李四","age":45,"occupation":"会计","lat":24.46,"lon":118.09}'
it_produce "$IT_TOPIC_gb_registry" 13900000062 '{"request_id":"r2f","op":"add_family","registrant":"13900000062","family":"13800000069","relation":"母亲"}'
it_produce "$IT_TOPIC_gb_registry" 13900000063 '{"request_id":"r3","op":"register","registrant":"13900000063","station_id":"st-2"}'
# R1's family: a son nobody registered, and R2, registered with a profile.
it_produce "$IT_TOPIC_gb_registry" 13900000061 '{"request_id":"r1f","op":"add_family","registrant":"13900000061","family":"13700000068","relation":"儿子"}'
it_produce "$IT_TOPIC_gb_registry" 13900000061 '{"request_id":"r1g","op":"add_family","registrant":"13900000061","family":"13900000062","relation":"女儿"}'
it_produce "$IT_TOPIC_gb_intel" phone:$F "{\"kind\":\"phone\",\"value\":\"$F\"}"
it_produce "$IT_TOPIC_gb_intel" domain:alerts-api-fraud.com '{"kind":"domain","value":"alerts-api-fraud.com"}'
for r in r1 r2 r3; do it_wait_log matcher "registry.applied request_id=$r op=register accepted=yes" 30 "registration $r"; done
for r in r2f r1f r1g; do it_wait_log matcher "registry.applied request_id=$r op=add_family accepted=yes" 30 "family number $r"; done
it_wait_log matcher 'intel.applied kind=phone' 30 "the fraud number"
it_wait_log matcher 'intel.applied kind=domain' 30 "the fraud site"

visit() { # ID PHONE
  printf '{"event_id":"%s","phone":"%s","kind":"site","target":"https://pay.alerts-api-fraud.com/","ts":%s,"partner":"p1"}\n' \
    "$1" "$2" "$(( $(date +%s) * 1000 ))" |
    kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_visits" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
}
# A (st-1, high): R1 on a long call with the fraud number. C (st-2, high):
# R3 the same. B (st-1, medium): R2's mother on the fraud site. In that order.
it_call aa-1 $F 13900000061 300
it_wait_alert dev1 $R1 '.revision == 1 and .risk == "high"' 60 "A at st-1"
it_call aa-3 $F 13900000063 300
it_wait_alert dev2 $R3 '.revision == 1 and .risk == "high"' 60 "C at st-2"
visit aa-v1 13800000069
it_wait_alert dev1 $MOTHER '.revision == 1 and .risk == "medium"' 60 "B (the mother's) at st-1"
A=$(it_alerts_for dev1 $R1 | jq -r .alert_id | head -1)
B=$(it_alerts_for dev1 $MOTHER | jq -r .alert_id | head -1)
C=$(it_alerts_for dev2 $R3 | jq -r .alert_id | head -1)
arrived() { redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:$1}:$2" arrived_ms; }
A_MS=$(arrived st-1 "$A") B_MS=$(arrived st-1 "$B") C_MS=$(arrived st-2 "$C")
[ "$A_MS" -lt "$C_MS" ] && [ "$C_MS" -lt "$B_MS" ] || it_fail "arrivals out of order: A $A_MS C $C_MS B $B_MS"
iso() { date -u -d "@$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }

get() { # TOKEN PATH -> status; body in $IT_DIR/body
  curl -s -o "$IT_DIR/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$api$2"
}
ok() { # TOKEN PATH WHAT
  local code
  code=$(get "$1" "$2")
  [ "$code" = 200 ] || it_fail "$3: GET $2 answered $code $(cat "$IT_DIR/body")"
}
check() { # [JQ OPTION...] FILTER WHAT: the filter holds for $IT_DIR/body
  local what=${!#}
  jq -e "${@:1:$#-1}" "$IT_DIR/body" >/dev/null || it_fail "$what: $(cat "$IT_DIR/body")"
}
post() { # TOKEN ALERT ACTION [BODY]
  [ "$(curl -s -o "$IT_DIR/post" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'content-type: application/json' ${4:+-d "$4"} "$api/v1/alerts/$2/$3")" = 200 ] ||
    it_fail "$3 $2: $(cat "$IT_DIR/post")"
}
stats() { # TOKEN [QUERY] -> $IT_DIR/body
  ok "$1" "/v1/stats/alerts${2:-}" "statistics"
}

# ---- the listing: exactly st-1's two, newest first, both new ----
ok "$O1" /v1/alerts "st-1's listing"
jq -e --arg a "$A" --arg b "$B" --arg am "$(iso "$A_MS")" --arg bm "$(iso "$B_MS")" '
  (.alerts | map(.alert_id)) == [$b, $a] and .next_before == null and
  (.alerts | map(.station_id)) == ["st-1", "st-1"] and (.alerts | map(.risk)) == ["medium", "high"] and
  (.alerts | map(.workflow)) == [
    {"state": "new", "arrived": $bm, "claimed_by": null, "claimed_by_name": null, "escalation_level": 0, "reminders": 0},
    {"state": "new", "arrived": $am, "claimed_by": null, "claimed_by_name": null, "escalation_level": 0, "reminders": 0}] and
  .alerts[1].subject == "+8613900000061" and (.alerts[1].events | length) == 1' "$IT_DIR/body" >/dev/null ||
  it_fail "st-1's listing: $(cat "$IT_DIR/body")"
ok "$O2" /v1/alerts "st-2's listing"
jq -e --arg c "$C" '(.alerts | map(.alert_id)) == [$c] and .next_before == null' "$IT_DIR/body" >/dev/null ||
  it_fail "st-2's listing: $(cat "$IT_DIR/body")"

# ---- the live figures ----
stats "$O1"
jq -e --arg a "$A" --arg am "$(iso "$A_MS")" '.open_by_risk == {"high": 1, "medium": 1, "low": 0} and
  .escalated_open == 0 and .open == {"new": 2} and
  .oldest_unclaimed.alert_id == $a and .oldest_unclaimed.station_id == "st-1" and
  .oldest_unclaimed.arrived == $am and .oldest_unclaimed.waiting_s >= 0' "$IT_DIR/body" >/dev/null ||
  it_fail "st-1's figures before any claim: $(cat "$IT_DIR/body")"

# ---- claim A: the listing names the officer ----
post "$O1" "$A" claim
ok "$O1" /v1/alerts "the listing after the claim"
claimed_ms=$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:st-1}:$A" claimed_ms)
jq -e --arg a "$A" --arg c "$(iso "$claimed_ms")" '.alerts[1].alert_id == $a and
  .alerts[1].workflow.state == "claimed" and .alerts[1].workflow.claimed_by == "o-li" and
  .alerts[1].workflow.claimed_by_name == "李警官" and .alerts[1].workflow.claimed == $c and
  .alerts[1].workflow.first_claimed == $c and .alerts[0].workflow.state == "new"' "$IT_DIR/body" >/dev/null ||
  it_fail "the claim in the listing: $(cat "$IT_DIR/body")"
cp "$IT_DIR/body" "$IT_DIR/list-claimed.json"
stats "$O1"
check --arg b "$B" '.open_by_risk == {"high": 1, "medium": 1, "low": 0} and .oldest_unclaimed.alert_id == $b and
  .open == {"new": 1, "claimed": 1}' "st-1's figures after the claim"

# ---- resolve A: one open, one closed ----
post "$O1" "$A" resolve '{"method":"call","outcome":"dissuaded","notes":"已劝阻"}'
ok "$O1" "/v1/alerts?state=open" "open alerts"
check --arg b "$B" '(.alerts | map(.alert_id)) == [$b] and .next_before == null' "state=open after the resolve"
ok "$O1" "/v1/alerts?state=closed" "closed alerts"
resolved_ms=$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:st-1}:$A" resolved_ms)
check --arg a "$A" --arg r "$(iso "$resolved_ms")" '(.alerts | map(.alert_id)) == [$a] and .next_before == null and
  .alerts[0].workflow.state == "resolved" and .alerts[0].workflow.resolved_by == "o-li" and
  .alerts[0].workflow.resolved_by_name == "李警官" and .alerts[0].workflow.resolved == $r and
  .alerts[0].workflow.record == {"method": "call", "outcome": "dissuaded", "notes": "已劝阻"}' "state=closed after the resolve"
ok "$O1" "/v1/alerts?state=all" "every alert"
check --arg a "$A" --arg b "$B" '(.alerts | map(.alert_id)) == [$b, $a] and .next_before == null' "state=all"
stats "$O1"
check --arg b "$B" '.open_by_risk == {"high": 0, "medium": 1, "low": 0} and .escalated_open == 0 and
  .oldest_unclaimed.alert_id == $b and .open == {"new": 1}' "st-1's figures after the resolve"

# ---- pages of one ----
ok "$O1" "/v1/alerts?state=all&limit=1" "the first page"
check --arg b "$B" --argjson bm "$B_MS" '(.alerts | map(.alert_id)) == [$b] and .next_before == $bm' "page 1 of state=all"
ok "$O1" "/v1/alerts?state=all&limit=1&before=$B_MS" "the second page"
check --arg a "$A" '(.alerts | map(.alert_id)) == [$a] and .next_before == null' "page 2 of state=all"
ok "$O1" "/v1/alerts?state=all&limit=1&before=$A_MS" "past the end"
check '.alerts == [] and .next_before == null' "past the last alert"
ok "$O1" "/v1/alerts?limit=1" "the open page"
check --arg b "$B" '(.alerts | map(.alert_id)) == [$b] and .next_before == null' "state=open, limit=1 (nothing further open)"

# ---- claim then release B: unclaimed again, with its arrival ----
post "$O1" "$B" claim
stats "$O1"
check '.oldest_unclaimed == null and .open_by_risk == {"high": 0, "medium": 1, "low": 0}' "st-1's figures with B claimed"
post "$O1" "$B" release
stats "$O1"
check --arg b "$B" --arg bm "$(iso "$B_MS")" '.oldest_unclaimed.alert_id == $b and .oldest_unclaimed.arrived == $bm' \
  "st-1's figures with B released"
[ "$(redis-cli -p "$IT_REDIS_PORT" ZRANGE "${IT_PREFIX}unc:{st:st-1}" 0 -1 WITHSCORES | tr '\n' ' ')" = "$B $B_MS " ] ||
  it_fail "st-1's unclaimed: $(redis-cli -p "$IT_REDIS_PORT" ZRANGE "${IT_PREFIX}unc:{st:st-1}" 0 -1 WITHSCORES | tr '\n' ' ')"

# ---- an updated revision of B changes no count ----
visit aa-v2 13800000069
it_wait_alert dev1 $MOTHER '.revision == 2' 60 "B's second revision"
it_wait_log notifier "alert.pushed alert=$B station=st-1 risk=[a-z]+ event=alert.updated" 20 "B's update stored"
stats "$O1"
check --arg b "$B" '.open_by_risk == {"high": 0, "medium": 1, "low": 0} and .oldest_unclaimed.alert_id == $b and
  .open == {"new": 1}' "st-1's figures after B's update"
ok "$O1" "/v1/alerts?state=all" "every alert after B's update"
check --arg a "$A" --arg b "$B" '(.alerts | map(.alert_id)) == [$b, $a] and .alerts[0].revision == 2' "the listing after B's update"

# ---- the detail: the people ----
ok "$O1" "/v1/alerts/$B" "B's detail"
check --arg b "$B" '.alert_id == $b and .workflow.state == "new" and .people == [
  {"phone": "+8613800000069", "role": "subject", "relation": "母亲", "name": null, "age": null, "occupation": null},
  {"phone": "+8613900000062", "role": "registrant", "relation": "母亲", "name": "李四", "age": 45,
   "occupation": "会计", "station_id": "st-1"}]' "B's people"
! grep -Eq '"(lat|lon)"' "$IT_DIR/body" || it_fail "the detail shows a location: $(cat "$IT_DIR/body")"
cp "$IT_DIR/body" "$IT_DIR/detail-b.json"
ok "$O1" "/v1/alerts/$A" "A's detail"
check --arg a "$A" '.alert_id == $a and .workflow.state == "resolved" and .workflow.record.outcome == "dissuaded" and
  .people[0] == {"phone": "+8613900000061", "role": "subject", "relation": "self", "name": "张三", "age": 70, "occupation": "退休教师"} and
  (.people[1:] | sort_by(.phone)) == [
    {"phone": "+8613700000068", "role": "family", "relation": "儿子", "name": null, "age": null, "occupation": null},
    {"phone": "+8613900000062", "role": "family", "relation": "女儿", "name": "李四", "age": 45, "occupation": "会计"}]' "A's people"
! grep -Eq '"(lat|lon)"' "$IT_DIR/body" || it_fail "the detail shows a location: $(cat "$IT_DIR/body")"
cp "$IT_DIR/body" "$IT_DIR/detail-a.json"
ok "$BOSS" "/v1/alerts/$A?station=st-1" "A's detail for the bureau"
check --arg a "$A" '.alert_id == $a and .people[0].name == "张三"' "A's people for the bureau"

# ---- refusals ----
status() { get "$1" "$2"; }
[ "$(status "$O2" "/v1/alerts/$A")" = 404 ] || it_fail "st-2's officer read st-1's alert: $(cat "$IT_DIR/body")"
[ "$(status "$O2" "/v1/alerts/$A?station=st-1")" = 403 ] || it_fail "st-2's officer named st-1: $(cat "$IT_DIR/body")"
[ "$(status "$O2" "/v1/alerts?station=st-1")" = 403 ] || it_fail "st-2's officer listed st-1: $(cat "$IT_DIR/body")"
[ "$(status "$O1" "/v1/alerts/0123456789abcdef0123456789abcdef")" = 404 ] || it_fail "an unknown alert was not 404"
[ "$(status "$O1" "/v1/alerts/not-an-id")" = 404 ] || it_fail "a malformed alert id was not 404"
[ "$(status "$BOSS" "/v1/alerts")" = 400 ] || it_fail "the bureau's listing without a station was not 400"
for q in state=bogus limit=0 limit=501 limit=x before=abc before=-1 station=ST%201; do
  [ "$(status "$O1" "/v1/alerts?$q")" = 400 ] || it_fail "?$q was not 400: $(cat "$IT_DIR/body")"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/v1/alerts")" = 401 ] || it_fail "a listing without a token was not 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/v1/alerts/$A")" = 401 ] || it_fail "a detail without a token was not 401"
ok "$BOSS" "/v1/alerts?station=st-1&state=all" "the bureau's listing of st-1"
check --arg a "$A" --arg b "$B" '(.alerts | map(.alert_id)) == [$b, $a]' "the bureau's listing of st-1"

# ---- the audit: one entry per detail read (3: B, A by o-li; A by boss) ----
redis-cli -p "$IT_REDIS_PORT" --raw XRANGE "${IT_PREFIX}access:{st:st-1}" - + >"$IT_DIR/access.txt"
entries=$(redis-cli -p "$IT_REDIS_PORT" XLEN "${IT_PREFIX}access:{st:st-1}")
[ "$entries" = 3 ] || it_fail "want 3 access entries, got $entries: $(cat "$IT_DIR/access.txt")"
[ "$(grep -c '^account$' "$IT_DIR/access.txt")" = 3 ] && [ "$(grep -c '^alert$' "$IT_DIR/access.txt")" = 3 ] &&
  [ "$(grep -c '^ts_ms$' "$IT_DIR/access.txt")" = 3 ] || it_fail "access entries: $(cat "$IT_DIR/access.txt")"
[ "$(grep -A1 '^account$' "$IT_DIR/access.txt" | grep -v -- '^--$' | paste -sd' ')" = "account o-li account o-li account boss" ] &&
  [ "$(grep -A1 '^alert$' "$IT_DIR/access.txt" | grep -v -- '^--$' | paste -sd' ')" = "alert $B alert $A alert $A" ] ||
  it_fail "access entries: $(cat "$IT_DIR/access.txt")"
[ "$(redis-cli -p "$IT_REDIS_PORT" EXISTS "${IT_PREFIX}access:{st:st-2}")" = 0 ] || it_fail "a refused read was audited"
[ "$(grep -c 'alert.viewed' "$IT_DIR/notifier.log")" = 3 ] || it_fail "want 3 alert.viewed lines: $(grep alert.viewed "$IT_DIR/notifier.log")"
grep -q "alert.viewed alert=$B station=st-1 by=o-li" "$IT_DIR/notifier.log" || it_fail "no alert.viewed line for B"
! grep -Eq '张三|李四|退休教师|会计|13900000061|13900000062|13800000069|13700000068' "$IT_DIR/notifier.log" ||
  it_fail "a name or number is in notifier's log: $(grep -E '张三|李四|13900000061|13900000062|13800000069' "$IT_DIR/notifier.log" | head -3)"

# ---- every station's figures: sums, and the oldest of all (C, at st-2) ----
stats "$BOSS" "?station=*"
check --arg b "$B" --arg c "$C" --arg cm "$(iso "$C_MS")" '
  (.stations | map({(.station_id): {open_by_risk, escalated_open, oldest: .oldest_unclaimed.alert_id}}) | add) == {
    "st-1": {"open_by_risk": {"high": 0, "medium": 1, "low": 0}, "escalated_open": 0, "oldest": $b},
    "st-2": {"open_by_risk": {"high": 1, "medium": 0, "low": 0}, "escalated_open": 0, "oldest": $c}} and
  .total.open_by_risk == {"high": 1, "medium": 1, "low": 0} and .total.escalated_open == 0 and
  .total.oldest_unclaimed.alert_id == $c and .total.oldest_unclaimed.station_id == "st-2" and
  .total.oldest_unclaimed.arrived == $cm' "every station's figures"
cp "$IT_DIR/body" "$IT_DIR/stats-all.json"

# ---- a dispute, rejected, then upheld as st-2's: B moves to st-2 ----
it_token sa-1 st-1 station_admin
SA1=$IT_TOKEN
unc() { redis-cli -p "$IT_REDIS_PORT" ZRANGE "${IT_PREFIX}unc:{st:$1}" 0 -1 | paste -sd' '; }
post "$O1" "$B" dispute '{"reason":"wrong_station","station_id":"st-2"}'
stats "$O1"
check '.open_by_risk == {"high": 0, "medium": 1, "low": 0} and .oldest_unclaimed == null and .open == {"disputed": 1}' \
  "st-1's figures with B disputed"
[ -z "$(unc st-1)" ] || it_fail "a disputed alert is unclaimed: $(unc st-1)"
post "$SA1" "$B" settle '{"decision":"reject"}'
stats "$O1"
check --arg b "$B" --arg bm "$(iso "$B_MS")" '.open_by_risk == {"high": 0, "medium": 1, "low": 0} and
  .oldest_unclaimed.alert_id == $b and .oldest_unclaimed.arrived == $bm and .open == {"new": 1}' "st-1's figures with the dispute rejected"
post "$O1" "$B" dispute '{"reason":"wrong_station","station_id":"st-2"}'
post "$SA1" "$B" settle '{"decision":"uphold"}'
it_wait_alert dev2 $MOTHER '.station_id == "st-2"' 20 "B reassigned to st-2"
B2_MS=$(arrived st-2 "$B")
stats "$O1"
check '.open_by_risk == {"high": 0, "medium": 0, "low": 0} and .escalated_open == 0 and .oldest_unclaimed == null and
  .open == {}' "st-1's figures with B reassigned"
ok "$O1" "/v1/alerts?state=closed" "st-1's closed alerts"
check --arg a "$A" --arg b "$B" '(.alerts | map([.alert_id, .workflow.state])) == [[$b, "reassigned"], [$a, "resolved"]] and
  .alerts[0].workflow.reassigned_to == "st-2" and .alerts[0].workflow.settled_by == "sa-1" and
  .alerts[0].workflow.dispute.reason == "wrong_station"' "st-1's closed alerts"
ok "$O2" /v1/alerts "st-2's listing with B"
check --arg b "$B" --arg c "$C" '(.alerts | map([.alert_id, .station_id, .workflow.state])) == [[$b, "st-2", "new"], [$c, "st-2", "new"]]' \
  "st-2's listing with B"
[ "$(unc st-2)" = "$C $B" ] || it_fail "st-2's unclaimed: $(unc st-2)"
stats "$BOSS" "?station=*"
check --arg c "$C" '(.stations | map({(.station_id): .open_by_risk}) | add) == {
    "st-1": {"high": 0, "medium": 0, "low": 0}, "st-2": {"high": 1, "medium": 1, "low": 0}} and
  .total.open_by_risk == {"high": 1, "medium": 1, "low": 0} and .total.oldest_unclaimed.alert_id == $c' \
  "every station's figures with B at st-2"
[ "$B2_MS" -gt "$B_MS" ] || it_fail "B arrived at st-2 ($B2_MS) before st-1 ($B_MS)"

# ---- D: a short contact (low, the registrant's only) that becomes a long
# call (high): counted once, as high, both today and open ----
it_produce "$IT_TOPIC_gb_registry" 13900000064 '{"request_id":"r4","op":"register","registrant":"13900000064","station_id":"st-2"}'
it_wait_log matcher "registry.applied request_id=r4 op=register accepted=yes" 30 "registration r4"
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
it_call aa-4 $F 13900000064 30 "$start" ongoing
it_wait_log notifier "alert.registrant_only alert=[0-9a-f]+ station=st-2 risk=low" 60 "D at low risk"
stats "$O2"
check '.today.alerts == {"high": 1, "medium": 1, "low": 1} and .open.info == 1 and
  .open_by_risk == {"high": 1, "medium": 1, "low": 0}' "st-2's figures with D low"
it_call aa-4 $F 13900000064 90 "$start" ongoing
it_wait_alert dev2 +8613900000064 '.risk == "high"' 60 "D at high risk"
it_wait_log notifier "alert.pushed alert=[0-9a-f]+ station=st-2 risk=high event=alert " 20 "D pushed"
stats "$O2"
check '.today.alerts == {"high": 2, "medium": 1, "low": 0} and (.open.info // 0) == 0 and .open.new == 3 and
  .open_by_risk == {"high": 2, "medium": 1, "low": 0}' "st-2's figures with D high"

# The alerts, their feed and their people are sealed at rest.
it_no_plain_numbers 13900000061 13900000062 13900000063 13900000064 13800000069 13700000068
IT_OK=1
gb_log "PASS: st-1's 2 alerts listed newest first, filtered and paged; claims named; the people opened (3 reads audited); st-2 refused; open by risk, escalated and oldest unclaimed exact through claim, release, resolve, an update, a rejected dispute, a reassignment, and a low-risk contact that became a high-risk alert (counted once, as high)"
