#!/usr/bin/env bash
# The webhook channel, through the real broker, Redis and services, to a
# gateway (tests/integration/gateway.py) that checks each signature on its
# own: every notification of the station reaches the healthy gateway once,
# signed; the failing gateway gets exactly notifier.webhook-attempts tries,
# spaced by the doubling backoff, then the delivery is dead-lettered with
# the reason, on gb.dlq and in GET /v1/webhooks/dead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env webhook
it_station st-1 "思明派出所" 24.4539 118.0820
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$IT_DIR/webhook.secret"
gb_launch "$IT_DIR/gateway.log" "$IT_DIR/gateway.pid" \
  "$GB_PYTHON" "$GB_ROOT/tests/integration/gateway.py" "$IT_DIR/gateway.port" "$IT_DIR/requests.jsonl" "$IT_DIR/webhook.secret"
IT_PIDS+=("$(cat "$IT_DIR/gateway.pid")"); IT_NAMES+=(gateway)
gb_wait_until 20 "the gateway" test -s "$IT_DIR/gateway.port" || it_fail "the gateway did not start"
gw="http://127.0.0.1:$(cat "$IT_DIR/gateway.port")"
IT_NOTIFIER_ARGS="--notifier.webhook-urls=$gw/ok,$gw/fail --notifier.webhook-secret-file=$IT_DIR/webhook.secret --notifier.webhook-attempts=3 --notifier.webhook-backoff-ms=300"
it_stack
it_device device st-1
officer=$IT_TOKEN
api="http://127.0.0.1:$IT_HTTP"

A=+8613900000061 F=+8617000000061
it_produce "$IT_TOPIC_gb_registry" 13900000061 '{"request_id":"r1","op":"register","registrant":"13900000061","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_intel" phone:$F "{\"kind\":\"phone\",\"value\":\"$F\"}"
it_wait_log matcher 'registry.applied request_id=r1 op=register accepted=yes' 30 "registration"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
gb_launch "$IT_DIR/monitor.txt" "$IT_DIR/monitor.pid" redis-cli -p "$IT_REDIS_PORT" MONITOR
IT_PIDS+=("$(cat "$IT_DIR/monitor.pid")"); IT_NAMES+=(monitor)
it_call wh-1 $F 13900000061 300
it_wait_alert device $A '.revision == 1' 60 "the alert on the device"
alert=$(it_alerts_for device $A | jq -r .alert_id | head -1)
feed_id=$(grep -m1 '^id: ' "$IT_DIR/device.out" | cut -c5-)
delivery="st-1/$feed_id"

req() { jq -c "$1" "$IT_DIR/requests.jsonl" 2>/dev/null | grep -c . || true; }
# The healthy gateway: the alert, once, signed, as the device got it.
got_ok() { [ "$(req "select(.path == \"/ok\" and .delivery == \"$delivery\")")" -ge 1 ]; }
gb_wait_until 20 "the alert at the healthy gateway" got_ok || it_fail "the healthy gateway got nothing"
n=$(req "select(.path == \"/ok\" and .delivery == \"$delivery\" and .sig_ok and .fresh and .event == \"alert\" and .attempt == 1 and .body.audience == \"station\" and .body.station_id == \"st-1\" and .body.data.alert_id == \"$alert\")")
[ "$n" = 1 ] || it_fail "want the alert once, signed, at /ok: $(grep '"/ok"' "$IT_DIR/requests.jsonl" | cut -c1-400)"

# The registrant (A follows) is warned through the gateway, not the devices.
warned() { [ "$(req 'select(.path == "/ok" and .event == "registrant.warning" and .sig_ok and .body.audience == "registrant" and .body.data.to == "+8613900000061" and .body.data.relation == "self")')" = 1 ]; }
gb_wait_until 20 "the registrant's warning at the gateway" warned ||
  it_fail "no registrant's warning at the gateway: $(grep registrant "$IT_DIR/requests.jsonl" | cut -c1-400)"
grep -q registrant.warning "$IT_DIR/device.out" && it_fail "the registrant's warning reached an officer's device"

# A retry waits in Redis with its body (which names the registrant)
# sealed: every command notifier sends Redis is watched (MONITOR) from
# before the alert, and each retry stored is checked once the tries are over.
# The failing gateway: three tries, then the dead letter.
dead() { curl -sf -H "Authorization: Bearer $bureau" "$api/v1/webhooks/dead" >"$IT_DIR/dead.json" &&
  jq -e --arg d "$delivery" '.dead | map(select(.delivery_id == $d)) | length == 1' "$IT_DIR/dead.json" >/dev/null; }
it_token bureau-1 "" bureau_admin
bureau=$IT_TOKEN
gb_wait_until 30 "the dead letter" dead || it_fail "no dead letter: $(cat "$IT_DIR/dead.json" 2>/dev/null)"
jq -e --arg d "$delivery" --arg u "$gw/fail" '.dead[] | select(.delivery_id == $d) |
  .attempts == 3 and .gateway == $u and .error == "HTTP 500" and .event == "alert"' "$IT_DIR/dead.json" >/dev/null ||
  it_fail "the dead letter: $(cat "$IT_DIR/dead.json")"
tries=$(req "select(.path == \"/fail\" and .delivery == \"$delivery\" and .sig_ok)")
[ "$tries" = 3 ] || it_fail "want 3 signed tries at /fail, got $tries"
[ "$(jq -r "select(.path == \"/fail\" and .delivery == \"$delivery\") | .attempt" "$IT_DIR/requests.jsonl" | tr '\n' ' ')" = "1 2 3 " ] ||
  it_fail "tries out of order: $(grep '/fail' "$IT_DIR/requests.jsonl" | cut -c1-200)"
# Spaced by the backoff: at least 300 ms, then at least 600 ms.
jq -s --arg d "$delivery" '[.[] | select(.path == "/fail" and .delivery == $d) | .t] as $t |
  ($t[1] - $t[0] >= 0.3) and ($t[2] - $t[1] >= 0.6)' "$IT_DIR/requests.jsonl" | grep -qx true ||
  it_fail "tries not spaced by the backoff: $(jq -c "select(.path == \"/fail\") | .t" "$IT_DIR/requests.jsonl" | tr '\n' ' ')"
dlq=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%k|%h\n' 2>/dev/null | grep -F "$delivery|" || true)
echo "$dlq" | grep -q 'gb-reason=webhook_failed' && echo "$dlq" | grep -q 'gb-detail=HTTP 500' && echo "$dlq" | grep -q 'gb-attempts=3' ||
  it_fail "gb.dlq: '$dlq'"
[ "$(echo "$dlq" | grep -c .)" = 1 ] || it_fail "want one dead letter on gb.dlq, got: $dlq"
# Dead letters are the bureau's: an officer may not read them.
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $officer" "$api/v1/webhooks/dead")" = 403 ] ||
  it_fail "an officer read the dead letters"

grep -F 'HSET' "$IT_DIR/monitor.txt" | grep -F '{wh}:job:' | grep -F 13900000061 &&
  it_fail "a retry's body went to Redis in the clear"
grep -F '{wh}:job:' "$IT_DIR/monitor.txt" | grep -oE '"[A-Za-z0-9_-]{1,16}\$[A-Za-z0-9_-]{40,}"' | tr -d '"' |
  it_unseal notifier.webhook | jq -c 'select(.delivery_id)' >"$IT_DIR/queued.jsonl" ||
  it_fail "a queued retry's body does not open"
[ "$(jq -r --arg d "$delivery" 'select(.delivery_id == $d) | .data.alert_id' "$IT_DIR/queued.jsonl" | sort -u)" = "$alert" ] ||
  it_fail "no sealed retry of the alert's delivery went to Redis: $(head -c 300 "$IT_DIR/queued.jsonl")"

# Nothing in Redis names the registrant in the clear.
it_no_plain_numbers 13900000061

# A workflow change is a notification too.
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $officer" "$api/v1/alerts/$alert/claim")" = 200 ] ||
  it_fail "claim"
claimed() { [ "$(req 'select(.path == "/ok" and .event == "alert.workflow" and .sig_ok and .body.data.action == "claim")')" = 1 ]; }
gb_wait_until 20 "the claim at the healthy gateway" claimed || it_fail "the claim did not reach the gateway"

IT_OK=1
gb_log "PASS: the alert, the registrant's warning and the claim reached the healthy gateway once each, signed; the failing gateway got 3 signed tries ($(jq -rs --arg d "$delivery" '[.[] | select(.path == "/fail" and .delivery == $d) | .t] | [.[1]-.[0], .[2]-.[1]] | map(. * 1000 | floor | tostring + " ms") | join(", ")' "$IT_DIR/requests.jsonl") apart), then a dead letter on gb.dlq and in /v1/webhooks/dead"
