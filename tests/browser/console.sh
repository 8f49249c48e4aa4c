#!/usr/bin/env bash
# The officer console and the bureau dashboard in a real browser
# (tests/browser/console.mjs says what it checks), against the services,
# Kafka and Redis.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
[ -d "$GB_ROOT/tests/browser/node_modules/playwright-core" ] || it_fail "run scripts/setup.sh (npm ci in tests/browser)"
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
GB_WEB_URL="http://127.0.0.1:$IT_HTTP" GB_SHOTS="$IT_DIR/screenshots" \
  timeout 120 node "$GB_ROOT/tests/browser/console.mjs" "${codes[@]}" +8613900000071 >"$IT_DIR/browser.log" 2>&1 ||
  { cat "$IT_DIR/browser.log" >&2; it_fail "the browser test failed"; }
cat "$IT_DIR/browser.log"
[ -n "${GB_SCREENSHOTS_DIR:-}" ] && mkdir -p "$GB_SCREENSHOTS_DIR" && cp "$IT_DIR"/screenshots/*.png "$GB_SCREENSHOTS_DIR"/
IT_OK=1
gb_log "PASS: $(grep '^PASS' "$IT_DIR/browser.log" | cut -c7-); screenshots in $IT_DIR/screenshots"
