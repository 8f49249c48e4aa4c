#!/usr/bin/env bash
# Police stations: the bureau administrator imports units with gb-stations
# (a bad line is refused and reported, the rest imported, twice with the
# same result); the registration back end asks notifier for the 5 nearest,
# searches by name and fetches one; a deactivated unit is no longer offered
# but keeps its record.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

it_init stations
it_topics gb.alerts
it_redis
it_hash_key
port=$(gb_free_port)
prefix="t$IT_SUFFIX:"
api="http://127.0.0.1:$port"
tool() { "$GB_BUILD_DIR/tools/gb-stations" --redis "$IT_REDIS_URL" --prefix "$prefix" "$@"; }

it_start notifier notifier/notifier --log.level=debug \
  --redis.url="$IT_REDIS_URL" --redis.prefix="$prefix" \
  --topic.alerts="$IT_TOPIC_gb_alerts" --kafka.bootstrap.servers="$IT_BOOTSTRAP" \
  --notifier.group="n$IT_SUFFIX" --http.port="$port" --index.hash-key-file="$IT_HASH_KEY_FILE"
healthy() { curl -sf -m 2 "$api/healthz" >/dev/null; }
gb_wait_until 30 "notifier's HTTP API" healthy || it_fail "notifier did not answer /healthz"

# ---- import ----
csv=$IT_DIR/stations.csv
cat >"$csv" <<'EOF'
id,name,bureau,lat,lon,real
xm-sm-siming,思明派出所,xm-siming,24.4539,118.0820,1
xm-sm-zhongshan,中山派出所,xm-siming,24.4575,118.0768,1
xm-sm-kaiyuan,开元派出所,xm-siming,24.4690,118.0950,1
xm-sm-lujiang,鹭江派出所,xm-siming,24.4655,118.0760,1
xm-sm-xiagang,厦港派出所,xm-siming,24.4427,118.0918,1
xm-sm-jialian,嘉莲派出所,xm-siming,24.4870,118.1230,1
xm-hl-dianqian,殿前派出所,xm-huli,24.5270,118.1120,1
xm-sm-gulangyu,鼓浪屿派出所 (Gulangyu),xm-siming,24.4460,118.0640,1
xm-hl-gaoqi,"高崎机场派出所 (GAOQI Airport)",xm-huli,24.5370,118.1280,true
xm-broken,错误坐标派出所,xm-siming,95.4539,118.0820,1
xm-pub,终结诈骗防诈宣传中心,xm-gaj,24.4790,118.0890,0
sz-ft-futian,福田派出所,sz-futian,22.5410,114.0570,1
sz-ns-shekou,蛇口派出所,sz-nanshan,22.4850,113.9160,1
EOF
want_report=$'line\t11\tlat: 95.4539 is outside -85.05..85.05 degrees\nimported\t12\nrefused\t1'
for round in 1 2; do # the second import changes nothing
  rc=0
  report=$(tool import "$csv" 2>>"$IT_DIR/tool.err") || rc=$?
  [ "$rc" -eq 2 ] || it_fail "import round $round: want exit 2 for a refused line, got $rc"
  [ "$report" = "$want_report" ] || it_fail "import round $round report: $report"
  tool list >"$IT_DIR/list.$round" || it_fail "list failed"
done
cmp -s "$IT_DIR/list.1" "$IT_DIR/list.2" || it_fail "a second import changed the units"
[ "$(wc -l <"$IT_DIR/list.1")" -eq 12 ] || it_fail "want 12 units listed: $(cat "$IT_DIR/list.1")"
json_report=$(tool --json import "$csv" 2>>"$IT_DIR/tool.err" || true)
[ "$(jq -c '[.imported, .refused, .refused_lines[0].line]' <<<"$json_report")" = '[12,1,11]' ] ||
  it_fail "import --json report: $json_report"

# ---- the HTTP API ----
# get URL: prints "STATUS BODY" on one line.
get() { curl -s -m 5 -o "$IT_DIR/body" -w '%{http_code}' "$@" && printf ' %s' "$(cat "$IT_DIR/body")"; }
expect() { # expect STATUS JQ-FILTER WANT URL-ARGS...
  local status=$1 filter=$2 want=$3 out got
  shift 3
  out=$(get "$@") || it_fail "curl $*: failed"
  [ "${out%% *}" = "$status" ] || it_fail "curl $*: want $status, got $out"
  got=$(jq -c "$filter" <<<"${out#* }") || it_fail "curl $*: not JSON: $out"
  [ "$got" = "$want" ] || it_fail "curl $*: $filter is $got, want $want (body ${out#* })"
}
near() { echo "$api/v1/stations/nearest?lat=24.4550&lon=118.0850${1:-}"; }
increasing='[.stations[].distance_m] | . == sort and (. | unique | length) == length'

# The 5 nearest by default, nearest first, with rising distances.
expect 200 '[.stations[].id]' \
  '["xm-sm-siming","xm-sm-zhongshan","xm-sm-lujiang","xm-sm-xiagang","xm-sm-kaiyuan"]' "$(near)"
expect 200 "$increasing" true "$(near)"
expect 200 '.stations[0] | [.name, .bureau, .lat, .lon, .real, .active, (.distance_m > 250 and .distance_m < 400)]' \
  '["思明派出所","xm-siming",24.4539,118.082,true,true,true]' "$(near)"
# The publicity unit is offered, plainly marked as not a police station.
expect 200 '[.stations[] | select(.real == false) | .id]' '["xm-pub"]' "$(near '&n=7')"
expect 200 '.stations | length' 12 "$(near '&n=20')"
expect 200 "$increasing" true "$(near '&n=20')"
# From Shenzhen: its two stations, then Xiamen's nearest, 400+ km away.
expect 200 '[.stations[].id]' '["sz-ft-futian","sz-ns-shekou","xm-sm-gulangyu"]' \
  "$api/v1/stations/nearest?lat=22.5400&lon=114.0500&n=3"

# Search: a Chinese substring, an ASCII one in another case.
expect 200 '[.stations[].id]' '["xm-sm-siming"]' -G "$api/v1/stations" --data-urlencode 'name=思明'
expect 200 '[.stations[] | [.id, .real]]' '[["xm-pub",false]]' -G "$api/v1/stations" --data-urlencode 'name=诈骗'
expect 200 '[.stations[].id]' '["xm-hl-gaoqi"]' "$api/v1/stations?name=airPORT"
expect 200 '[.stations[].id]' '["xm-sm-gulangyu"]' "$api/v1/stations?name=gulangYU"
expect 200 '.stations | length' 3 -G "$api/v1/stations" --data-urlencode 'name=派出所' --data 'n=3'
expect 200 '.stations' '[]' "$api/v1/stations?name=nowhere"

# One unit; unknown ones; malformed requests.
expect 200 '[.id, .name, .bureau, .lat, .lon, .real, .active]' \
  '["xm-hl-gaoqi","高崎机场派出所 (GAOQI Airport)","xm-huli",24.537,118.128,true,true]' \
  "$api/v1/stations/xm-hl-gaoqi"
expect 404 '.error' '"no such station"' "$api/v1/stations/xm-nowhere"
expect 404 '.error' '"no such station"' "$api/v1/stations/xm-broken"
for bad in 'lat=95&lon=118' 'lat=abc&lon=118' 'lon=118' 'lat=1e1&lon=118'; do
  expect 400 '.error | startswith("lat:")' true "$api/v1/stations/nearest?$bad"
done
expect 400 '.error | startswith("lon:")' true "$api/v1/stations/nearest?lat=24.4&lon=181"
for bad in 0 21 x; do
  expect 400 '.error | startswith("n:")' true "$(near "&n=$bad")"
done
expect 400 '.error | startswith("name:")' true "$api/v1/stations"
expect 400 '.error | startswith("name:")' true "$api/v1/stations?name="
expect 400 '.error | startswith("name:")' true "$api/v1/stations?name=%FF"

# ---- deactivation ----
tool deactivate xm-sm-siming >/dev/null || it_fail "deactivate failed"
expect 200 '[.stations[].id]' \
  '["xm-sm-zhongshan","xm-sm-lujiang","xm-sm-xiagang","xm-sm-kaiyuan","xm-sm-gulangyu"]' "$(near)"
expect 200 '.stations' '[]' -G "$api/v1/stations" --data-urlencode 'name=思明'
expect 200 '[.id, .active]' '["xm-sm-siming",false]' "$api/v1/stations/xm-sm-siming"
[ "$(tool get xm-sm-siming | cut -f1,7)" = $'xm-sm-siming\t0' ] || it_fail "tool get after deactivate"

# ---- the tool's own answers agree ----
[ "$(tool nearest 24.4550 118.0850 | cut -f1 | paste -sd,)" = \
  "xm-sm-zhongshan,xm-sm-lujiang,xm-sm-xiagang,xm-sm-kaiyuan,xm-sm-gulangyu" ] ||
  it_fail "tool nearest: $(tool nearest 24.4550 118.0850)"
[ "$(tool search GAOQI | cut -f1)" = xm-hl-gaoqi ] || it_fail "tool search"
rc=0; tool get xm-nowhere 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || it_fail "tool get of an unknown id: want exit 2, got $rc"
rc=0; tool add --id x-1 --name X --bureau b --lat 91 --lon 0 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || it_fail "tool add with lat 91: want exit 2, got $rc"
rc=0; "$GB_BUILD_DIR/tools/gb-stations" --redis redis://127.0.0.1:1 --timeout-ms 200 list 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || it_fail "tool without Redis: want exit 1, got $rc"

# Activated again, it is offered again.
tool activate xm-sm-siming >/dev/null || it_fail "activate failed"
expect 200 '.stations[0].id' '"xm-sm-siming"' "$(near)"

IT_OK=1
gb_log "PASS: import with a refused line (idempotent), nearest, search, get, 404/400, deactivation"
