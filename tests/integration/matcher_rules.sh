#!/usr/bin/env bash
# Rules 3, 4 and 5 through the real broker, Redis and notifier, each seen on
# an officer's device:
#   3. a short call with a fraud number: a low-risk warning, to the
#      registrant alone (not on the officers' devices);
#   4. three incoming international calls within 10 min (event time, sent
#      out of order): a medium alert; three spread wider: none;
#   5. a fraud-site visit on top of rule 4: the same alert, now high risk
#      (combination); two visits to one site are one signal: still medium.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env matcher_rules
it_station st-1 "思明派出所" 24.4539 118.0820
rules=$IT_DIR/rules.json
echo '{"version": 1, "international": {"min_calls": 3, "window_s": 600}, "combination": {"window_s": 3600}}' >"$rules"
it_stack --matcher.rules-file="$rules"
it_device device st-1

FRAUD=+8617000000000
for n in 1 2 3 4; do
  it_produce "$IT_TOPIC_gb_registry" 1390000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"1390000000$n\",\"station_id\":\"st-1\"}"
done
it_produce "$IT_TOPIC_gb_intel" phone:$FRAUD "{\"kind\":\"phone\",\"value\":\"$FRAUD\"}"
it_produce "$IT_TOPIC_gb_intel" domain:example-fraud.com '{"kind":"domain","value":"example-fraud.com"}'
for n in 1 2 3 4; do it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"; done
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
it_wait_log matcher 'intel.applied kind=domain' 30 "fraud domain"
visit() { # event-id phone
  printf '{"event_id":"%s","phone":"%s","kind":"site","target":"https://pay.example-fraud.com/login","ts":%s,"partner":"p1"}\n' \
    "$1" "$2" "$(( $(date +%s) * 1000 ))" |
    kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_visits" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
}

# Rule 3: a 20 s call, below the 60 s threshold: low risk, which is a
# warning to the registrant alone (A follows, the default), never a task on
# the officers' devices.
it_call a-short "$FRAUD" 13900000001 20
it_wait_log notifier 'alert.registrant_only alert=[0-9a-f]+ station=st-1 risk=low warnings=1' 60 "rule 3's low-risk warning"
low=$(grep -o 'alert.registrant_only alert=[0-9a-f]*' "$IT_DIR/notifier.log" | head -1 | cut -d= -f2)
a=$(redis-cli -p "$IT_REDIS_PORT" --raw HGET "${IT_PREFIX}al:{st:st-1}:$low" json | it_unseal notifier.feed)
for want in 'on a call with fraud number +8617000000000 for 20 s, ended' '"relation":"self"' '"revision":1' '"risk":"low"' '"rule":"fraud_contact"'; do
  grep -qF -- "$want" <<<"$a" || it_fail "rule 3's alert lacks $want: $a"
done
[ "$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:st-1}:$low" state)" = info ] || it_fail "the low alert is claimable"
w=$(it_feed st-1 | grep -F "\"alert_id\":\"$low\"" || true)
[ "$(grep -c . <<<"$w")" = 1 ] || it_fail "want one feed entry for the low alert (the warning): $w"
jq -e '.to == "+8613900000001" and .relation == "self" and .risk == "low" and (.message | contains("涉诈号码"))' <<<"$w" >/dev/null ||
  it_fail "the registrant's warning: $w"
[ -z "$(it_alerts_for device +8613900000001)" ] || it_fail "the low-risk alert reached the officers: $(it_alerts_for device +8613900000001)"
grep -q 'registrant.warning' "$IT_DIR/device.out" && it_fail "a registrant's warning reached an officer's device"

# Rule 4: B's calls at -1, -9 and -5 min, in that order. After two, no
# window holds three; the third completes one.
it_call b-i1 +447700900001 13900000002 30 "$(it_ago 60)"
it_call b-i9 +447700900002 13900000002 30 "$(it_ago 540)"
it_wait_log matcher 'finding.known event_id=call:CMCC:b-i9:' 30 "the second international call decided"
[ -z "$(it_alerts_for device +8613900000002)" ] || it_fail "two international calls alerted"
it_call b-i5 +447700900003 13900000002 30 "$(it_ago 300)"
it_wait_alert device +8613900000002 '.risk == "medium" and .rule == "international_calls"' 60 "rule 4's alert"
b=$(it_alerts_for device +8613900000002 | head -1)
grep -qF '3 incoming international calls within 10 min 0 s' <<<"$b" || it_fail "rule 4's evidence: $b"
# The officers read it in Chinese: evidence_zh, right after evidence.
jq -e '.evidence_zh == "10分钟内接到 3 个境外来电（其中一个来自 +447700900003）"' <<<"$b" >/dev/null ||
  it_fail "rule 4's evidence_zh: $b"
grep -qE '"evidence":"[^"]*","evidence_zh":"' <<<"$b" || it_fail "evidence_zh does not follow evidence: $b"

# D's three calls are 12 min apart: no 10 min window holds more than one.
for m in 25 13 1; do it_call d-i$m +447700900009 13900000004 30 "$(it_ago $(( m * 60 )))"; done
for m in 25 13 1; do
  it_wait_log matcher "finding.known event_id=call:CMCC:d-i$m:" 30 "D's call $m min ago decided"
done

# Rule 5: B visits a listed site: a second, different medium signal within
# the hour makes B's alert high risk, as an update of the same alert.
visit b-v1 13900000002
it_wait_alert device +8613900000002 '.risk == "high" and .rule == "combination"' 60 "rule 5's combination"
b2=$(it_alerts_for device +8613900000002 | jq -c 'select(.rule == "combination")' | head -1)
grep -qF 'visited pay.example-fraud.com, a listed fraud site (example-fraud.com)' <<<"$b2" || it_fail "rule 5's evidence: $b2"
grep -qF '3 incoming international calls' <<<"$b2" || it_fail "rule 5's evidence lost rule 4: $b2"
ids=$(it_alerts_for device +8613900000002 | jq -r .alert_id | sort -u | wc -l)
[ "$ids" = 1 ] || it_fail "B has $ids alerts, want 1 (updated)"

# C visits the same site twice: one signal, so still medium, counted twice.
visit c-v1 13900000003
it_wait_alert device +8613900000003 '.risk == "medium" and .count == 1' 60 "C's first visit"
visit c-v2 13900000003
it_wait_alert device +8613900000003 '.count == 2' 60 "C's second visit"
c=$(it_alerts_for device +8613900000003 | tail -1)
[ "$(jq -r '.risk + " " + .rule' <<<"$c")" = "medium fraud_site_or_app" ] || it_fail "C's alert: $c"
[ -z "$(it_alerts_for device +8613900000004)" ] || it_fail "D alerted: $(it_alerts_for device +8613900000004)"
[ -z "$(it_alerts_for device +8613900000001)" ] || it_fail "the low-risk alert reached the officers later"
# The alerts, the feed and the registrant's warning name these people: sealed at rest.
it_no_plain_numbers 13900000001 13900000002 13900000003 13900000004

IT_OK=1
gb_log "PASS: rule 3 warned the registrant alone (low), rule 4 alerted on 3 calls in 10 min and not on 3 in 24 min, rule 5 raised it to high; one site twice stayed medium; no registrant's number in Redis in the clear ($IT_SCANNED_KEYS keys)"
