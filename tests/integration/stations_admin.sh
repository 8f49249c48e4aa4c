#!/usr/bin/env bash
# The bureau dashboard's station management and charts, through notifier's
# API with the three services on the real broker and Redis:
#   - a bureau administrator creates units (POST /v1/stations), which the
#     public API offers at once (nearest, search) and the administrators'
#     listing (GET /v1/stations?all=1) shows; a replace keeps the unit's
#     active flag; deactivate takes a unit out of nearest and search (not
#     out of the listing, nor its registrants out of the index), activate
#     brings it back; matcher accepts registrations to a unit made here and
#     refuses them while it is deactivated;
#   - every other role is refused (403), no token is 401, bad bodies are 400
#     naming the field, and a refused request changes nothing;
#   - GET /v1/stats/series: registrations, two alerts (high, medium), a claim
#     and a record at one unit, and a unit with figures on an earlier day
#     (written into Redis as the scripts would), give exact daily figures,
#     time-to-claim buckets and protected persons, for the unit and summed
#     over every unit (station=*).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env stations_admin
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
# Nothing may escalate or remind while the test reads the figures.
IT_NOTIFIER_ARGS="--notifier.escalate-after-s=86400 --notifier.remind-after-s=86400"
it_stack
api="http://127.0.0.1:$IT_HTTP"
redis() { redis-cli -p "$IT_REDIS_PORT" "$@"; }

# call TOKEN METHOD PATH [BODY]: prints "<status> <body>".
call() {
  local args=(-s -m 5 -o "$IT_DIR/body" -w '%{http_code}' -X "$2" -H 'content-type: application/json')
  [ "$1" = - ] || args+=(-H "Authorization: Bearer $1")
  [ -z "${4:-}" ] || args+=(--data-binary "$4")
  local code; code=$(curl "${args[@]}" "$api$3")
  echo "$code $(cat "$IT_DIR/body")"
}
expect() { # WANT-STATUS WHAT TOKEN METHOD PATH [BODY]; the body in REPLY
  local got; got=$(call "${@:3}")
  [ "${got%% *}" = "$1" ] || it_fail "$2: want $1, got $got"
  REPLY=${got#* }
}
# same WHAT GOT WANT: JSON equal, whatever the order of object keys.
same() {
  [ "$(jq -cS . <<<"$2")" = "$(jq -cS . <<<"$3")" ] || it_fail "$1: got $2, want $3"
}
ids() { jq -c '[.stations[].id]' <<<"$REPLY"; }

it_token boss "" bureau_admin; BOSS=$IT_TOKEN
it_token o1 st-1; O1=$IT_TOKEN
it_token sa1 st-1 station_admin; SA1=$IT_TOKEN

# ---- refusals: no token, other roles, bad bodies; none changes anything ----
UNIT='{"id":"st-api","name":"集美派出所","bureau":"xm-jimei","lat":24.5758,"lon":118.097,"real":true}'
for r in "POST /v1/stations $UNIT" "POST /v1/stations/st-1/deactivate" "POST /v1/stations/st-1/activate" \
  "GET /v1/stations?all=1"; do
  read -r method path body <<<"$r"
  expect 401 "$method $path without a token" - "$method" "$path" "$body"
  expect 401 "$method $path with a forged token" gbt_forged "$method" "$path" "$body"
  expect 403 "$method $path by an officer" "$O1" "$method" "$path" "$body"
  expect 403 "$method $path by a station administrator" "$SA1" "$method" "$path" "$body"
done
bad() { # BODY FIELD: 400 with an error naming the field
  expect 400 "body $1" "$BOSS" POST /v1/stations "$1"
  [[ $(jq -r .error <<<"$REPLY") == "$2"* ]] || it_fail "body $1: the error does not start with '$2': $REPLY"
}
long_name=$(printf '派%.0s' $(seq 43)) # 129 bytes
bad 'not json' 'the body is not a JSON object'
bad '[1]' 'the body is not a JSON object'
bad '{"name":"x","bureau":"b","lat":1,"lon":1,"real":true}' 'id: want a string'
bad '{"id":"st api","name":"x","bureau":"b","lat":1,"lon":1,"real":true}' 'id: want 1-64'
bad "{\"id\":\"$(printf 'a%.0s' $(seq 65))\",\"name\":\"x\",\"bureau\":\"b\",\"lat\":1,\"lon\":1,\"real\":true}" 'id: want 1-64'
bad '{"id":"x","name":"","bureau":"b","lat":1,"lon":1,"real":true}' 'name: want 1-128 bytes'
bad "{\"id\":\"x\",\"name\":\"$long_name\",\"bureau\":\"b\",\"lat\":1,\"lon\":1,\"real\":true}" 'name: want 1-128 bytes'
bad '{"id":"x","name":"a\tb","bureau":"b","lat":1,"lon":1,"real":true}' 'name: holds a control character'
bad '{"id":"x","name":"x","lat":1,"lon":1,"real":true}' 'bureau: want a string'
bad '{"id":"x","name":"x","bureau":"b/c","lat":1,"lon":1,"real":true}' 'bureau: want 1-64'
bad '{"id":"x","name":"x","bureau":"b","lat":"24.5","lon":1,"real":true}' 'lat: want a number'
bad '{"id":"x","name":"x","bureau":"b","lat":95.1,"lon":1,"real":true}' 'lat: 95.1 is outside -85.05..85.05 degrees'
bad '{"id":"x","name":"x","bureau":"b","lat":1,"real":true}' 'lon: want a number'
bad '{"id":"x","name":"x","bureau":"b","lat":1,"lon":-180.5,"real":true}' 'lon: -180.5 is outside -180..180 degrees'
bad '{"id":"x","name":"x","bureau":"b","lat":1,"lon":1}' 'real: want true'
bad '{"id":"x","name":"x","bureau":"b","lat":1,"lon":1,"real":1}' 'real: want true'
bad '{"id":"x","name":"x","bureau":"b","lat":1,"lon":1,"real":true,"active":"yes"}' 'active: want true or false'
bad '{"id":"x","name":"x","bureau":"b","latitude":1,"lat":1,"lon":1,"real":true}' 'latitude: unknown field'
expect 400 "all=0" "$BOSS" GET '/v1/stations?all=0'
expect 400 "all=1 with a name" "$BOSS" GET '/v1/stations?all=1&name=x'
expect 404 "deactivating an unknown unit" "$BOSS" POST /v1/stations/st-none/deactivate
expect 404 "activating an unknown unit" "$BOSS" POST /v1/stations/st-none/activate
expect 404 "a malformed id" "$BOSS" POST '/v1/stations/a%20b/deactivate'
expect 200 "the listing, before" "$BOSS" GET '/v1/stations?all=1'
[ "$(ids)" = '["st-1","st-2"]' ] || it_fail "a refused request made a unit: $REPLY"
expect 200 "st-1 after the refusals" - GET /v1/stations/st-1
[ "$(jq .active <<<"$REPLY")" = true ] || it_fail "a refused deactivate changed st-1: $REPLY"
! grep -q 'station.changed' "$IT_DIR/notifier.log" || it_fail "a refused request was logged as a change"

# ---- create: offered at once, listed ----
expect 201 "creating st-api" "$BOSS" POST /v1/stations "$UNIT"
same "the created unit" "$REPLY" \
  '{"id":"st-api","name":"集美派出所","bureau":"xm-jimei","lat":24.5758,"lon":118.097,"real":true,"active":true}'
expect 201 "creating a publicity unit, inactive" "$BOSS" POST /v1/stations \
  '{"id":"st-pub","name":"反诈宣传中心","bureau":"xm-jimei","lat":24.58,"lon":118.1,"real":false,"active":false}'
expect 201 "creating st-fix" "$BOSS" POST /v1/stations \
  '{"id":"st-fix","name":"东城派出所","bureau":"bj-dc","lat":39.9288,"lon":116.4161,"real":true}'
NEAR='/v1/stations/nearest?lat=24.5758&lon=118.097&n=20'
expect 200 "nearest" - GET "$NEAR"
[ "$(ids)" = '["st-api","st-2","st-1","st-fix"]' ] || it_fail "nearest: $REPLY"
expect 200 "search" - GET '/v1/stations?name=%E9%9B%86%E7%BE%8E' # 集美
[ "$(ids)" = '["st-api"]' ] || it_fail "search: $REPLY"
expect 200 "the listing" "$BOSS" GET '/v1/stations?all=1'
LISTING=$REPLY
same "the listing" "$REPLY" '{"stations":[
  {"id":"st-1","name":"思明派出所","bureau":"b1","lat":24.4539,"lon":118.082,"real":true,"active":true},
  {"id":"st-2","name":"湖里派出所","bureau":"b1","lat":24.5122,"lon":118.1462,"real":true,"active":true},
  {"id":"st-api","name":"集美派出所","bureau":"xm-jimei","lat":24.5758,"lon":118.097,"real":true,"active":true},
  {"id":"st-fix","name":"东城派出所","bureau":"bj-dc","lat":39.9288,"lon":116.4161,"real":true,"active":true},
  {"id":"st-pub","name":"反诈宣传中心","bureau":"xm-jimei","lat":24.58,"lon":118.1,"real":false,"active":false}]}'
# Replaced: 200, the new name, still active.
expect 200 "replacing st-api" "$BOSS" POST /v1/stations "${UNIT/集美派出所/集美区集美派出所}"
[ "$(jq -c '[.name, .active]' <<<"$REPLY")" = '["集美区集美派出所",true]' ] || it_fail "replace: $REPLY"
expect 200 "st-api after the replace" - GET /v1/stations/st-api
[ "$(jq -c '[.name, .active]' <<<"$REPLY")" = '["集美区集美派出所",true]' ] || it_fail "get after replace: $REPLY"

# ---- the unit at work: registrations and alerts, the series ----
day_of() { date -u -d "@$(( $1 + 8 * 3600 ))" +%Y%m%d; } # the China day of a Unix time
dash() { echo "${1:0:4}-${1:4:2}-${1:6:2}"; }
T0=$(date +%s)
D_START=$(day_of "$T0")
it_device dev st-api
OFFICER=$IT_TOKEN
reg() { # REQUEST-ID NUMBER JSON-REST
  it_produce "$IT_TOPIC_gb_registry" "$2" "{\"request_id\":\"$1\",\"registrant\":\"$2\"$3}"
}
for i in 1 2 3; do reg "r$i" 1390000007$i ',"op":"register","station_id":"st-api"'; done
reg r1f 13900000071 ',"op":"add_family","family":"13800000079","relation":"母亲"'
reg r3u 13900000073 ',"op":"unfollow"'
for r in "r1 op=register" "r2 op=register" "r3 op=register" "r1f op=add_family" "r3u op=unfollow"; do
  it_wait_log matcher "registry.applied request_id=${r% *} ${r#* } accepted=yes" 30 "registration ${r% *} applied"
done
F=+8617000000071
it_produce "$IT_TOPIC_gb_intel" "phone:$F" "{\"kind\":\"phone\",\"value\":\"$F\"}"
it_produce "$IT_TOPIC_gb_intel" domain:fraud-site-71.com '{"kind":"domain","value":"fraud-site-71.com"}'
it_wait_log matcher "intel.applied kind=phone action=add value=\\$F" 30 "the fraud number"
it_wait_log matcher 'intel.applied kind=domain action=add value=fraud-site-71.com' 30 "the fraud site"
it_call sa-1 $F 13900000071 300
it_wait_alert dev +8613900000071 '.revision == 1 and .risk == "high"' 60 "the high alert"
printf '{"event_id":"v-72","phone":"13900000072","kind":"site","target":"https://www.fraud-site-71.com/","ts":%s,"partner":"p1"}\n' \
  "$(( $(date +%s) * 1000 ))" |
  kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_visits" -H content-type=application/json 2>>"$IT_DIR/kcat.log"
it_wait_alert dev +8613900000072 '.revision == 1 and .risk == "medium"' 60 "the medium alert"
HIGH=$(it_alerts_for dev +8613900000071 | jq -r .alert_id | head -1)
expect 200 "claiming the high alert" "$OFFICER" POST "/v1/alerts/$HIGH/claim"
expect 200 "resolving it" "$OFFICER" POST "/v1/alerts/$HIGH/resolve" '{"method":"call","outcome":"dissuaded","notes":"已劝阻"}'

# st-fix has figures 3 days ago (and 14 days ago, outside the default 14
# days), as the scripts and the registry write them.
D3=$(day_of $(( T0 - 3 * 86400 ))) D14=$(day_of $(( T0 - 14 * 86400 )))
redis HSET "${IT_PREFIX}ast:{st:st-fix}:$D3" risk:high 2 risk:low 1 claimed 4 outcome:not_fraud 1 \
  outcome:duplicate 1 escalated:station_admin 1 escalated:bureau 1 reminders 2 >/dev/null
# Bucket edges: 30 s is in the first, 30.001 s in the second; 3600 s in the
# seventh, 3600.001 s in the last.
redis ZADD "${IT_PREFIX}ast:{st:st-fix}:$D3:ttc" 30000 fa 30001 fb 3600000 fc 3600001 fd >/dev/null
redis HSET "${IT_PREFIX}statd:{st:st-fix}:$D3" registrations 5 follows 4 unfollows 2 >/dev/null
redis HSET "${IT_PREFIX}stat:{st:st-fix}" protected 7 registered 5 followers 3 >/dev/null
redis HSET "${IT_PREFIX}ast:{st:st-fix}:$D14" risk:high 100 >/dev/null
redis HSET "${IT_PREFIX}statd:{st:st-fix}:$D14" registrations 100 >/dev/null

# The time to claim of the one claim, in ms as notifier stored it under the
# day of the claim, and its bucket: (previous, bound] for 30 60 120 300 600
# 1800 3600 s, then longer.
ttc_ms=$(redis ZSCORE "${IT_PREFIX}ast:{st:st-api}:$(day_of "$(date +%s)"):ttc" "$HIGH")
[ -n "$ttc_ms" ] || ttc_ms=$(redis ZSCORE "${IT_PREFIX}ast:{st:st-api}:$D_START:ttc" "$HIGH")
[ -n "$ttc_ms" ] || it_fail "no time to claim stored for $HIGH"
bounds=(30 60 120 300 600 1800 3600)
bucket=7
for b in 0 1 2 3 4 5 6; do
  if [ "$(jq -n "$ttc_ms <= ${bounds[$b]} * 1000")" = true ]; then bucket=$b; break; fi
done
API_TTC=$(jq -cn --argjson b "$bucket" '[range(8)] | map(if . == $b then 1 else 0 end)')

ZERO='{"alerts":{"high":0,"medium":0,"low":0},"claimed":0,"outcomes":{},"escalated":0,"reminders":0,"registrations":0,"follows":0,"unfollows":0}'
API_DAY='{"alerts":{"high":1,"medium":1,"low":0},"claimed":1,"outcomes":{"dissuaded":1},"escalated":0,"reminders":0,"registrations":3,"follows":3,"unfollows":1}'
FIX_DAY='{"alerts":{"high":2,"medium":0,"low":1},"claimed":4,"outcomes":{"not_fraud":1,"duplicate":1},"escalated":2,"reminders":2,"registrations":5,"follows":4,"unfollows":2}'
# Whether the China day is still the one the figures were made on: a test
# run across midnight China time cannot know which day holds what.
same_day() {
  [ "$(day_of "$(date +%s)")" = "$D_START" ] && return 0
  gb_log "the China day turned during the test: $1 checked for its shape only"
  return 1
}
# check WHAT N FIGURES-BY-DAYS-AGO TTC PROTECTED: the answer in REPLY has N
# days ending today, each day exactly as given by how many days ago it is
# (figures left out are 0, days left out all 0), the time-to-claim counts
# over the period, and the protected persons now.
check() {
  local what=$1 n=$2 byago=$3 ttc=$4 protected=$5 i ago want
  [ "$(jq '.days | length' <<<"$REPLY")" = "$n" ] || it_fail "$what: want $n days: $REPLY"
  [ "$(jq -c '.time_to_claim.bounds_s' <<<"$REPLY")" = '[30,60,120,300,600,1800,3600]' ] ||
    it_fail "$what: time-to-claim bounds: $REPLY"
  [ "$(jq .protected_total <<<"$REPLY")" = "$protected" ] || it_fail "$what: protected_total: $REPLY"
  same_day "$what" || return 0
  [ "$(jq -c '.time_to_claim.counts' <<<"$REPLY")" = "$ttc" ] ||
    it_fail "$what: time-to-claim counts $(jq -c .time_to_claim.counts <<<"$REPLY"), want $ttc"
  [ "$(jq '.time_to_claim.counts | add' <<<"$REPLY")" = "$(jq '[.days[].claimed] | add' <<<"$REPLY")" ] ||
    it_fail "$what: the time-to-claim counts do not add up to the claims: $REPLY"
  for ((i = 0; i < n; i++)); do
    ago=$(( n - 1 - i ))
    want=$(jq -c --arg a "$ago" --arg d "$(dash "$(day_of $(( T0 - ago * 86400 )))")" --argjson z "$ZERO" \
      '{day: $d} + ($z * (.[$a] // {}))' <<<"$byago")
    same "$what: day $i" "$(jq -c ".days[$i]" <<<"$REPLY")" "$want"
  done
}
SUM_TTC=$(jq -cn --argjson a "$API_TTC" '[range(8)] | map($a[.] + ([1,1,0,0,0,0,1,1][.]))')

expect 200 "the unit's officer, by default" "$OFFICER" GET /v1/stats/series
[ "$(jq -r .station <<<"$REPLY")" = st-api ] || it_fail "the default station: $REPLY"
check "st-api, 14 days" 14 "{\"0\":$API_DAY}" "$API_TTC" 4
SERIES_EXAMPLE=$REPLY
expect 200 "st-api over 1 day" "$BOSS" GET '/v1/stats/series?station=st-api&days=1'
check "st-api, 1 day" 1 "{\"0\":$API_DAY}" "$API_TTC" 4
expect 200 "st-fix over 5 days" "$BOSS" GET '/v1/stats/series?station=st-fix&days=5'
check "st-fix, 5 days" 5 "{\"3\":$FIX_DAY}" '[1,1,0,0,0,0,1,1]' 7
expect 200 "st-fix over 15 days" "$BOSS" GET '/v1/stats/series?station=st-fix&days=15'
check "st-fix, 15 days" 15 "{\"3\":$FIX_DAY,\"14\":{\"alerts\":{\"high\":100},\"registrations\":100}}" \
  '[1,1,0,0,0,0,1,1]' 7
expect 200 "every unit, by default for the bureau" "$BOSS" GET /v1/stats/series
[ "$(jq -r .station <<<"$REPLY")" = '*' ] || it_fail "the bureau's default: $REPLY"
check "every unit" 14 "{\"0\":$API_DAY,\"3\":$FIX_DAY}" "$SUM_TTC" 11
STAR_EXAMPLE=$REPLY
expect 200 "every unit, named" "$BOSS" GET '/v1/stats/series?station=*&days=31'
check "every unit, 31 days" 31 "{\"0\":$API_DAY,\"3\":$FIX_DAY,\"14\":{\"alerts\":{\"high\":100},\"registrations\":100}}" \
  "$SUM_TTC" 11
# Refused: another unit's officer (403, whether it exists or not), every
# unit but to the bureau, no token; days outside 1-31; an unknown unit.
expect 403 "st-1's officer reading st-api" "$O1" GET '/v1/stats/series?station=st-api'
expect 403 "st-api's officer reading st-1" "$OFFICER" GET '/v1/stats/series?station=st-1'
expect 403 "an officer reading an unknown unit" "$OFFICER" GET '/v1/stats/series?station=st-none'
expect 403 "an officer reading every unit" "$OFFICER" GET '/v1/stats/series?station=*'
expect 403 "a station administrator reading every unit" "$SA1" GET '/v1/stats/series?station=*'
expect 200 "a station administrator, their own" "$SA1" GET /v1/stats/series
[ "$(jq -r '.station' <<<"$REPLY")" = st-1 ] || it_fail "sa1's default: $REPLY"
expect 401 "the series without a token" - GET /v1/stats/series
expect 404 "an unknown unit" "$BOSS" GET '/v1/stats/series?station=st-none'
for d in 0 32 -1 x 1.5 ''; do
  expect 400 "days=$d" "$BOSS" GET "/v1/stats/series?station=st-api&days=$d"
  [ "$(jq -r .error <<<"$REPLY")" = "days: a whole number 1-31" ] || it_fail "days=$d: $REPLY"
done

# ---- deactivate: no longer offered, kept with its registrants ----
expect 204 "deactivating st-api" "$BOSS" POST /v1/stations/st-api/deactivate
expect 200 "nearest without st-api" - GET "$NEAR"
[ "$(ids)" = '["st-2","st-1","st-fix"]' ] || it_fail "nearest after deactivate: $REPLY"
expect 200 "search without st-api" - GET '/v1/stations?name=%E9%9B%86%E7%BE%8E'
[ "$(ids)" = '[]' ] || it_fail "search after deactivate: $REPLY"
expect 200 "st-api, deactivated" - GET /v1/stations/st-api
[ "$(jq .active <<<"$REPLY")" = false ] || it_fail "get after deactivate: $REPLY"
expect 200 "the listing after deactivate" "$BOSS" GET '/v1/stations?all=1'
[ "$(jq -c '[.stations[] | [.id, .active]]' <<<"$REPLY")" = \
  '[["st-1",true],["st-2",true],["st-api",false],["st-fix",true],["st-pub",false]]' ] || it_fail "listing: $REPLY"
# A replace keeps it deactivated.
expect 200 "replacing the deactivated st-api" "$BOSS" POST /v1/stations "$UNIT"
[ "$(jq .active <<<"$REPLY")" = false ] || it_fail "a replace activated st-api: $REPLY"
expect 200 "nearest after the replace" - GET "$NEAR"
[ "$(ids)" = '["st-2","st-1","st-fix"]' ] || it_fail "the replace offered st-api again: $REPLY"
# Its registrants and alerts stay; a new registration is refused.
expect 200 "st-api's figures" "$BOSS" GET /v1/stats/stations/st-api
[ "$(jq -c '[.registered, .protected, .followers]' <<<"$REPLY")" = '[3,4,2]' ] || it_fail "st-api's figures: $REPLY"
[ "$(redis HGET "${IT_PREFIX}al:{st:st-api}:$HIGH" state)" = resolved ] || it_fail "st-api's alert is gone"
reg r4 13900000074 ',"op":"register","station_id":"st-api"'
it_wait_log matcher 'registry.applied request_id=r4 op=register accepted=no' 30 "r4 refused"
# ---- activate: offered again ----
expect 204 "activating st-api" "$BOSS" POST /v1/stations/st-api/activate
expect 200 "nearest with st-api again" - GET "$NEAR"
[ "$(ids)" = '["st-api","st-2","st-1","st-fix"]' ] || it_fail "nearest after activate: $REPLY"
expect 200 "st-api, active" - GET /v1/stations/st-api
same "st-api, active again" "$REPLY" \
  '{"id":"st-api","name":"集美派出所","bureau":"xm-jimei","lat":24.5758,"lon":118.097,"real":true,"active":true}'
reg r5 13900000074 ',"op":"register","station_id":"st-api"'
it_wait_log matcher 'registry.applied request_id=r5 op=register accepted=yes' 30 "r5 accepted"

# ---- every change logged, with who made it ----
changes=$(grep -o 'event=station.changed id=[^ ]* by=[^ ]* action=[a-z]*' "$IT_DIR/notifier.log" |
  sed 's/event=station.changed //' | tr '\n' ';')
[ "$changes" = "id=st-api by=boss action=created;id=st-pub by=boss action=created;id=st-fix by=boss action=created;id=st-api by=boss action=replaced;id=st-api by=boss action=deactivated;id=st-api by=boss action=replaced;id=st-api by=boss action=activated;" ] ||
  it_fail "logged changes: $changes"

jq -c '.stations[2]' <<<"$LISTING" >"$IT_DIR/example-listing.json"
echo "$SERIES_EXAMPLE" >"$IT_DIR/example-series.json"
echo "$STAR_EXAMPLE" >"$IT_DIR/example-series-star.json"
IT_OK=1
gb_log "PASS: units created, replaced (active kept), deactivated and activated through the API by the bureau only; series exact for a unit and for every unit (time to claim in bucket $bucket)"
