#!/usr/bin/env bash
# A phone through a tunnel: an officer's device receives an alert, drops
# off, misses the next two, reconnects with the last event id it saw, and
# gets exactly what it missed, in the feed's order, then the live stream.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env resume
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
it_device device st-1
for n in 51 52 53 54; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
  it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"
done
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000000 '{"kind":"phone","value":"+8617000000000"}'
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"

it_call t-51 +8617000000000 13900000051 300
it_wait_alert device +8613900000051 '.revision == 1' 60 "the first alert"
last=$(sed -n 's/^id: //p' "$IT_DIR/device.out" | tail -1)
# Into the tunnel.
gb_pid_stop "$(cat "$IT_DIR/device.pid")" 5 device >/dev/null || it_fail "could not stop the device"
it_wait_log notifier 'stream.closed station=st-1' 20 "the dropped connection"
it_call t-52 +8617000000000 13900000052 300
it_call t-53 +8617000000000 13900000053 300
pushed() { [ "$(grep -c 'event=alert.pushed .*event=alert ' "$IT_DIR/notifier.log")" -ge 3 ]; }
gb_wait_until 60 "the two alerts missed" pushed || it_fail "notifier did not get the missed alerts"
# Out of the tunnel, with the last id seen.
gb_launch "$IT_DIR/device2.out" "$IT_DIR/device2.pid" \
  curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" -H "Last-Event-ID: $last" \
  "http://127.0.0.1:$IT_HTTP/v1/stream?station=st-1"
IT_PIDS+=("$(cat "$IT_DIR/device2.pid")"); IT_NAMES+=(device2)
it_wait_log notifier 'stream.opened station=st-1 .* replayed=2 ' 20 "the replay of the two missed alerts"
it_wait_alert device2 +8613900000053 '.revision == 1' 10 "the missed alerts on reconnect"
got=$(it_alerts device2 | jq -r .subject | sort | tr '\n' ' ')
[ "$got" = "+8613900000052 +8613900000053 " ] || it_fail "replayed: $got (want 52 and 53, and not 51 again)"
# In the feed's order (the two people's alerts travel on different
# partitions, so that order is the feed's, not the calls').
ids=$(sed -n 's/^id: //p' "$IT_DIR/device2.out")
[ "$ids" = "$(sort -t- -k1,1n -k2,2n <<<"$ids")" ] || it_fail "replayed out of order: $ids"
# And live again.
it_call t-54 +8617000000000 13900000054 300
it_wait_alert device2 +8613900000054 '.revision == 1' 60 "a live alert after the replay"

# A message on gb.alerts that is not an alert is dead-lettered, unchanged,
# with the reason, and notifier goes on (the next alert still arrives).
printf 'st-1|this is not an alert\n' | kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_alerts" -K '|' 2>>"$IT_DIR/kcat.log"
it_wait_log notifier 'alert.undecodable .*action=dead_letter' 30 "the unreadable alert"
dlq=$(timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%k|%s|%h\n' 2>/dev/null | grep 'gb-service=notifier' || true)
grep -q '^st-1|this is not an alert|.*gb-reason=bad_protobuf' <<<"$dlq" || it_fail "gb.dlq: '$dlq'"
it_call t-55 +8617000000000 13900000051 300 "$(it_ago 7200)"
it_wait_alert device2 +8613900000051 '.revision == 2' 60 "an alert after the unreadable one"

IT_OK=1
gb_log "PASS: after the tunnel the device got exactly the 2 missed alerts, in order, then live ones; an unreadable alert went to gb.dlq"
