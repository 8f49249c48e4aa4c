#!/usr/bin/env bash
# notifier's push latency, on a real Kafka broker and redis-server on this
# machine:
#
#   bench/notifier_bench.sh [--stations S] [--devices-per-station D]
#                           [--rate R] [--duration T] [--partitions P]
#
# Defaults: S=100 stations, D=10 officers per station, each with one bound
# device (1,000 devices), R=1,000 alerts/s for T=30 s, P=4 partitions of
# the alerts topic.
#
# The stations are made with gb-stations; each officer's account with
# gb-accounts (create, then a one-time binding code), and the device is bound
# through notifier's own API (POST /v1/devices/bind), as an officer's phone
# does. One notifier process serves them, with escalation set to a day so
# that no escalation adds pushes during the run. bench/push-bench then
# connects every device to GET /v1/stream, produces the alerts to the
# alerts topic keyed by station at a steady rate, and times each one from
# the produce call to its arrival on each device of its station
# (bench/push-bench.c says how). Also printed: CPU of notifier,
# redis-server, the broker, push-bench and the whole machine over the run
# (from /proc; "other processes" is what the machine spent besides them,
# give or take 2 s: anything well above that means something else ran and
# the figures are not this machine's best), how long notifier's loop
# thread waited for a CPU (/proc/PID/schedstat), how many offsets were
# committed to the broker, and Redis' time per command (INFO commandstats).
# GB_BENCH_NOTIFIER_ARGS adds options to notifier; GB_BENCH_PUSH_ARGS to
# push-bench (e.g. --linger-ms 0).
set -euo pipefail
GB_PROG=notifier_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
stations=100 per=10 rate=1000 duration=30 partitions=4
while [ $# -gt 0 ]; do
  case $1 in
    --stations) stations=$2; shift 2 ;;
    --devices-per-station) per=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    *) gb_die "unknown argument $1 (see the header of $0)" ;;
  esac
done

bench_start redis-notifier
notifier_pid=""
cleanup() {
  [ -n "$notifier_pid" ] && gb_pid_stop "$notifier_pid" 20 notifier >/dev/null 2>&1
  rm -f "${tokens:-/nonexistent}" "${tokens:-/nonexistent}".*
  scripts/redis-stop.sh --dir "$dir/redis-notifier" >/dev/null 2>&1 || true
}
trap cleanup EXIT

st=(build/tools/gb-stations --redis "$R" --prefix gb:)
for i in $(seq 1 "$stations"); do
  "${st[@]}" add --id "st-pb-$i" --name "派出所$i" --bureau b --lat "$(( 20 + i % 10 )).45" \
    --lon "$(( 110 + i / 10 )).08" >/dev/null
done
# shellcheck disable=SC2086 # GB_BENCH_NOTIFIER_ARGS is a list of words
GB_BENCH_PARTITIONS=$partitions bench_notifier notifier --notifier.escalate-after-s=86400 \
  ${GB_BENCH_NOTIFIER_ARGS:-}

tokens=$dir/tokens-$$
t=$(gb_now_ms)
# Each station's officers one after another, eight stations at a time.
for i in $(seq 1 "$stations"); do
  ( for j in $(seq 1 "$per"); do bench_device "st-pb-$i" "o-$i-$j"; done >"$tokens.$i" ) &
  while [ "$(jobs -rp | wc -l)" -ge 8 ]; do wait -n || gb_die "binding a device failed"; done
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || gb_die "binding a device failed"; done
for i in $(seq 1 "$stations"); do cat "$tokens.$i"; done >"$tokens"
rm -f "$tokens".*
want=$((stations * per))
[ "$(awk 'NF == 2 && $2 ~ /^gbt_/' "$tokens" | wc -l)" -eq "$want" ] ||
  gb_die "want $want device tokens, have $(wc -l <"$tokens")"
gb_log "$stations stations, $want officers with a bound device in $(( $(gb_now_ms) - t )) ms"

redis_pid=$(cat "$dir/redis-notifier/pid")
kafka_pid=$(cat "$dir/kafka/node-1/pid" 2>/dev/null || echo 0)
hz=$(getconf CLK_TCK)
w0=$(bench_rq_wait "$notifier_pid"); o0=$(bench_commit_records)
n0=$(bench_cpu "$notifier_pid"); r0=$(bench_cpu "$redis_pid"); k0=$(bench_cpu "$kafka_pid")
m0=$(bench_machine_busy); c0=$(bench_children_cpu); load0=$(cut -d' ' -f1-3 /proc/loadavg)
redis-cli -p "${R##*:}" CONFIG RESETSTAT >/dev/null
t0=$(gb_now_ms)
rc=0
# shellcheck disable=SC2086 # GB_BENCH_PUSH_ARGS is a list of words
build/bench/push-bench -b "$B" -t "$alerts_topic" --port "$http" --tokens "$tokens" \
  --rate "$rate" --duration "$duration" ${GB_BENCH_PUSH_ARGS:-} >"$dir/push-$$.out" || rc=$?
t1=$(gb_now_ms)
c1=$(bench_children_cpu); m1=$(bench_machine_busy)
n1=$(bench_cpu "$notifier_pid"); r1=$(bench_cpu "$redis_pid"); k1=$(bench_cpu "$kafka_pid")
w1=$(bench_rq_wait "$notifier_pid"); o1=$(bench_commit_records)
[ "$rc" -ne 2 ] || gb_die "push-bench could not run; see $notifier_log"
secs() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}'; }
alerts=$((rate * duration))
pushed=$(grep -c 'event=alert.pushed' "$notifier_log" || true)
echo "notifier_bench stations=$stations devices=$want rate=$rate/s duration=${duration}s partitions=$partitions"
cat "$dir/push-$$.out"
echo "  notifier: $pushed alerts pushed (its log); CPU $(secs "$n0" "$n1") s" \
  "= $(awk -v a="$n0" -v b="$n1" -v hz="$hz" -v n="$alerts" 'BEGIN {printf "%.0f", (b - a) / hz * 1e6 / n}') µs per alert" \
  "(each to $per devices), RSS $(awk '/^VmRSS:/ {print $2}' "/proc/$notifier_pid/status") kB;" \
  "its loop thread waited $(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s for a CPU;" \
  "$((o1 - o0)) partition offsets committed to the broker"
echo "  CPU over the $(( (t1 - t0) / 1000 )) s run: redis-server $(secs "$r0" "$r1") s, broker $(secs "$k0" "$k1") s," \
  "push-bench $(secs "$c0" "$c1") s; whole machine $(secs "$m0" "$m1") s of $(( (t1 - t0) * $(nproc) / 1000 )) available," \
  "other processes $(secs $(( n1 - n0 + r1 - r0 + k1 - k0 + c1 - c0 )) $(( m1 - m0 ))) s (load before: $load0)"
echo "  Redis commands during the run: $(bench_redis_stats "${R##*:}")"
echo "  notifier log: $notifier_log"
exit "$rc"
