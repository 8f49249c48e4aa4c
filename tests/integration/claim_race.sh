#!/usr/bin/env bash
# The claim race: an alert reaches station st-1, where 50 officers, each
# with a bound device, claim it at once. Exactly one wins; the other 49 are
# told who has it; a device connected to the station learns who has it
# from its push stream. Only the claimer (or an administrator) may release
# it; once released, another officer can claim it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env claim_race
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
it_device device st-1

it_produce "$IT_TOPIC_gb_registry" 13900000031 '{"request_id":"r1","op":"register","registrant":"13900000031","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000000 '{"kind":"phone","value":"+8617000000000"}'
it_wait_log matcher 'registry.applied request_id=r1 op=register accepted=yes' 30 "registration"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
it_call race-1 +8617000000000 13900000031 300
it_wait_alert device +8613900000031 '.revision == 1' 60 "the alert on st-1"
alert=$(it_alerts_for device +8613900000031 | jq -r .alert_id | head -1)

# Fifty officers with a bound device each.
tokens=()
for i in $(seq -w 1 50); do it_token "officer-$i" st-1; tokens+=("$IT_TOKEN"); done
api="http://127.0.0.1:$IT_HTTP"
# All at once.
for i in "${!tokens[@]}"; do
  curl -s -o "$IT_DIR/claim-$i.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer ${tokens[$i]}" "$api/v1/alerts/$alert/claim" >"$IT_DIR/claim-$i.code" &
done
wait
won=0 lost=0 winner=""
for i in "${!tokens[@]}"; do
  case $(cat "$IT_DIR/claim-$i.code") in
    200) won=$((won + 1)); winner=$(jq -r .claimed_by "$IT_DIR/claim-$i.json") ;;
    409) lost=$((lost + 1)) ;;
    *) it_fail "claim $i: $(cat "$IT_DIR/claim-$i.code") $(cat "$IT_DIR/claim-$i.json")" ;;
  esac
done
[ "$won" = 1 ] && [ "$lost" = 49 ] || it_fail "want 1 winner and 49 told, got $won and $lost"
for i in "${!tokens[@]}"; do
  [ "$(cat "$IT_DIR/claim-$i.code")" = 409 ] || continue
  [ "$(jq -r .claimed_by "$IT_DIR/claim-$i.json")" = "$winner" ] ||
    it_fail "loser $i was not told the winner: $(cat "$IT_DIR/claim-$i.json")"
done
# The station's device learns who has it.
told() { grep -q "\"claimed_by\":\"$winner\"" "$IT_DIR/device.out" 2>/dev/null; }
gb_wait_until 10 "the claim on the station's device" told || it_fail "the device was not told who claimed it"
grep -q '^event: alert.workflow$' "$IT_DIR/device.out" || it_fail "no alert.workflow event on the device"

# Release: not by another officer; by the claimer; then someone else claims.
wi=$(( 10#${winner#officer-} - 1 )); other=$(( (wi + 1) % 50 ))
code() { curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" "$api/v1/alerts/$alert/$2"; }
# (Redis forgetting the loaded scripts, as after a restart, changes nothing:
# notifier loads the workflow script again.)
redis-cli -p "$IT_REDIS_PORT" SCRIPT FLUSH >/dev/null
[ "$(code "${tokens[$other]}" release)" = 403 ] || it_fail "another officer released it: $(cat "$IT_DIR/body")"
[ "$(code "${tokens[$wi]}" release)" = 200 ] || it_fail "the claimer could not release it: $(cat "$IT_DIR/body")"
[ "$(code "${tokens[$other]}" claim)" = 200 ] || it_fail "no claim after the release: $(cat "$IT_DIR/body")"
[ "$(jq -r .claimed_by "$IT_DIR/body")" = "officer-$(printf %02d $((other + 1)))" ] || it_fail "claimed by: $(cat "$IT_DIR/body")"
# Another station's officer cannot touch it.
it_station st-2 "湖里派出所" 24.5122 118.1462
it_token officer-x st-2
[ "$(code "$IT_TOKEN" claim)" = 404 ] || it_fail "an officer of st-2 reached st-1's alert: $(cat "$IT_DIR/body")"
# The dissuasion record: only the claimer files it, and it must say how and
# with what outcome; then the alert is resolved and stays so.
body() { curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
  -H 'content-type: application/json' -d "$3" "$api/v1/alerts/$alert/$2"; }
rec='{"method":"call","outcome":"dissuaded","notes":"本人接听，已劝阻"}'
[ "$(body "${tokens[$wi]}" resolve "$rec")" = 403 ] || it_fail "a non-claimer resolved it: $(cat "$IT_DIR/body")"
[ "$(body "${tokens[$other]}" resolve '{"method":"call","outcome":"money_transferred"}')" = 400 ] ||
  it_fail "a transfer without an amount was accepted: $(cat "$IT_DIR/body")"
[ "$(body "${tokens[$other]}" resolve "$rec")" = 200 ] || it_fail "the claimer could not resolve it: $(cat "$IT_DIR/body")"
jq -e '.state == "resolved" and .details.outcome == "dissuaded"' "$IT_DIR/body" >/dev/null || it_fail "resolve: $(cat "$IT_DIR/body")"
resolved() { grep -q '"action":"resolve"' "$IT_DIR/device.out" 2>/dev/null; }
gb_wait_until 10 "the record on the station's device" resolved || it_fail "the device was not told of the record"
[ "$(code "${tokens[$wi]}" claim)" = 409 ] || it_fail "a resolved alert was claimed: $(cat "$IT_DIR/body")"
[ "$(body "${tokens[$wi]}" dispute '{"reason":"not_fraud"}')" = 409 ] || it_fail "a resolved alert was disputed: $(cat "$IT_DIR/body")"
# A second alert, disputed as another station's: the reason is required and
# recorded.
it_produce "$IT_TOPIC_gb_registry" 13900000032 '{"request_id":"r2","op":"register","registrant":"13900000032","station_id":"st-1"}'
it_wait_log matcher 'registry.applied request_id=r2 op=register accepted=yes' 30 "second registration"
it_call race-2 +8617000000000 13900000032 300
it_wait_alert device +8613900000032 '.revision == 1' 60 "the second alert"
alert=$(it_alerts_for device +8613900000032 | jq -r .alert_id | head -1)
[ "$(body "${tokens[0]}" dispute '{"reason":"wrong_station"}')" = 400 ] || it_fail "a wrong_station dispute without the station: $(cat "$IT_DIR/body")"
[ "$(body "${tokens[0]}" dispute '{"reason":"wrong_station","station_id":"st-2","notes":"lives in 湖里"}')" = 200 ] ||
  it_fail "the dispute: $(cat "$IT_DIR/body")"
jq -e '.state == "disputed" and .details.station_id == "st-2"' "$IT_DIR/body" >/dev/null || it_fail "dispute: $(cat "$IT_DIR/body")"
# A station administrator settles it: st-2 gets the alert as new, on its
# devices, and its officer takes it.
x_token=$IT_TOKEN
it_device device2 st-2
[ "$(body "${tokens[0]}" settle '{"decision":"uphold"}')" = 403 ] || it_fail "an officer settled a dispute: $(cat "$IT_DIR/body")"
it_token sa-1 st-1 station_admin
[ "$(body "$IT_TOKEN" settle '{"decision":"maybe"}')" = 400 ] || it_fail "a settle without a decision: $(cat "$IT_DIR/body")"
[ "$(body "$IT_TOKEN" settle '{"decision":"uphold"}')" = 200 ] || it_fail "the settle: $(cat "$IT_DIR/body")"
jq -e '.state == "reassigned"' "$IT_DIR/body" >/dev/null || it_fail "settle: $(cat "$IT_DIR/body")"
it_wait_alert device2 +8613900000032 '.station_id == "st-2"' 10 "the reassigned alert on st-2"
[ "$(code "$x_token" claim)" = 200 ] || it_fail "st-2's officer could not claim the reassigned alert: $(cat "$IT_DIR/body")"
[ "$(code "${tokens[0]}" claim)" = 409 ] || it_fail "st-1's copy is still claimable: $(cat "$IT_DIR/body")"
# The audit trail holds every change, with who and when.
n=$(redis-cli -p "$IT_REDIS_PORT" XLEN "${IT_PREFIX}audit:{st:st-1}")
[ "$n" = 6 ] || it_fail "want 6 audit entries (claim, release, claim, resolve, dispute, settle), got $n"

IT_OK=1
gb_log "PASS: 50 officers claimed at once: 1 won ($winner), 49 were told; release, re-claim, the dissuasion record, a dispute settled by reassignment to st-2; st-1's audit holds 6 entries"
