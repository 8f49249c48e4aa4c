#!/usr/bin/env bash
# The registration lifecycle through the real broker and Redis: every change
# kind, the ninth family number, a publicity-unit registrant, a mother
# protected by two children at two stations, unregister erasing every trace,
# live statistics, and a scan of every Redis key and value for plain numbers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init registry
it_topics gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.dlq
it_redis
it_hash_key
IT_PREFIX="t$IT_SUFFIX:"
it_station st-a "思明派出所" 24.4539 118.0820
it_station st-b "湖里派出所" 24.5122 118.1462
it_station st-pub "终结诈骗防诈宣传中心" 24.48 118.10 --publicity
it_start matcher matcher/matcher --log.level=info --redis.url="$IT_REDIS_URL" --redis.prefix="$IT_PREFIX" \
  --topic.registry="$IT_TOPIC_gb_registry" --topic.registry-results="$IT_TOPIC_gb_registry_results" \
  --topic.intel="$IT_TOPIC_gb_intel" --topic.index="$IT_TOPIC_gb_index" --topic.events="$IT_TOPIC_gb_events" \
  --topic.alerts="$IT_TOPIC_gb_alerts" --topic.dlq="$IT_TOPIC_gb_dlq" \
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000 \
  --matcher.group="m$IT_SUFFIX" --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file="$IT_KEYS_FILE" \
  --admin.port=0
port=$(gb_free_port)
it_start notifier notifier/notifier --redis.url="$IT_REDIS_URL" --redis.prefix="$IT_PREFIX" \
  --topic.alerts="$IT_TOPIC_gb_alerts" --kafka.bootstrap.servers="$IT_BOOTSTRAP" \
  --kafka.session.timeout.ms=6000 --notifier.group="n$IT_SUFFIX" --http.port="$port" \
  --index.hash-key-file="$IT_HASH_KEY_FILE"
it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_registry" 60 "matcher assignment"
it_wait_log notifier "notifier.started" 30 "notifier start"

n=0
change() { # registrant json-fields [the registrant as written in the change]
  n=$((n + 1))
  # Keyed by the registrant, so that one registrant's changes stay in order.
  it_produce "$IT_TOPIC_gb_registry" "$1" "{\"request_id\":\"q$n\",\"registrant\":\"${3:-$1}\",$2}"
}
A=13900000001 B=13900000002 P=13900000003 MOTHER=13800000009
change $A '"op":"register","station_id":"st-a","following":true,"name":"张三","age":70,"occupation":"退休教师","lat":24.45,"lon":118.08'  # q1
change $B '"op":"register","station_id":"st-b","following":false' "+86 139 0000 0002"             # q2
change $A "\"op\":\"add_family\",\"family\":\"$MOTHER\",\"relation\":\"母亲\""                      # q3
change $B "\"op\":\"add_family\",\"family\":\"0086 138 0000 0009\",\"relation\":\"母亲\""          # q4
for i in 1 2 3 4 5 6 7; do
  change $A "\"op\":\"add_family\",\"family\":\"1370000000$i\",\"relation\":\"亲属$i\""              # q5..q11
done
change $A '"op":"add_family","family":"13700000008","relation":"第九个"'                             # q12: the 9th
change $P '"op":"register","station_id":"st-pub","following":true'                                 # q13: publicity unit
change $A '"op":"update_profile","name":"张三","age":71,"occupation":"退休"'                          # q14
change $B '"op":"follow"'                                                                            # q15
change $B '"op":"unfollow"'                                                                          # q16
change $A '"op":"remove_family","family":"13700000007"'                                              # q17
change $A '"op":"register","station_id":"st-a","following":true'                                    # q18: re-delivered register
change 13900000004 '"op":"add_family","family":"13700000001","relation":"x"'                        # q19: not registered
change $A '"op":"register","station_id":"st-nowhere"'                                                # q20: unknown station
change 12 '"op":"register","station_id":"st-a"'                                                      # q21: bad number
change $B '"op":"change_station","station_id":"st-a"'                                               # q22
C=13900000005
change $C '"op":"register","station_id":"st-b"'                                                      # q23
change $C "\"op\":\"add_family\",\"family\":\"$MOTHER\",\"relation\":\"母亲\""                      # q24
total=$n

results() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_registry_results" -o beginning -e -q -f '%s\n' 2>/dev/null || true; }
all_results() { [ "$(results | grep -c request_id)" -ge "$total" ]; }
gb_wait_until 60 "$total results on $IT_TOPIC_gb_registry_results" all_results ||
  it_fail "only $(results | grep -c request_id) of $total results"
results >"$IT_DIR/results.txt"
result() { grep "\"request_id\":\"$1\"" "$IT_DIR/results.txt" | tail -1; }
want() { # request substring...
  local r; r=$(result "$1"); shift
  for w in "$@"; do [[ $r == *"$w"* ]] || it_fail "result of $req lacks $w: $r"; done
}
for req in q1 q2 q3 q4 q5 q11 q14 q15 q16 q17 q18 q22; do want $req '"accepted":true'; done
req=q1; want q1 '"protected":true'
req=q12; want q12 '"accepted":false' 'at most 8 family numbers'
req=q13; want q13 '"accepted":true' '"protected":false' 'publicity unit'
req=q19; want q19 '"accepted":false' 'not registered'
req=q20; want q20 '"accepted":false' 'unknown station'
req=q21; want q21 '"accepted":false' 'registrant: phone'

rc() { redis-cli -p "$IT_REDIS_PORT" "$@"; }
hA=$(it_numhash +86$A) hB=$(it_numhash +86$B) hM=$(it_numhash +86$MOTHER) hP=$(it_numhash +86$P)
# The mother is protected through three children at two stations (B moved
# from st-b to st-a; C is at st-b): an alert about her reaches both.
hC=$(it_numhash +86$C)
owners=$(rc HLEN "${IT_PREFIX}pn:{$hM}")
[ "$owners" = 3 ] || it_fail "mother has $owners owners, want 3"
rc HVALS "${IT_PREFIX}pn:{$hM}" | cut -f1 | sort | tr '\n' ' ' | grep -qx 'st-a st-a st-b ' || it_fail "mother's owners' stations: $(rc HVALS "${IT_PREFIX}pn:{$hM}" | cut -f1)"
# 8 family numbers kept (7 added after the mother, one removed, the 9th refused) = 7 + mother.
fams=$(rc HKEYS "${IT_PREFIX}rg:{$hA}" | grep -c '^f:')
[ "$fams" = 7 ] || it_fail "A has $fams family numbers, want 7"
# The publicity-unit registrant is recorded but protects nobody.
[ "$(rc EXISTS "${IT_PREFIX}rg:{$hP}")" = 1 ] || it_fail "publicity registrant not recorded"
[ "$(rc EXISTS "${IT_PREFIX}pn:{$hP}")" = 0 ] || it_fail "publicity registrant is protected"

# Statistics: st-a has A and B registered (B moved from st-b), A following;
# protected = A, B, mother, 6 of A's relatives = 9 distinct numbers.
stat() { rc HGET "${IT_PREFIX}stat:{st:$1}" "$2"; }
[ "$(stat st-a registered)" = 2 ] || it_fail "st-a registered=$(stat st-a registered), want 2"
[ "$(stat st-a followers)" = 1 ] || it_fail "st-a followers=$(stat st-a followers), want 1"
[ "$(stat st-a protected)" = 9 ] || it_fail "st-a protected=$(stat st-a protected), want 9"
[ "$(stat st-b registered)" = 1 ] || it_fail "st-b registered=$(stat st-b registered), want 1 (C)"
[ "$(stat st-b protected)" = 2 ] || it_fail "st-b protected=$(stat st-b protected), want 2 (C, mother)"
[ "$(stat st-pub followers)" = 1 ] || it_fail "st-pub followers=$(stat st-pub followers), want 1"
[ -z "$(stat st-pub registered)" ] || [ "$(stat st-pub registered)" = 0 ] || it_fail "publicity unit counts a registration"
day=$(TZ=Asia/Shanghai date +%Y%m%d)
[ "$(rc HGET "${IT_PREFIX}statd:{st:st-a}:$day" registrations)" = 1 ] || it_fail "st-a registrations today != 1"

# The change feed for the matching path names each owner of each number by
# hashes only: the mother's entry once for each child.
timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_index" -o beginning -e -q -f '%k\n' \
  >"$IT_DIR/index_keys.txt" 2>/dev/null || true
for k in "pn:$hM:$hA" "pn:$hM:$hB" "pn:$hM:$hC" "pn:$hA:$hA"; do
  grep -qx "$k" "$IT_DIR/index_keys.txt" || it_fail "no $k on $IT_TOPIC_gb_index"
done

# The same figures through the statistics API, per station and in total,
# for a bureau administrator; an officer of st-b sees st-b's only.
IT_HTTP=$port
it_token officer-b st-b
OB=$IT_TOKEN
it_token analyst "" bureau_admin
auth=(-H "Authorization: Bearer $IT_TOKEN")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OB" "http://127.0.0.1:$port/v1/stats/stations/st-a")" = 403 ] ||
  it_fail "an officer of st-b read st-a's statistics"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OB" "http://127.0.0.1:$port/v1/stats")" = 403 ] ||
  it_fail "an officer read every unit's statistics"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OB" "http://127.0.0.1:$port/v1/stats/stations/st-b")" = 200 ] ||
  it_fail "an officer of st-b could not read st-b's statistics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/stats")" = 401 ] ||
  it_fail "statistics answered without a token"
api=$(curl -sf "${auth[@]}" "http://127.0.0.1:$port/v1/stats/stations/st-a") || it_fail "GET /v1/stats/stations/st-a failed"
for w in '"registered":2' '"followers":1' '"protected":9' '"registrations":1' '"id":"st-a"'; do
  [[ $api == *"$w"* ]] || it_fail "station stats lack $w: $api"
done
all=$(curl -sf "${auth[@]}" "http://127.0.0.1:$port/v1/stats") || it_fail "GET /v1/stats failed"
[[ $all == *'"total":{"followers":3,"registered":3,"protected":11'* ]] || it_fail "bureau totals: $all"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$port/v1/stats/stations/nope")" = 404 ] ||
  it_fail "unknown station is not 404"

# No phone number in the clear, anywhere in Redis.
it_no_plain_numbers $A $B $C $P $MOTHER 13700000001 13700000006 13700000007 13700000008
grep -q "退休" "$IT_DIR/redis-dump.txt" && it_fail "profile text found in the clear"

# Unregister erases every trace of B: the record, and B as an owner anywhere.
change $B '"op":"unregister"'
unreg=q$n
gb_wait_until 30 "the unregister result" eval '[ -n "$(results | grep "\"request_id\":\"$unreg\"")" ]' ||
  it_fail "no result for unregister"
[ "$(rc EXISTS "${IT_PREFIX}rg:{$hB}")" = 0 ] || it_fail "B's record survived unregister"
[ "$(rc EXISTS "${IT_PREFIX}pn:{$hB}")" = 0 ] || it_fail "B is still protected"
[ "$(rc HEXISTS "${IT_PREFIX}pn:{$hM}" "$hB")" = 0 ] || it_fail "B still owns the mother's entry"
[ "$(rc HLEN "${IT_PREFIX}pn:{$hM}")" = 2 ] || it_fail "the mother lost A's or C's protection"
[ "$(stat st-a registered)" = 1 ] || it_fail "st-a registered=$(stat st-a registered) after unregister, want 1"
[ "$(stat st-a protected)" = 8 ] || it_fail "st-a protected=$(stat st-a protected) after unregister, want 8"
rc --scan --pattern "${IT_PREFIX}*" | xargs -r -n1 redis-cli -p "$IT_REDIS_PORT" HKEYS 2>/dev/null |
  grep -qx "$hB" && it_fail "B's hash still names an entry"

IT_OK=1
gb_log "PASS: $n changes, every kind; 9th refused; publicity unit unprotected; shared mother; stats; no plain numbers; unregister erased B"
