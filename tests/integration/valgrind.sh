#!/usr/bin/env bash
# A short end-to-end run with every service under valgrind's memcheck: a
# registration with a family number and a fraud number go in, a long call
# comes out as an alert on an officer's device, the officer claims and
# resolves it; then each service stops on SIGTERM. Every service's memcheck
# report must show no error and no memory definitely lost.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || it_fail "valgrind is not installed (scripts/setup.sh)"
it_env valgrind
it_station st-1 "思明派出所" 24.4539 118.0820
IT_WRAP=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
  --errors-for-leak-kinds=definite --num-callers=30 --log-file="$IT_DIR/memcheck-%p.txt")
it_stack
IT_WRAP=()
it_device device st-1
it_produce "$IT_TOPIC_gb_registry" 13900000091 '{"request_id":"r1","op":"register","registrant":"13900000091","station_id":"st-1","name":"张三","age":70,"occupation":"退休教师"}'
it_produce "$IT_TOPIC_gb_registry" 13900000091 '{"request_id":"r2","op":"add_family","registrant":"13900000091","family":"13800000092","relation":"母亲"}'
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000091 '{"kind":"phone","value":"+8617000000091"}'
it_wait_log matcher 'registry.applied request_id=r2 op=add_family accepted=yes' 120 "registration"
it_wait_log matcher 'intel.applied kind=phone' 120 "fraud number"
it_call vg-1 +8617000000091 13900000091 300
it_wait_alert device +8613900000091 '.revision == 1' 120 "the alert on the device"
alert=$(it_alerts_for device +8613900000091 | jq -r .alert_id | head -1)
it_token o-vg st-1
api="http://127.0.0.1:$IT_HTTP"
[ "$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X POST -H "Authorization: Bearer $IT_TOKEN" "$api/v1/alerts/$alert/claim")" = 200 ] ||
  it_fail "claim"
[ "$(curl -s -o "$IT_DIR/detail.json" -w '%{http_code}' -m 30 -H "Authorization: Bearer $IT_TOKEN" "$api/v1/alerts/$alert")" = 200 ] ||
  it_fail "the alert's detail"
jq -e '.people[0].name == "张三"' "$IT_DIR/detail.json" >/dev/null || it_fail "the detail: $(cat "$IT_DIR/detail.json")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X POST -H "Authorization: Bearer $IT_TOKEN" -H 'content-type: application/json' \
  "$api/v1/alerts/$alert/resolve" -d '{"method":"call","outcome":"dissuaded"}')" = 200 ] || it_fail "resolve"

# Each service stops on SIGTERM (under memcheck: give it time) and reports.
for i in "${!IT_NAMES[@]}"; do
  case ${IT_NAMES[$i]} in ingest | matcher | notifier) ;; *) continue ;; esac
  gb_pid_stop "${IT_PIDS[$i]}" 120 "${IT_NAMES[$i]}" TERM
done
reports=("$IT_DIR"/memcheck-*.txt)
[ "${#reports[@]}" = 3 ] || it_fail "want 3 memcheck reports, got ${#reports[@]}"
for r in "${reports[@]}"; do
  grep -q 'ERROR SUMMARY: 0 errors' "$r" || { cat "$r" >&2; it_fail "memcheck found errors: $r"; }
  if grep -q 'definitely lost: [1-9]' "$r"; then cat "$r" >&2; it_fail "memory definitely lost: $r"; fi
done
IT_OK=1
gb_log "PASS: ingest, matcher and notifier under memcheck: an alert end to end, claimed, opened and resolved; 0 errors and nothing definitely lost in each ($(grep -h 'total heap usage' "${reports[@]}" | sed 's/.*total heap usage: //' | paste -sd';'))"
