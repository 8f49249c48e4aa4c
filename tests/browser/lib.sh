# Shared by the browser tests' scripts: the integration helpers
# (tests/integration/lib.sh) and browser_run, which drives a page script.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
[ -d "$GB_ROOT/tests/browser/node_modules/playwright-core" ] || it_fail "run scripts/setup.sh (npm ci in tests/browser)"

# browser_run SCRIPT.mjs TIMEOUT_S ARG...: runs the page script against
# notifier (IT_HTTP), screenshots into $IT_DIR/screenshots (and copied to
# GB_SCREENSHOTS_DIR when set); the test passes when the script does.
browser_run() {
  local script=$1 limit=$2
  shift 2
  GB_WEB_URL="http://127.0.0.1:$IT_HTTP" GB_SHOTS="$IT_DIR/screenshots" \
    timeout "$limit" node "$GB_ROOT/tests/browser/$script" "$@" >"$IT_DIR/browser.log" 2>&1 ||
    { cat "$IT_DIR/browser.log" >&2; it_fail "the browser test failed"; }
  cat "$IT_DIR/browser.log"
  if [ -n "${GB_SCREENSHOTS_DIR:-}" ]; then
    mkdir -p "$GB_SCREENSHOTS_DIR" && cp "$IT_DIR"/screenshots/*.png "$GB_SCREENSHOTS_DIR"/
  fi
  IT_OK=1
  gb_log "PASS: $(grep '^PASS' "$IT_DIR/browser.log" | cut -c7-); screenshots in $IT_DIR/screenshots"
}
