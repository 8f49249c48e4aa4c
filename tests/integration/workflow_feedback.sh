#!/usr/bin/env bash
# What an officer's outcome means beyond the station, through the real
# broker, Redis and all three services:
#   - every workflow change is published to gb.workflow (decoded here by
#     protoc): from and to states, who, why, a unique event id;
#   - a record that confirms fraud (dissuaded) sends the fraud number to
#     gb.intel as a confirmation by the station, which matcher applies;
#   - a dispute upheld as "not fraud" counts against the site behind the
#     alert (GET /v1/intel/not-fraud), once per alert;
#   - new evidence on a claimed alert reaches its officer, still claimed;
#   - the station's statistics (and the bureau's) count it all, live;
#   - resolving closes matcher's incident for the person, so that the next
#     fraud call past the suppression window opens a new alert.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env workflow_feedback
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
it_device device st-1
officer=$IT_TOKEN
it_token sa-1 st-1 station_admin
admin=$IT_TOKEN
api="http://127.0.0.1:$IT_HTTP"

A=+8613900000051 B=+8613900000052 F=+8617000000051
for n in 51 52; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
  it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"
done
it_produce "$IT_TOPIC_gb_intel" phone:$F "{\"kind\":\"phone\",\"value\":\"$F\",\"source\":\"national-12381\",\"confidence\":60}"
it_produce "$IT_TOPIC_gb_intel" domain:not-really-fraud.com '{"kind":"domain","value":"not-really-fraud.com","source":"bureau-9"}'
it_wait_log matcher "intel.applied kind=phone action=add value=\\$F source=national-12381" 30 "the fraud number"
it_wait_log matcher 'intel.applied kind=domain' 30 "the listed site"

post() { # TOKEN ALERT ACTION [BODY]
  curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'content-type: application/json' ${4:+-d "$4"} "$api/v1/alerts/$2/$3"
}

# ---- A: a long fraud call, claimed and resolved as dissuaded ----
it_call fb-1 $F 13900000051 300 "$(it_ago 3600)"
it_wait_alert device $A '.revision == 1' 60 "A's alert"
a1=$(it_alerts_for device $A | jq -r .alert_id | head -1)
[ "$(post "$officer" "$a1" claim)" = 200 ] || it_fail "claim: $(cat "$IT_DIR/body")"
# New evidence on the claimed alert reaches the officer who has it.
it_call fb-1b $F 13900000051 80 "$(it_ago 3000)"
it_wait_alert device $A ".alert_id == \"$a1\" and .revision == 2 and .count == 2" 60 "the new evidence on the claimed alert"
[ "$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:st-1}:$a1" state)" = claimed ] || it_fail "new evidence changed the claim"
[ "$(post "$officer" "$a1" resolve '{"method":"call","outcome":"dissuaded","notes":"已劝阻"}')" = 200 ] ||
  it_fail "resolve: $(cat "$IT_DIR/body")"

# The confirmation reaches gb.intel and matcher applies it: same number,
# the station as source, confidence raised.
it_wait_log matcher "intel.applied kind=phone action=confirm value=\\$F source=goldenbell:st-1 confidence=90" 30 \
  "the station's confirmation of $F applied by matcher"
confirmations=$(it_messages "$IT_TOPIC_gb_intel" goldenbell.v1.FraudIndicator goldenbell/v1/intel.proto |
  grep -c "source: \"goldenbell:st-1\"" || true)
[ "$confirmations" = 1 ] || it_fail "want 1 confirmation on gb.intel, got $confirmations"
# matcher's incident for A is closed.
closed() { [ -n "$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}inc:{$(it_numhash $A)}" closed_ms)" ]; }
gb_wait_until 20 "A's incident closed" closed || it_fail "resolving did not close A's incident"
# A new fraud call 45 min after the first (past the 30 min window): a new alert.
it_call fb-2 $F 13900000051 300 "$(it_ago 900)"
it_wait_alert device $A ".alert_id != \"$a1\"" 60 "a new alert after the resolved one"

# ---- B: a listed site, disputed as not fraud and upheld ----
printf '{"event_id":"v-b","phone":"13900000052","kind":"site","target":"https://www.not-really-fraud.com/","ts":%s,"partner":"p1"}\n' \
  "$(( $(date +%s) * 1000 ))" |
  kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_visits" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
it_wait_alert device $B '.revision == 1 and (.events[0].visit.domain == "not-really-fraud.com")' 60 "B's alert, with the visit"
b1=$(it_alerts_for device $B | jq -r .alert_id | head -1)
[ "$(post "$officer" "$b1" dispute '{"reason":"not_fraud","notes":"本人在该网站购物"}')" = 200 ] ||
  it_fail "dispute: $(cat "$IT_DIR/body")"
[ "$(post "$admin" "$b1" settle '{"decision":"uphold"}')" = 200 ] || it_fail "settle: $(cat "$IT_DIR/body")"
counted() {
  curl -sf -H "Authorization: Bearer $admin" "$api/v1/intel/not-fraud" >"$IT_DIR/nf.json" &&
    jq -e '.indicators | length == 1 and .[0].kind == "domain" and .[0].value == "not-really-fraud.com" and .[0].not_fraud == 1' \
      "$IT_DIR/nf.json" >/dev/null
}
gb_wait_until 20 "the not-fraud count" counted || it_fail "not-fraud counts: $(cat "$IT_DIR/nf.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $officer" "$api/v1/intel/not-fraud")
[ "$code" = 403 ] || it_fail "an officer read the not-fraud counts: $code"
for bad in 0 1001 x; do
  code=$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -H "Authorization: Bearer $admin" "$api/v1/intel/not-fraud?limit=$bad")
  [ "$code" = 400 ] && grep -q 'limit: 1 to 1000' "$IT_DIR/body" || it_fail "limit=$bad: $code $(cat "$IT_DIR/body")"
done
# The not-fraud outcome sends nothing to intelligence.
[ "$(it_messages "$IT_TOPIC_gb_intel" goldenbell.v1.FraudIndicator goldenbell/v1/intel.proto | grep -c goldenbell: || true)" = 1 ] ||
  it_fail "a not-fraud outcome reached gb.intel"

# ---- gb.workflow: the four changes, in order per alert, each once ----
four() { [ "$(it_count "$IT_TOPIC_gb_workflow")" -ge 4 ]; }
gb_wait_until 30 "4 workflow events" four || it_fail "gb.workflow holds $(it_count "$IT_TOPIC_gb_workflow") events"
it_messages "$IT_TOPIC_gb_workflow" goldenbell.v1.WorkflowEvent goldenbell/v1/workflow.proto >"$IT_DIR/workflow.txt"
[ "$(wc -l <"$IT_DIR/workflow.txt")" = 4 ] || it_fail "want 4 workflow events: $(cat "$IT_DIR/workflow.txt")"
want() { # ALERT ACTION FROM TO ACTOR
  grep "alert_id: \"$1\"" "$IT_DIR/workflow.txt" | grep "action: \"$2\"" | grep "from_state: $3 " |
    grep "to_state: $4 " | grep "actor: \"$5\"" | grep -q 'station_id: "st-1"' ||
    it_fail "no $2 event ($3 -> $4 by $5) for $1: $(cat "$IT_DIR/workflow.txt")"
}
want "$a1" claim ALERT_STATE_NEW ALERT_STATE_CLAIMED o-device
want "$a1" resolve ALERT_STATE_CLAIMED ALERT_STATE_RESOLVED o-device
want "$b1" dispute ALERT_STATE_NEW ALERT_STATE_DISPUTED o-device
want "$b1" settle ALERT_STATE_DISPUTED ALERT_STATE_RESOLVED sa-1
grep "action: \"resolve\"" "$IT_DIR/workflow.txt" | grep -q 'reason: "resolve: dissuaded"' ||
  it_fail "the resolve event does not say why: $(cat "$IT_DIR/workflow.txt")"
ids=$(grep -o 'event_id: "[^"]*"' "$IT_DIR/workflow.txt" | sort -u | wc -l)
[ "$ids" = 4 ] || it_fail "want 4 distinct event ids, got $ids"

# ---- the station's statistics, live ----
curl -sf -H "Authorization: Bearer $officer" "$api/v1/stats/alerts" >"$IT_DIR/stats.json" || it_fail "GET /v1/stats/alerts"
jq -e '.station_id == "st-1" and .today.alerts == {"high": 2, "medium": 1} and .open == {"new": 1} and
  .today.claimed == 1 and .today.outcomes == {"dissuaded": 1, "not_fraud": 1} and .today.escalations == {} and
  .time_to_claim.count == 1 and .time_to_claim.p50_s >= 0 and .time_to_claim.p90_s >= .time_to_claim.p50_s and
  .time_to_resolve.count == 2' "$IT_DIR/stats.json" >/dev/null || it_fail "station statistics: $(cat "$IT_DIR/stats.json")"
it_token bureau-1 "" bureau_admin
curl -sf -H "Authorization: Bearer $IT_TOKEN" "$api/v1/stats/alerts?station=*" >"$IT_DIR/bureau.json" || it_fail "GET /v1/stats/alerts?station=*"
jq -e '(.stations | map(.station_id) == ["st-1"]) and .total.today.alerts == {"high": 2, "medium": 1} and
  .total.time_to_resolve.count == 2 and .total.open == {"new": 1}' "$IT_DIR/bureau.json" >/dev/null ||
  it_fail "bureau statistics: $(cat "$IT_DIR/bureau.json")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $officer" "$api/v1/stats/alerts?station=*")" = 403 ] ||
  it_fail "an officer read every station's statistics"

# The alerts, their feed and their people are sealed at rest.
it_no_plain_numbers 13900000051 13900000052
IT_OK=1
gb_log "PASS: 4 workflow changes on gb.workflow; the dissuaded record confirmed $F on gb.intel (applied by matcher) and closed A's incident (a new alert followed); the upheld not-fraud dispute counted against the site once"
