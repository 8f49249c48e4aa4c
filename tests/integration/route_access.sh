#!/usr/bin/env bash
# Every notifier route that needs a token refuses a request with none, with
# a revoked token, a forged one, an expired one, and (for station data) with
# another station's officer's token; and a refused request changes nothing.
# (Every test then checks that no token, code or key reached a log: lib.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env route_access
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_notifier
api="http://127.0.0.1:$IT_HTTP"
it_token o1 st-1; O1=$IT_TOKEN
it_token o2 st-2; O2=$IT_TOKEN
it_token gone st-2; GONE=$IT_TOKEN
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $GONE" "$api/v1/devices/revoke" || it_fail "revoking"
# A token past its expiry (90 days in production): moved into the past.
it_token old st-2; OLD=$IT_TOKEN
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OLD" "$api/v1/me")" = 200 ] || it_fail "the fresh token"
th=$(redis-cli -p "$IT_REDIS_PORT" --raw SMEMBERS "${IT_PREFIX}toks:{a:old}")
[ "$(redis-cli -p "$IT_REDIS_PORT" HSET "${IT_PREFIX}tok:$th" expires_ms "$(( $(gb_now_ms) - 1000 ))")" = 0 ] ||
  it_fail "the token's expiry could not be moved"
# An alert of st-1, as notifier stores it.
ALERT=0123456789abcdef0123456789abcdef
redis-cli -p "$IT_REDIS_PORT" HSET "${IT_PREFIX}al:{st:st-1}:$ALERT" json '{"alert_id":"x"}' revision 1 state new >/dev/null

# METHOD PATH [BODY] ; the station-bound ones are marked with *
routes=(
  "GET /v1/me"
  "POST /v1/devices/revoke"
  "POST /v1/accounts {\"id\":\"o9\",\"role\":\"officer\",\"station_id\":\"st-1\"} *"
  "GET /v1/accounts?station=st-1 *"
  "POST /v1/accounts/o1/binding-code *"
  "POST /v1/accounts/o1/deactivate *"
  "GET /v1/stream?station=st-1 *"
  "GET /v1/risk?phone=%2B8617000000000"
  "GET /v1/stats/stations/st-1 *"
  "GET /v1/stats *"
  "POST /v1/alerts/$ALERT/claim *"
  "POST /v1/alerts/$ALERT/release *"
  "POST /v1/alerts/$ALERT/resolve {\"method\":\"call\",\"outcome\":\"dissuaded\"} *"
  "POST /v1/alerts/$ALERT/dispute {\"reason\":\"not_fraud\"} *"
  "POST /v1/alerts/$ALERT/settle {\"decision\":\"uphold\"} *"
  "GET /v1/stats/alerts?station=st-1 *"
  "GET /v1/stats/alerts?station=* *"
  "GET /v1/intel/not-fraud *"
  "GET /v1/webhooks/dead *"
  "GET /v1/alerts?station=st-1 *"
  "GET /v1/alerts/$ALERT?station=st-1 *"
  "GET /v1/stats/series?station=st-1 *"
  "GET /v1/stations?all=1 *"
  "POST /v1/stations {\"id\":\"st-9\",\"name\":\"x\",\"bureau\":\"b\",\"lat\":24.5,\"lon\":118.1,\"real\":true} *"
  "POST /v1/stations/st-1/deactivate *"
  "POST /v1/stations/st-1/activate *"
)
status() { # TOKEN METHOD PATH [BODY]
  local args=(-s -o /dev/null -m 3 -w '%{http_code}' -X "$2" -H 'content-type: application/json')
  [ "$1" = - ] || args+=(-H "Authorization: Bearer $1")
  [ -z "${4:-}" ] || args+=(-d "$4")
  curl "${args[@]}" "$api$3" || true
}
checked=0
for r in "${routes[@]}"; do
  read -r method path rest <<<"$r"
  body="" station=0
  [[ $rest == *'*' ]] && station=1 && rest=${rest%\*}
  body=${rest% }
  [ "$(status - "$method" "$path" "$body")" = 401 ] || it_fail "$method $path without a token was not 401"
  [ "$(status "$GONE" "$method" "$path" "$body")" = 401 ] || it_fail "$method $path with a revoked token was not 401"
  [ "$(status gbt_forged "$method" "$path" "$body")" = 401 ] || it_fail "$method $path with a forged token was not 401"
  [ "$(status "$OLD" "$method" "$path" "$body")" = 401 ] || it_fail "$method $path with an expired token was not 401"
  checked=$((checked + 4))
  if [ "$station" = 1 ]; then
    got=$(status "$O2" "$method" "$path" "$body")
    case $got in 403|404) ;; *) it_fail "$method $path: st-2's officer got $got for st-1's data" ;; esac
    checked=$((checked + 1))
  fi
done
# Nothing changed: st-1's alert is new, o1 still works.
[ "$(redis-cli -p "$IT_REDIS_PORT" HGET "${IT_PREFIX}al:{st:st-1}:$ALERT" state)" = new ] || it_fail "a refused request changed the alert"
[ "$(status "$O1" GET /v1/me)" = 200 ] || it_fail "o1's token stopped working"
[ "$(status "$O1" POST "/v1/alerts/$ALERT/claim")" = 200 ] || it_fail "o1 cannot claim their own station's alert"

IT_OK=1
gb_log "PASS: ${#routes[@]} routes, $checked refusals checked (no token, revoked, forged, expired, another station)"
