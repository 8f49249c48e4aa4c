#!/usr/bin/env bash
# Bulk import of registrants with gb-registry: 20 registrants at two
# stations with family numbers (one shared by three registrants, a
# registrant protected as another's family number, a ninth number that is
# refused), a bad number, an unknown station and a quoted cell with a comma.
# Checks the exit status, summary, report (no phone numbers in it), the
# Redis index and the station figures; a second import changes nothing;
# reconcile finds no drift, then finds and fixes a corrupted figure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init registry_import
it_redis
it_hash_key
it_topics gb.index
IT_PREFIX="t$IT_SUFFIX:"
it_station st-a "思明派出所" 24.4539 118.0820
it_station st-b "湖里派出所" 24.5122 118.1462

# Options on the command line for some calls, from the environment for others.
reg() {
  "$GB_BUILD_DIR/tools/gb-registry" --redis.url="$IT_REDIS_URL" --redis.prefix "$IT_PREFIX" \
    --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file "$IT_KEYS_FILE" "$@"
}
reg_env() {
  GB_REDIS_URL=$IT_REDIS_URL GB_REDIS_PREFIX=$IT_PREFIX GB_INDEX_HASH_KEY_FILE=$IT_HASH_KEY_FILE \
    GB_INDEX_KEYS_FILE=$IT_KEYS_FILE "$GB_BUILD_DIR/tools/gb-registry" "$@"
}

csv=$IT_DIR/registrants.csv
nine="13700000101:一;13700000102:二;13700000103:三;13700000104:四;13700000105:五"
nine="$nine;13700000106:六;13700000107:七;13700000108:八;13700000109:九"
cat >"$csv" <<EOF
registrant,station_id,name,age,occupation,lat,lon,following,family
13900000101,st-a,"Zhang, San",70,退休教师,24.45,118.08,1,"13800000001:母亲;13700000001:儿子"
13900000102,st-a,李四,65,退休,24.46,118.09,1,13800000001:母亲
13900000103,st-a,王五,40,教师,,,0,
+86 139 0000 0104,st-a,赵六,35,,,,0,
13900000105,st-a,钱七,50,医生,,,1,13700000005:女儿
13900000106,st-a,孙八,,,,,1,
13900000107,st-a,周九,,,,,,
1390000,st-a,坏号码,30,,,,1,
13900000108,st-a,吴十,,,,,1,
13900000109,st-a,郑十一,,,,,1,
13900000110,st-a,"冯, 十二",,,,,yes,
13900000111,st-b,陈一,72,,24.51,118.14,1,13800000001:姑妈
13900000112,st-b,褚二,45,,,,1,13900000101:父亲
13900000130,st-x,无此站,,,,,1,13700000030:x
13900000113,st-b,卫三,,,,,1,
13900000114,st-b,蒋四,,,,,1,
13900000115,st-b,沈五,,,,,false,
13900000116,st-b,韩六,,,,,1,
13900000117,st-b,杨七,,,,,1,
13900000118,st-b,朱八,,,,,1,
13900000119,st-b,秦九,,,,,1,
13900000120,st-b,尤十,80,,,,1,$nine
EOF
want_report="line 9: registrant: phone: 7 digits, a Chinese mobile has 11
line 15: station_id st-x: no such unit, or deactivated
line 23: family number 9: at most 8 family numbers: remove one before adding another"
want_summary='lines=22 registrants=20 unprotected=0 family=14 refused=3 '
want_reasons='refused by reason: bad_registrant=1 unknown_station=1 family_limit=1'

check_import() { # round rc
  local out=$IT_DIR/import.$1.out
  grep -q "gb-registry: import $want_summary" "$out" || it_fail "round $1 summary: $(cat "$out")"
  grep -qx "gb-registry: $want_reasons" "$out" || it_fail "round $1 reasons: $(cat "$out")"
  [ "$(cat "$IT_DIR/report.$1")" = "$want_report" ] || it_fail "round $1 report: $(cat "$IT_DIR/report.$1")"
  # The report names lines and reasons, never a number (the line numbers are short).
  grep -E '[0-9]{5,}' "$IT_DIR/report.$1" && it_fail "round $1 report holds a phone number"
  return 0
}

rc=0
# The first import also publishes the index's change feed, as matcher does.
reg --kafka.bootstrap.servers="$IT_BOOTSTRAP" --topic.index="$IT_TOPIC_gb_index" \
  import "$csv" --report "$IT_DIR/report.1" >"$IT_DIR/import.1.out" 2>"$IT_DIR/import.1.log" || rc=$?
[ "$rc" = 0 ] || it_fail "import: exit $rc, want 0: $(cat "$IT_DIR/import.1.log")"
check_import 1
h1=$(it_numhash +8613900000101)
timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_index" -o beginning -e -q -f '%k\n' \
  >"$IT_DIR/index_keys.txt" 2>/dev/null || true
grep -qx "pn:$h1:$h1" "$IT_DIR/index_keys.txt" || it_fail "the import published no gb.index entry for a registrant"

# ---- the index ----
rc() { redis-cli -p "$IT_REDIS_PORT" "$@"; }
for i in $(seq 101 120); do
  h=$(it_numhash "+86139000001${i:1}")
  [ "$(rc EXISTS "${IT_PREFIX}rg:{$h}")" = 1 ] || it_fail "registrant 139000001${i:1} not in the index"
  [ "$(rc HEXISTS "${IT_PREFIX}pn:{$h}" "$h")" = 1 ] || it_fail "registrant 139000001${i:1} not protected"
done
[ "$(rc EXISTS "${IT_PREFIX}rg:{$(it_numhash +8613900000130)}")" = 0 ] || it_fail "the unknown station's registrant was recorded"
[ "$(rc EXISTS "${IT_PREFIX}pn:{$(it_numhash +8613700000030)}")" = 0 ] || it_fail "the unknown station's family number is protected"
# The mother of 101 and 102 (st-a) is the aunt of 111 (st-b): three owners.
hm=$(it_numhash +8613800000001)
[ "$(rc HLEN "${IT_PREFIX}pn:{$hm}")" = 3 ] || it_fail "the shared number has $(rc HLEN "${IT_PREFIX}pn:{$hm}") owners, want 3"
rc HVALS "${IT_PREFIX}pn:{$hm}" | cut -f1 | sort | tr '\n' ' ' | grep -qx 'st-a st-a st-b ' ||
  it_fail "the shared number's stations: $(rc HVALS "${IT_PREFIX}pn:{$hm}" | cut -f1 | tr '\n' ' ')"
# 101 is protected by themself (st-a) and as 112's father (st-b).
h101=$(it_numhash +8613900000101)
[ "$(rc HLEN "${IT_PREFIX}pn:{$h101}")" = 2 ] || it_fail "101 has $(rc HLEN "${IT_PREFIX}pn:{$h101}") owners, want 2"
for n in 13700000001 13700000005 13700000101 13700000108; do
  [ "$(rc EXISTS "${IT_PREFIX}pn:{$(it_numhash +86$n)}")" = 1 ] || it_fail "family number $n not protected"
done
[ "$(rc EXISTS "${IT_PREFIX}pn:{$(it_numhash +8613700000109)}")" = 0 ] || it_fail "the 9th family number is protected"
h120=$(it_numhash +8613900000120)
[ "$(rc HKEYS "${IT_PREFIX}rg:{$h120}" | grep -c '^f:')" = 8 ] || it_fail "120 does not have 8 family numbers"
# The quoted name with a comma was read as one cell, sealed: never in the clear.
[[ $(rc HGETALL "${IT_PREFIX}rg:{$h101}") == *Zhang* ]] && it_fail "a profile is in the clear"

# ---- the figures ----
# st-a: 10 registered (103, 104 not following); protected = 10 + mother + 2 children = 13.
# st-b: 10 registered (115 not following); protected = 10 + aunt + 101 + 8 of 120's = 20.
day=$(TZ=Asia/Shanghai date +%Y%m%d)
want_a="station=st-a
day=$day
followers=8
registered=10
protected=13
registrations=10
follows=8
unfollows=0
net_follows=8"
want_b="station=st-b
day=$day
followers=9
registered=10
protected=20
registrations=10
follows=9
unfollows=0
net_follows=9"
reg stats st-a >"$IT_DIR/stats-a.1" 2>>"$IT_DIR/tool.log" || it_fail "stats st-a failed"
reg_env stats st-b >"$IT_DIR/stats-b.1" 2>>"$IT_DIR/tool.log" || it_fail "stats st-b failed"
[ "$(cat "$IT_DIR/stats-a.1")" = "$want_a" ] || it_fail "st-a figures: $(cat "$IT_DIR/stats-a.1")"
[ "$(cat "$IT_DIR/stats-b.1")" = "$want_b" ] || it_fail "st-b figures: $(cat "$IT_DIR/stats-b.1")"
json=$(reg_env stats st-b --json --day "$day" 2>>"$IT_DIR/tool.log") || it_fail "stats --json failed"
[ "$(jq -c '[.station, .day, .followers, .registered, .protected, .registrations]' <<<"$json")" = "[\"st-b\",$day,9,10,20,10]" ] ||
  it_fail "stats --json: $json"
old=$(reg stats st-a --day 20200101 2>>"$IT_DIR/tool.log") || it_fail "stats --day failed"
[[ $old == *$'registrations=0\nfollows=0'* ]] || it_fail "stats of another day: $old"
rc=0; reg stats st-nowhere >/dev/null 2>>"$IT_DIR/tool.log" || rc=$?
[ "$rc" = 2 ] || it_fail "stats of an unknown station: exit $rc, want 2"

# ---- a second import changes nothing (--strict: refused lines make it exit 2) ----
rc=0
reg_env import "$csv" --strict --report "$IT_DIR/report.2" >"$IT_DIR/import.2.out" 2>"$IT_DIR/import.2.log" || rc=$?
[ "$rc" = 2 ] || it_fail "import --strict: exit $rc, want 2: $(cat "$IT_DIR/import.2.log")"
check_import 2
reg stats st-a >"$IT_DIR/stats-a.2" 2>>"$IT_DIR/tool.log" &&
  reg stats st-b >"$IT_DIR/stats-b.2" 2>>"$IT_DIR/tool.log" || it_fail "stats failed"
cmp -s "$IT_DIR/stats-a.1" "$IT_DIR/stats-a.2" || it_fail "st-a changed: $(cat "$IT_DIR/stats-a.2")"
cmp -s "$IT_DIR/stats-b.1" "$IT_DIR/stats-b.2" || it_fail "st-b changed: $(cat "$IT_DIR/stats-b.2")"
[ "$(rc HLEN "${IT_PREFIX}pn:{$hm}")" = 3 ] || it_fail "the shared number's owners changed"

# ---- usage errors ----
rc=0; reg import >/dev/null 2>>"$IT_DIR/tool.log" || rc=$?
[ "$rc" = 2 ] || it_fail "import without a file: exit $rc, want 2"
rc=0; reg import "$IT_DIR/nonexistent.csv" >/dev/null 2>>"$IT_DIR/tool.log" || rc=$?
[ "$rc" = 2 ] || it_fail "import of a missing file: exit $rc, want 2"
rc=0
GB_REDIS_URL=$IT_REDIS_URL "$GB_BUILD_DIR/tools/gb-registry" import "$csv" >/dev/null 2>"$IT_DIR/nokey.log" || rc=$?
[ "$rc" = 2 ] && grep -q 'hash' "$IT_DIR/nokey.log" || it_fail "import without the secrets: exit $rc: $(cat "$IT_DIR/nokey.log")"

# ---- reconcile ----
rc=0
reg reconcile >"$IT_DIR/rec.1.log" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -qx 'stations 2 drifted 0' "$IT_DIR/rec.1.log" || it_fail "reconcile: exit $rc: $(cat "$IT_DIR/rec.1.log")"
rc HINCRBY "${IT_PREFIX}stat:{st:st-b}" registered 5 >/dev/null
rc=0
reg_env reconcile >"$IT_DIR/rec.2.log" 2>&1 || rc=$?
[ "$rc" = 3 ] || it_fail "reconcile after corruption: exit $rc, want 3: $(cat "$IT_DIR/rec.2.log")"
grep -qx 'station st-b: followers stored 9 actual 9, registered stored 15 actual 10, protected stored 20 actual 20' "$IT_DIR/rec.2.log" &&
  grep -qx 'stations 2 drifted 1' "$IT_DIR/rec.2.log" || it_fail "reconcile report: $(cat "$IT_DIR/rec.2.log")"
grep -q 'st-a' "$IT_DIR/rec.2.log" && it_fail "reconcile names st-a, which did not drift"
rc=0
reg reconcile --fix >"$IT_DIR/rec.3.log" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -qx 'stations 2 drifted 1 fixed' "$IT_DIR/rec.3.log" || it_fail "reconcile --fix: exit $rc: $(cat "$IT_DIR/rec.3.log")"
rc=0
reg reconcile >"$IT_DIR/rec.4.log" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -qx 'stations 2 drifted 0' "$IT_DIR/rec.4.log" || it_fail "reconcile after --fix: exit $rc: $(cat "$IT_DIR/rec.4.log")"
reg stats st-b >"$IT_DIR/stats-b.3" 2>>"$IT_DIR/tool.log" || it_fail "stats failed"
cmp -s "$IT_DIR/stats-b.1" "$IT_DIR/stats-b.3" || it_fail "st-b after --fix: $(cat "$IT_DIR/stats-b.3")"

IT_OK=1
gb_log "PASS: 22 lines, 20 registrants, 14 family numbers, 3 refusals reported; idempotent; drift found and fixed"
