#!/usr/bin/env bash
# The bureau dashboard in a real browser (tests/browser/dashboard.mjs says
# what it checks), against the services, Kafka and Redis: one registrant of
# st-1 with a profile and a family number, one unclaimed high-risk alert
# that escalates after 3 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env browser_dashboard
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
IT_NOTIFIER_ARGS="--notifier.escalate-after-s=3" it_stack
acc=("$GB_BUILD_DIR/tools/gb-accounts" --redis "$IT_REDIS_URL" --prefix "$IT_PREFIX")
"${acc[@]}" create boss --role bureau_admin >>"$IT_DIR/accounts.log"
"${acc[@]}" create sa-1 --role station_admin --station st-1 >>"$IT_DIR/accounts.log"
codes=("$("${acc[@]}" code boss)" "$("${acc[@]}" code sa-1)")
it_produce "$IT_TOPIC_gb_registry" 13900000081 '{"request_id":"r1","op":"register","registrant":"13900000081","station_id":"st-1","name":"张三","age":70,"occupation":"退休教师"}'
it_produce "$IT_TOPIC_gb_registry" 13900000081 '{"request_id":"r2","op":"add_family","registrant":"13900000081","family":"13800000082","relation":"母亲"}'
it_produce "$IT_TOPIC_gb_intel" phone:+8617000000081 '{"kind":"phone","value":"+8617000000081"}'
it_wait_log matcher 'registry.applied request_id=r2 op=add_family accepted=yes' 30 "registration"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"
it_call dash-1 +8617000000081 13900000081 300
it_wait_log notifier 'alert.pushed .*station=st-1' 60 "the alert at notifier"
browser_run dashboard.mjs 150 "${codes[@]}" +8613900000081 +8613800000082
