#!/usr/bin/env bash
# Retro-hunting through the real broker, Redis and notifier: R talked with
# X two days ago, Q four days ago; neither call alerted, X was clean. Then X
# becomes a fraud indicator: R, inside the 72 h look-back, is alerted at
# once; Q, outside it, is not.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env retro_hunt
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
it_device device st-1

R=+8613900000021 Q=+8613900000022 X=+8617000000099
for n in 21 22; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
  it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"
done
r_start=$(it_ago $(( 48 * 3600 )))
it_call r1 $X 13900000021 300 "$r_start"
it_call q1 $X 13900000022 200 "$(it_ago $(( 96 * 3600 )))"
it_wait_log matcher "event.dropped event_id=call:CMCC:r1:\\$R:300 reason=no_indicator" 30 "R's call, clean then"
it_wait_log matcher "event.dropped event_id=call:CMCC:q1:\\$Q:200 reason=no_indicator" 30 "Q's call, clean then"

it_produce "$IT_TOPIC_gb_intel" "phone:$X" "{\"kind\":\"phone\",\"value\":\"$X\",\"source\":\"12381\"}"
it_wait_alert device $R '.rule == "retro_hunt"' 60 "R's retro-hunt alert"
a=$(it_alerts_for device $R | head -1)
when=$(TZ=Asia/Shanghai date -d "$r_start" '+%Y-%m-%d %H:%M')
for want in '"risk":"medium"' "was on a call with $X for 5 min 0 s on $when (Beijing time), a number listed as fraud since" \
            ; do
  grep -qF -- "$want" <<<"$a" || it_fail "R's alert lacks $want: $a"
done
it_wait_log matcher 'retro.hunted indicators=1 contacts_found=1 people=1 ' 10 "the hunt's account"
[ -z "$(it_alerts_for device $Q)" ] || it_fail "Q, outside the look-back, alerted"
got=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -o beginning -e -q -f 'x\n' | wc -l)
[ "$got" = 1 ] || it_fail "want 1 alert on gb.alerts, found $got"

IT_OK=1
gb_log "PASS: a new fraud number alerted R (contact 48 h ago) at once and not Q (96 h ago)"
