#!/usr/bin/env bash
# The officer console and the bureau dashboard in a real browser
# (tests/browser/console.mjs says what it checks), against the services,
# Kafka and Redis.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env browser_console
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_stack
acc=("$GB_BUILD_DIR/tools/gb-accounts" --redis "$IT_REDIS_URL" --prefix "$IT_PREFIX")
for a in o-a:st-1 o-b:st-1 o-x:st-2; do "${acc[@]}" create "${a%%:*}" --role officer --station "${a#*:}" >>"$IT_DIR/accounts.log"; done
"${acc[@]}" create boss --role bureau_admin >>"$IT_DIR/accounts.log"
codes=()
for a in o-a o-b o-x boss; do codes+=("$("${acc[@]}" code "$a")"); done
it_produce "$IT_TOPIC_gb_registry" 13900000071 '{"request_id":"r1","op":"register","registrant":"13900000071","station_id":"st-1"}'
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000071 '{"kind":"phone","value":"+8617000000071"}'
it_wait_log matcher 'registry.applied request_id=r1 op=register accepted=yes' 30 "registration"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
it_call web-1 +8617000000071 13900000071 300
it_wait_log notifier 'alert.pushed .*station=st-1' 60 "the alert at notifier"
browser_run console.mjs 120 "${codes[@]}" +8613900000071
