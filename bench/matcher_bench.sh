#!/usr/bin/env bash
# matcher throughput, memory and change visibility, on a real Kafka broker
# and redis-server on this machine:
#
#   bench/matcher_bench.sh [--protected N] [--indicators M] [--events E]
#                          [--real K] [--fraud F] [--batch B] [--partitions P]
#
# Defaults: 10,000,000 protected numbers and 1,000,000 fraud indicators in
# the index feed (gen-matcher index), K=10,000 people registered for real
# (through gb.registry, so Redis knows them) and the 1,000 fraud numbers the
# events use (through gb.intel); E=10,000,000 canonical events in batches of
# B=500, of which F=0.1 % touch a fraud number (each on one of the K people:
# every one a candidate all the way through Redis), 1 % are about protected
# numbers, 1 % are incoming international calls.
#
# Phase 1: matcher starts (loading the feed into its view: timed), applies
# the registrations and indicators, stops. Phase 2: the events are produced;
# plain librdkafka reads them (the floor); matcher, restarted in the same
# group, loads the view again and matches them all: events/s, CPU, memory.
# Meanwhile an indicator is added to the feed 5 times, as another worker
# would, and the time until the running matcher's view holds it is taken.
# GB_BENCH_MATCHER_ARGS adds options to matcher (e.g. --batch.linger-ms=100).
set -euo pipefail
GB_PROG=matcher_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
protected=10000000 indicators=1000000 events=10000000 real=10000 fraud=0.001 batch=500 partitions=4
while [ $# -gt 0 ]; do
  case $1 in
    --protected) protected=$2; shift 2 ;;
    --indicators) indicators=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --real) real=$2; shift 2 ;;
    --fraud) fraud=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    *) gb_die "unknown argument $1 (see the header of $0)" ;;
  esac
done

bench_start redis-matcher
s=$(date +%s)-$$
names=(registry results intel events alerts dlq index)
topics=()
for n in "${names[@]}"; do topics+=("bench.$n.$s"); done
build/tools/gb-topics -b "$B" -p "$partitions" -r 1 -c retention.ms=7200000 create "${topics[@]}" 2>/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/hash.key"
echo "k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/data.keys"
build/tools/gb-stations --redis "$R" --prefix gb: add --id st-bench --name "思明派出所" --bureau b \
  --lat 24.4539 --lon 118.0820 >/dev/null
cleanup() {
  [ -n "${pid:-}" ] && gb_pid_stop "$pid" 20 matcher >/dev/null 2>&1
  scripts/redis-stop.sh --dir "$dir/redis-matcher" >/dev/null 2>&1 || true
}
trap cleanup EXIT

t=$(gb_now_ms)
build/bench/gen-matcher index -b "$B" -t "${topics[6]}" --hash-key-file "$dir/hash.key" \
  --protected "$protected" --indicators "$indicators"
gb_log "index feed: $protected protected numbers and $indicators indicators in $(( $(gb_now_ms) - t )) ms"
seq 0 $((real - 1)) | awk '{printf "%s|{\"request_id\":\"r%d\",\"op\":\"register\",\"registrant\":\"150%08d\",\"station_id\":\"st-bench\"}\n", $1, $1, $1}' |
  kcat -P -b "$B" -t "${topics[0]}" -K '|' -H content-type=application/json
seq 0 999 | awk '{printf "phone:+86170%08d|{\"kind\":\"phone\",\"value\":\"+86170%08d\"}\n", $1, $1}' |
  kcat -P -b "$B" -t "${topics[2]}" -K '|' -H content-type=application/json

admin=$(gb_free_port)
start_matcher() { # log
  gb_launch "$1" "$dir/matcher.pid" build/matcher/matcher --log.level=info \
    --redis.url="$R" --redis.prefix=gb: --kafka.bootstrap.servers="$B" \
    --topic.registry="${topics[0]}" --topic.registry-results="${topics[1]}" --topic.intel="${topics[2]}" \
    --topic.events="${topics[3]}" --topic.alerts="${topics[4]}" --topic.dlq="${topics[5]}" \
    --topic.index="${topics[6]}" --matcher.group="bench-$s" \
    --index.hash-key-file="$dir/hash.key" --index.keys-file="$dir/data.keys" --admin.port="$admin" \
    ${GB_BENCH_MATCHER_ARGS:-}
  pid=$(cat "$dir/matcher.pid")
}
metric() { { curl -sf "http://127.0.0.1:$admin/metrics" 2>/dev/null || true; } | awk -v k="$1" '$1 == k || index($1, k "{") == 1 {s += $2} END {printf "%d\n", s}'; }
wait_metric() { # name at-least what seconds
  local deadline=$(( $(gb_now_ms) + $4 * 1000 ))
  while [ "$(metric "$1")" -lt "$2" ]; do
    [ "$(gb_now_ms)" -lt "$deadline" ] || gb_die "$3: $1 is $(metric "$1"), want $2"
    gb_pid_alive "$pid" || gb_die "matcher died; see its log in $dir"
    sleep 0.05
  done
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

# Phase 1.
log1=$dir/matcher-$s-1.log
start_matcher "$log1"
gb_wait_until 900 "the view loaded" grep -q 'event=index.loaded' "$log1" || gb_die "no index.loaded in $log1"
wait_metric gb_matcher_registry_changes_total "$real" "registrations" 600
wait_metric gb_matcher_indicators_total 1000 "indicators" 120
gb_pid_stop "$pid" 30 matcher >/dev/null; pid=""
load1=$(grep -o 'event=index.loaded .*' "$log1")

# Phase 2.
t=$(gb_now_ms)
build/bench/gen-matcher events -b "$B" -t "${topics[3]}" --hash-key-file "$dir/hash.key" -n "$events" \
  --batch "$batch" --protected "$protected" --real "$real" --fraud "$fraud" 2>"$dir/gen-events.log"
cat "$dir/gen-events.log" >&2
# Every event touching a fraud number is new evidence about a registered
# person: each must come out as an alert (new, or an update of that
# person's open alert).
touched=$(awk '/touch a fraud number/ {print $(NF-4)}' "$dir/gen-events.log")
gb_log "events: $events in $(( $(gb_now_ms) - t )) ms"
floor=$(build/bench/consume-floor -b "$B" -t "${topics[3]}")
gb_log "floor: $floor"
log2=$dir/matcher-$s-2.log
start_matcher "$log2"
gb_wait_until 900 "the view loaded again" grep -q 'event=index.loaded' "$log2" || gb_die "no index.loaded in $log2"
load2=$(grep -o 'event=index.loaded .*' "$log2")
rss_loaded=$(rss_kb)
hz=$(getconf CLK_TCK)
t0=""; lat=()
deadline=$(( $(gb_now_ms) + 1800000 ))
while :; do
  n=$(metric gb_matcher_events_total)
  if [ -z "$t0" ] && [ "$n" -gt 0 ]; then t0=$(gb_now_ms); n0=$n; c0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); fi
  [ "$n" -ge "$events" ] && break
  # Change visibility under load: an indicator from "another worker".
  if [ -n "$t0" ] && [ "${#lat[@]}" -lt 5 ] && [ "$n" -gt $(( events * (${#lat[@]} + 1) / 8 )) ]; then
    before=$(metric gb_matcher_view_indicators)
    acked=$(build/bench/gen-matcher one -b "$B" -t "${topics[6]}" --value "+86171$(printf %08d $(( RANDOM * 1000 + ${#lat[@]} )))")
    while [ "$(metric gb_matcher_view_indicators)" -le "$before" ]; do
      [ $(( $(gb_now_ms) - acked )) -lt 10000 ] || gb_die "a feed change not seen in 10 s"
      sleep 0.01
    done
    lat+=($(( $(gb_now_ms) - acked )))
    continue
  fi
  [ "$(gb_now_ms)" -lt "$deadline" ] || gb_die "matcher read only $n of $events events"
  gb_pid_alive "$pid" || gb_die "matcher died; see $log2"
  sleep 0.02
done
t1=$(gb_now_ms); c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
# The last batch's candidates are confirmed at its end, after the count.
wait_metric gb_matcher_alerts_total "$touched" "alerts for every event touching a fraud number" 60
rss_end=$(rss_kb)
ms=$(( t1 - t0 )); [ "$ms" -gt 0 ] || ms=1
rate=$(( (events - n0) * 1000 / ms ))
floor_rate=${floor##*records_per_s=}; floor_rate=${floor_rate%% *}
cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
view_bytes=$(metric gb_matcher_view_bytes)
echo "matcher_bench protected=$protected indicators=$indicators events=$events batch=$batch fraud=$fraud partitions=$partitions"
echo "  floor (librdkafka, no processing): $floor_rate events/s"
echo "  matcher: $rate events/s ($(( rate * 100 / (floor_rate > 0 ? floor_rate : 1) ))% of the floor), ${cpu} CPU s for $((events - n0)) events"
echo "  candidates=$(metric gb_matcher_candidates_total) alerts=$(metric gb_matcher_alerts_total) (want $touched) protected_events=$(metric gb_matcher_protected_events_total)"
echo "  view: $view_bytes bytes = $(( view_bytes / (protected + indicators) )) bytes per entry ($protected numbers + $indicators indicators)"
echo "  rss: $rss_loaded kB after the load ($(( rss_loaded * 1024 / protected )) bytes per protected number, all in), $rss_end kB at the end"
echo "  contacts log: $(metric gb_matcher_contacts) calls, $(metric gb_matcher_contacts_bytes) bytes"
echo "  load (phase 1): $load1"
echo "  load (phase 2): $load2"
echo "  feed change visible after (ms): ${lat[*]:-none}"
