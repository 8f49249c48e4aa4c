#!/usr/bin/env bash
# A family number's alert: a mother protected by two children registered at
# two stations is on a long call with a fraud number. Each child's station
# gets the alert, naming the child who protects her and the relation, so
# officers can reach her family when she does not answer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env family_alert
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_stack
it_device device1 st-1

MOTHER=13800000009
it_produce "$IT_TOPIC_gb_registry" 13900000001 '{"request_id":"a1","op":"register","registrant":"13900000001","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_registry" 13900000001 "{\"request_id\":\"a2\",\"op\":\"add_family\",\"registrant\":\"13900000001\",\"family\":\"$MOTHER\",\"relation\":\"母亲\"}"
it_produce "$IT_TOPIC_gb_registry" 13900000002 '{"request_id":"b1","op":"register","registrant":"13900000002","station_id":"st-2"}'
it_produce "$IT_TOPIC_gb_registry" 13900000002 "{\"request_id\":\"b2\",\"op\":\"add_family\",\"registrant\":\"13900000002\",\"family\":\"$MOTHER\",\"relation\":\"母亲\"}"
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000000 '{"kind":"phone","value":"+8617000000000"}'
for r in a2 b2; do it_wait_log matcher "registry.applied request_id=$r op=add_family accepted=yes" 30 "change $r"; done
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
it_produce "$IT_TOPIC_gb_calls" m1 \
  "{\"call_id\":\"m1\",\"caller\":\"+8617000000000\",\"callee\":\"$MOTHER\",\"start\":\"$now\",\"duration_s\":300,\"status\":\"ongoing\",\"carrier\":\"CMCC\"}"

seen() { grep -q '^event: alert$' "$IT_DIR/device1.out" 2>/dev/null; }
gb_wait_until 60 "the mother's alert on the st-1 device" seen || it_fail "no alert on st-1's device"
data=$(grep -m1 '^data: ' "$IT_DIR/device1.out")
for want in '"subject":"+8613800000009"' '"station_id":"st-1"' '"registrant":"+8613900000001"' \
            '"relation":"母亲"' '"registrant":"+8613900000002"' 'still ongoing'; do
  grep -qF -- "$want" <<<"$data" || it_fail "st-1's alert lacks $want: $data"
done
# One copy per station, keyed by station.
keys() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f '%k\n' 2>/dev/null | sort | tr '\n' ' '; }
both() { [ "$(keys)" = "st-1 st-2 " ]; }
gb_wait_until 30 "one alert copy for each station" both || it_fail "alert copies keyed: $(keys)"

# Rule 2: she then opens a page of a listed fraud site (a subdomain of the
# listing). It is the same incident: the open alert is updated (revision 2,
# two events, both in its evidence), not doubled, again for both stations.
it_produce "$IT_TOPIC_gb_intel" domain:example-fraud.com '{"kind":"domain","value":"example-fraud.com"}'
it_wait_log matcher 'intel.applied kind=domain' 30 "fraud domain"
ts=$(( $(date +%s) * 1000 ))
printf '{"event_id":"v1","phone":"%s","kind":"site","target":"https://pay.Example-Fraud.com:8443/x?y","ts":%s,"partner":"p1"}\n' "$MOTHER" "$ts" |
  kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_visits" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
updated() { grep -q '^event: alert.updated$' "$IT_DIR/device1.out" 2>/dev/null; }
gb_wait_until 60 "the updated alert on the st-1 device" updated || it_fail "no alert update on st-1's device"
data=$(grep '^data: ' "$IT_DIR/device1.out" | sed -n 2p)
for want in '"risk":"high"' '"revision":2' '"count":2' 'visited pay.example-fraud.com, a listed fraud site (example-fraud.com)' \
            'on a call with fraud number +8617000000000 for 5 min 0 s, still ongoing' '"relation":"母亲"'; do
  grep -qF -- "$want" <<<"$data" || it_fail "the updated alert lacks $want: $data"
done
ids=$(grep '^data: ' "$IT_DIR/device1.out" | grep -o '"alert_id":"[0-9a-f]*"' | sort -u | wc -l)
[ "$ids" = 1 ] || it_fail "one incident made $ids alerts on st-1's device"
four() { [ "$(keys)" = "st-1 st-1 st-2 st-2 " ]; }
gb_wait_until 30 "the update's copy for each station" four || it_fail "alert copies keyed: $(keys)"

IT_OK=1
gb_log "PASS: the mother's alert, then its update with the site visit, reached st-1 and st-2, naming both children and the relation"
