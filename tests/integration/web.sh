#!/usr/bin/env bash
# notifier serves the console and the dashboard: every file of web/ with its
# type, an ETag that answers 304, a Content-Security-Policy of this origin
# only (no CDN), / sends a browser to the console, nothing else is served.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env web
it_notifier
api="http://127.0.0.1:$IT_HTTP"
get() { curl -s -o "$IT_DIR/body" -D "$IT_DIR/headers" -w '%{http_code}' "$@"; }
hdr() { grep -i "^$1:" "$IT_DIR/headers" | cut -d' ' -f2- | tr -d '\r'; }

[ "$(get "$api/")" = 302 ] && [ "$(hdr location)" = /console/ ] || it_fail "/ does not lead to the console"
[ "$(get "$api/console")" = 301 ] && [ "$(hdr location)" = /console/ ] || it_fail "/console does not add its slash"
n=0
for f in $(cd "$GB_ROOT/web" && find console dashboard common -type f | sort); do
  [ "$(get "$api/$f")" = 200 ] || it_fail "/$f: $(cat "$IT_DIR/body" | head -c 200)"
  cmp -s "$IT_DIR/body" "$GB_ROOT/web/$f" || it_fail "/$f differs from web/$f"
  case $f in
    *.html) want='text/html; charset=utf-8' ;; *.js) want='text/javascript; charset=utf-8' ;;
    *.css) want='text/css; charset=utf-8' ;; *) want=? ;;
  esac
  [ "$(hdr content-type)" = "$want" ] || it_fail "/$f: content-type $(hdr content-type)"
  hdr content-security-policy | grep -q "^default-src 'self'; " || it_fail "/$f: no CSP"
  [ "$(hdr x-content-type-options)" = nosniff ] || it_fail "/$f: no nosniff"
  etag=$(hdr etag)
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$api/$f")" = 304 ] || it_fail "/$f: no 304 for its ETag"
  n=$((n + 1))
done
[ "$(get "$api/console/")" = 200 ] && cmp -s "$IT_DIR/body" "$GB_ROOT/web/console/index.html" || it_fail "/console/ is not the console"
[ "$(get "$api/dashboard/")" = 200 ] || it_fail "/dashboard/"
# Nothing from elsewhere: no http(s) URL outside this origin in any page.
! grep -rEn "(src|href)=\"(https?:)?//" "$GB_ROOT/web" || it_fail "a page loads from another origin"
for p in /console/nothing.js "/console/..%2f..%2fCMakeLists.txt" /web/console/index.html /console/.hidden; do
  code=$(get "$api$p")
  [ "$code" = 404 ] || it_fail "$p: $code"
done

IT_OK=1
gb_log "PASS: $n files served with their types, ETags (304) and a same-origin CSP; / and /console lead to the console; traversal and unknown names are 404"
