#!/usr/bin/env bash
# The claim API under load from a standard HTTP load tool (wrk, Debian's),
# against one notifier process on this machine:
#
#   bench/claims_bench.sh [--alerts N] [--duration T] [--connections C]
#                         [--threads W]
#
# Defaults: N=400,000 new alerts, spread over W=2 stations (one per wrk
# thread), wrk with W=2 threads and C=64 connections for T=30 s.
#
# Each station gets one officer with a device bound through notifier's API
# (gb-accounts, POST /v1/devices/bind). The alerts are written straight
# into Redis as notifier's feed_store leaves a new alert (HASH
# gb:al:{st:<station>}:<id> with json, revision 1, state new; ids are
# "%016x" of 0, 1, 2, ...), with redis-cli --pipe. wrk then runs
# bench/claim.lua: every request is POST /v1/alerts/<id>/claim with the
# bearer token of its thread's officer and the next id of that station, so
# no id is claimed twice. Printed: wrk's requests/s and latency
# percentiles (wrk --latency), the answers that were not 2xx, the alerts
# Redis holds as claimed afterwards (each one a 200), CPU over the run of
# notifier, redis-server, the broker, wrk and the whole machine ("other
# processes" as in notifier_bench.sh), how long notifier's loop thread
# waited for a CPU, and Redis' time per command (INFO commandstats).
# CLAIM_STATUSES=1 counts every status code in wrk (costs wrk some CPU);
# GB_BENCH_NOTIFIER_ARGS adds options to notifier.
set -euo pipefail
GB_PROG=claims_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
alerts=400000 duration=30 conns=64 threads=2
while [ $# -gt 0 ]; do
  case $1 in
    --alerts) alerts=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) gb_die "unknown argument $1 (see the header of $0)" ;;
  esac
done
command -v wrk >/dev/null || gb_die "wrk is not installed (scripts/setup.sh installs it)"
per=$((alerts / threads))

bench_start redis-claims
port=${R##*:}
notifier_pid=""
cleanup() {
  [ -n "$notifier_pid" ] && gb_pid_stop "$notifier_pid" 20 notifier >/dev/null 2>&1
  rm -f "${tokens:-/nonexistent}"
  scripts/redis-stop.sh --dir "$dir/redis-claims" >/dev/null 2>&1 || true
}
trap cleanup EXIT

st=(build/tools/gb-stations --redis "$R" --prefix gb:)
for k in $(seq 1 "$threads"); do
  "${st[@]}" add --id "st-cl-$k" --name "派出所$k" --bureau b --lat 24.45 --lon "118.0$k" >/dev/null
done
# shellcheck disable=SC2086 # GB_BENCH_NOTIFIER_ARGS is a list of words
bench_notifier notifier-claims --notifier.escalate-after-s=86400 ${GB_BENCH_NOTIFIER_ARGS:-}
tokens=$dir/claim-tokens-$$
for k in $(seq 1 "$threads"); do bench_device "st-cl-$k" "o-cl-$k"; done >"$tokens"

# The alerts, as feed_store stores a new one (RESP for redis-cli --pipe).
t=$(gb_now_ms)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
LC_ALL=C awk -v threads="$threads" -v per="$per" -v now="$now" 'BEGIN {
  for (k = 1; k <= threads; k++) {
    st = "st-cl-" k
    for (i = 0; i < per; i++) {
      id = sprintf("%016x", i)
      subj = sprintf("+86138%08d", (k - 1) * per + i)
      json = "{\"alert_id\":\"" id "\",\"station_id\":\"" st "\",\"subject\":\"" subj "\"," \
        "\"risk\":\"" (i % 2 ? "high" : "medium") "\",\"rule\":\"long_fraud_call\"," \
        "\"evidence\":\"on a call with fraud number +8617000000001 for 5 min 12 s, ongoing, carrier CMCC\"," \
        "\"created\":\"" now "\",\"updated\":\"" now "\",\"count\":1,\"revision\":1," \
        "\"protectors\":[{\"registrant\":\"" subj "\",\"station_id\":\"" st "\",\"relation\":\"self\",\"following\":true}]," \
        "\"events\":[{\"event_id\":\"call:CMCC:cl-" i ":" subj ":312\",\"subject\":\"" subj "\",\"time\":\"" now "\"," \
        "\"call\":{\"call_id\":\"cl-" i "\",\"counterpart\":\"+8617000000001\",\"outgoing\":false,\"duration_s\":312," \
        "\"status\":\"ongoing\",\"international\":false,\"carrier\":\"CMCC\"}}]}"
      key = "gb:al:{st:" st "}:" id
      printf "*8\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$4\r\njson\r\n$%d\r\n%s\r\n$8\r\nrevision\r\n$1\r\n1\r\n$5\r\nstate\r\n$3\r\nnew\r\n",
        length(key), key, length(json), json
    }
  }
}' | redis-cli -p "$port" --pipe >"$dir/claims-pipe-$$.out" ||
  gb_die "redis-cli --pipe failed: $(tail -3 "$dir/claims-pipe-$$.out")"
grep -q 'errors: 0, replies: '"$((per * threads))" "$dir/claims-pipe-$$.out" ||
  gb_die "loading the alerts: $(tail -1 "$dir/claims-pipe-$$.out")"
gb_log "$((per * threads)) new alerts at $threads stations in $(( $(gb_now_ms) - t )) ms"
# Loading that much makes Redis rewrite its append-only file (a forked
# child, a core for some seconds): do it now, not during the measurement.
redis-cli -p "$port" BGREWRITEAOF >/dev/null 2>&1 || true
aof_idle() {
  redis-cli -p "$port" INFO persistence | tr -d '\r' |
    awk -F: '$1 == "aof_rewrite_in_progress" || $1 == "aof_rewrite_scheduled" {s += $2} END {exit s != 0}'
}
gb_wait_until 300 "Redis to finish rewriting its append-only file" aof_idle || gb_die "the AOF rewrite did not finish"

# Counts the states of a station's alerts: claimed, new, anything else.
count_lua="local p, n, c, nw, o = ARGV[1], tonumber(ARGV[2]), 0, 0, 0
for i = 0, n - 1 do
  local s = redis.call('HGET', p .. string.format('%016x', i), 'state')
  if s == 'claimed' then c = c + 1 elseif s == 'new' then nw = nw + 1 else o = o + 1 end
end
return {c, nw, o}"
claimed() { # station
  redis-cli -p "$port" EVAL "$count_lua" 0 "gb:al:{st:$1}:" "$per" | paste -sd' '
}

redis_pid=$(cat "$dir/redis-claims/pid")
hz=$(getconf CLK_TCK)
kafka_pid=$(cat "$dir/kafka/node-1/pid" 2>/dev/null || echo 0)
w0=$(bench_rq_wait "$notifier_pid")
n0=$(bench_cpu "$notifier_pid"); r0=$(bench_cpu "$redis_pid"); k0=$(bench_cpu "$kafka_pid"); m0=$(bench_machine_busy); c0=$(bench_children_cpu)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
redis-cli -p "$port" CONFIG RESETSTAT >/dev/null
t0=$(gb_now_ms)
wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s bench/claim.lua "http://127.0.0.1:$http" \
  -- "$tokens" "$per" >"$dir/wrk-$$.out" 2>&1 || gb_die "wrk failed: $(cat "$dir/wrk-$$.out")"
t1=$(gb_now_ms)
c1=$(bench_children_cpu); m1=$(bench_machine_busy)
n1=$(bench_cpu "$notifier_pid"); r1=$(bench_cpu "$redis_pid"); k1=$(bench_cpu "$kafka_pid")
w1=$(bench_rq_wait "$notifier_pid")
secs() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}'; }

line=$(grep '^claims ' "$dir/wrk-$$.out") || gb_die "no summary from wrk: $(cat "$dir/wrk-$$.out")"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
total_claimed=0
states=""
for k in $(seq 1 "$threads"); do
  read -r c nw o < <(claimed "st-cl-$k")
  total_claimed=$((total_claimed + c))
  states="$states st-cl-$k: claimed $c new $nw other $o;"
done
requests=$(field requests)
non2xx=$(field non2xx)
echo "claims_bench alerts=$((per * threads)) stations=$threads wrk: -t$threads -c$conns -d${duration}s"
sed -n '/Latency Distribution/,/requests in/p' "$dir/wrk-$$.out" | sed 's/^/  wrk: /'
grep -E 'Requests/sec|Non-2xx|Socket errors' "$dir/wrk-$$.out" | sed 's/^/  wrk: /' || true
echo "  claims/s: $(field rps); latency p50 $(field p50_ms) ms, p90 $(field p90_ms) ms, p99 $(field p99_ms) ms, max $(field max_ms) ms"
echo "  answers: $requests completed, $((requests - non2xx)) 2xx, $non2xx other" \
  "(errors: connect $(field connect_errors) read $(field read_errors) write $(field write_errors) timeout $(field timeouts);" \
  "ids past the pre-created ones: $(field exhausted)) $(sed 's/.*exhausted=[0-9]* *//' <<<"$line")"
echo "  Redis:$states $total_claimed claimed in all (each one a 200; wrk does not count answers still in flight at its end)"
echo "  CPU over the $(( (t1 - t0) / 1000 )) s run: notifier $(secs "$n0" "$n1") s" \
  "($(awk -v a="$n0" -v b="$n1" -v hz="$hz" -v n="$total_claimed" 'BEGIN {printf "%.0f", n ? (b - a) / hz * 1e6 / n : 0}') µs per claim;" \
  "its loop thread waited $(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s for a CPU)," \
  "redis-server $(secs "$r0" "$r1") s, broker $(secs "$k0" "$k1") s, wrk $(secs "$c0" "$c1") s;" \
  "whole machine $(secs "$m0" "$m1") s of $(( (t1 - t0) * $(nproc) / 1000 )) available," \
  "other processes $(secs $(( n1 - n0 + r1 - r0 + k1 - k0 + c1 - c0 )) $(( m1 - m0 ))) s (load before: $load0)"
echo "  Redis commands during the run: $(bench_redis_stats "$port")"
echo "  notifier log: $notifier_log; wrk output: $dir/wrk-$$.out"
