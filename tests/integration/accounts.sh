#!/usr/bin/env bash
# Accounts, device binding and tokens through notifier's API and the
# gb-accounts tool, against the real Redis: the first bureau administrator
# from the tool, everything else through the API; one-time codes; roles
# held to their station; refusals for no token, a bad token, a revoked one
# and a deactivated account; wrong codes rate-limited; and neither codes
# nor tokens kept in Redis or written to the log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env accounts
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_notifier
api="http://127.0.0.1:$IT_HTTP"
# call TOKEN METHOD PATH [BODY]: prints "<status> <body>".
call() {
  local args=(-s -o "$IT_DIR/body" -w '%{http_code}' -X "$2" -H 'content-type: application/json')
  [ "$1" = - ] || args+=(-H "Authorization: Bearer $1")
  [ -z "${4:-}" ] || args+=(-d "$4")
  local code; code=$(curl "${args[@]}" "$api$3")
  echo "$code $(cat "$IT_DIR/body")"
}
expect() { # WANT-STATUS WHAT TOKEN METHOD PATH [BODY]
  local got; got=$(call "${@:3}")
  [ "${got%% *}" = "$1" ] || it_fail "$2: want $1, got $got"
  REPLY=${got#* }
}

# The first bureau administrator comes from the tool.
it_token boss "" bureau_admin
BOSS=$IT_TOKEN
expect 200 "the boss's own account" "$BOSS" GET /v1/me
jq -e '.account.role == "bureau_admin"' <<<"$REPLY" >/dev/null || it_fail "me: $REPLY"

# Everything else through the API.
expect 201 "a station administrator" "$BOSS" POST /v1/accounts '{"id":"sa1","name":"所长","role":"station_admin","station_id":"st-1"}'
expect 201 "an officer of st-1" "$BOSS" POST /v1/accounts '{"id":"o1","name":"民警甲","role":"officer","station_id":"st-1"}'
expect 201 "an officer of st-2" "$BOSS" POST /v1/accounts '{"id":"o2","role":"officer","station_id":"st-2"}'
expect 400 "a bad role" "$BOSS" POST /v1/accounts '{"id":"x","role":"chief","station_id":"st-1"}'
expect 400 "an unknown station" "$BOSS" POST /v1/accounts '{"id":"x","role":"officer","station_id":"st-9"}'
bind() { # ACCOUNT BY-TOKEN -> TOKEN in T
  expect 201 "a code for $1" "$2" POST "/v1/accounts/$1/binding-code"
  CODE=$(jq -r .code <<<"$REPLY")
  expect 201 "binding $1's device" - POST /v1/devices/bind "{\"code\":\"$CODE\",\"device\":\"$1 phone\"}"
  T=$(jq -r .token <<<"$REPLY")
}
bind sa1 "$BOSS"; SA1=$T
bind o1 "$SA1"; O1=$T          # a station administrator binds their own officers
expect 401 "the same code again" - POST /v1/devices/bind "{\"code\":\"$CODE\",\"device\":\"again\"}"
bind o2 "$BOSS"; O2=$T

# Roles keep to their station.
expect 200 "o1's own account" "$O1" GET /v1/me
jq -e '.account.station_id == "st-1" and .account.role == "officer"' <<<"$REPLY" >/dev/null || it_fail "me: $REPLY"
expect 403 "an officer listing accounts" "$O1" GET /v1/accounts
expect 200 "the station administrator's list" "$SA1" GET /v1/accounts
[ "$(jq -r '[.accounts[].id] | join(",")' <<<"$REPLY")" = "o1,sa1" ] || it_fail "sa1 sees: $REPLY"
expect 403 "a station administrator listing st-2" "$SA1" GET "/v1/accounts?station=st-2"
expect 404 "a station administrator coding st-2's officer" "$SA1" POST /v1/accounts/o2/binding-code
expect 403 "a station administrator making a bureau administrator" "$SA1" POST /v1/accounts '{"id":"evil","role":"bureau_admin"}'
expect 403 "an officer making an account" "$O1" POST /v1/accounts '{"id":"o9","role":"officer","station_id":"st-1"}'
expect 200 "the bureau's list" "$BOSS" GET /v1/accounts
[ "$(jq '.accounts | length' <<<"$REPLY")" = 4 ] || it_fail "the boss sees: $REPLY"

# The push stream: only the station's own, signed in.
stream() { curl -s -o /dev/null -m 3 -w '%{http_code}' "${@:2}" "$api/v1/stream?station=$1" || true; }
[ "$(stream st-2 -H "Authorization: Bearer $O1")" = 403 ] || it_fail "o1 opened st-2's stream"
[ "$(stream st-1)" = 401 ] || it_fail "a stream without a token"
[ "$(stream st-1 -H 'Authorization: Bearer gbt_forged')" = 401 ] || it_fail "a forged token"
[ "$(stream st-1 -H "Authorization: Bearer $O1")" = 200 ] || it_fail "o1 could not open st-1's stream"
[ "$(stream st-2 -H "Authorization: Bearer $BOSS")" = 200 ] || it_fail "the boss could not open st-2's stream"
[ "$(stream '*' -H "Authorization: Bearer $O1")" = 403 ] || it_fail "an officer opened every station's stream"
[ "$(stream '*' -H "Authorization: Bearer $SA1")" = 403 ] || it_fail "a station administrator opened every station's stream"
[ "$(stream '*' -H "Authorization: Bearer $BOSS")" = 200 ] || it_fail "the boss could not open every station's stream"

# Revoked and deactivated.
expect 204 "o1 signs the device out" "$O1" POST /v1/devices/revoke
expect 401 "o1's revoked token" "$O1" GET /v1/me
expect 204 "deactivating o2" "$BOSS" POST /v1/accounts/o2/deactivate
expect 401 "o2's token after deactivation" "$O2" GET /v1/me
expect 409 "a code for a deactivated account" "$BOSS" POST /v1/accounts/o2/binding-code

# Wrong codes: ten are answered (the reused code above was the first), then
# the address waits.
for i in $(seq 2 10); do expect 401 "wrong code $i" - POST /v1/devices/bind '{"code":"0000000000"}'; done
expect 429 "the eleventh wrong code" - POST /v1/devices/bind '{"code":"0000000000"}'

# Neither tokens nor codes in Redis or in the log.
dump=$(redis-cli -p "$IT_REDIS_PORT" --scan --pattern "${IT_PREFIX}*" | while read -r k; do
  echo "$k"; redis-cli -p "$IT_REDIS_PORT" --raw DUMP "$k" 2>/dev/null | strings; done)
for secret in "$BOSS" "$SA1" "$O1" "$O2" "$CODE" "${BOSS#gbt_}"; do
  ! grep -qF -- "$secret" <<<"$dump" || it_fail "a secret is stored in Redis: ${secret:0:8}..."
  ! grep -qF -- "$secret" "$IT_DIR/notifier.log" || it_fail "a secret is in the log: ${secret:0:8}..."
done

IT_OK=1
gb_log "PASS: accounts through the API, one-time codes, roles held to their station, revocation, rate limit, no secrets stored or logged"
