#!/usr/bin/env bash
# ingest throughput: generated carrier traffic, published with gb-publish to
# a real Kafka broker on this machine, read back by plain librdkafka (the
# floor) and then by one ingest process, in the same run on the same data.
#
#   bench/ingest_bench.sh [--records N] [--format json|protobuf] [--batch N]
#                         [--partitions P] [--invalid F] [--touch F]
#
#   --format json      one call per Kafka message (the default), or
#            protobuf  CallRecordBatch messages of --batch records (default 1000)
#   --invalid F        share of defective records (default 0.01)
#   --touch F          share of records touching protected/fraud pools (0.001)
#
# Prints events/s and CPU seconds per million records for ingest, next to the
# floor. Uses its own broker under var/bench (GB_BENCH_DIR); leaves it
# running for the next run (scripts/kafka-stop.sh --dir var/bench/kafka).
set -euo pipefail
GB_PROG=ingest_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
records=1000000 format=json batch=0 partitions=4 invalid=0.01 touch=0.001
while [ $# -gt 0 ]; do
  case $1 in
    --records) records=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --invalid) invalid=$2; shift 2 ;;
    --touch) touch=$2; shift 2 ;;
    *) gb_die "unknown argument $1 (see the header of $0)" ;;
  esac
done
[ "$batch" -gt 0 ] || { [ "$format" = protobuf ] && batch=1000 || batch=1; }

bench_start
suffix=$(date +%s)-$$
calls=bench.calls.$suffix visits=bench.visits.$suffix events=bench.events.$suffix dlq=bench.dlq.$suffix
build/tools/gb-topics -b "$B" -p "$partitions" -r 1 -c retention.ms=3600000 \
  create "$calls" "$visits" "$events" "$dlq" 2>/dev/null

data=$dir/calls-$records-$invalid-$touch.jsonl
[ -s "$data" ] || build/bench/gen-calls -n "$records" --invalid "$invalid" --touch "$touch" >"$data"
gb_log "publishing $records records ($format, $batch per message) with gb-publish"
pub_args=(--batch "$batch" --quiet)
[ "$format" = protobuf ] && pub_args+=(--encode protobuf)
t=$(gb_now_ms)
build/tools/gb-publish -b "$B" -t "$calls" "${pub_args[@]}" "$data" 2>"$dir/publish.log" ||
  { cat "$dir/publish.log" >&2; gb_die "gb-publish failed"; }
gb_log "published in $(( $(gb_now_ms) - t )) ms"

floor=$(build/bench/consume-floor -b "$B" -t "$calls")
gb_log "floor: $floor"
# What gb-publish could not read (bad JSON lines) never reached the topic.
records=${floor#*records=}; records=${records%% *}

admin=$(gb_free_port)
log=$dir/ingest-$suffix.log
gb_launch "$log" "$dir/ingest.pid" build/ingest/ingest --log.level=warn \
  --kafka.bootstrap.servers="$B" --topic.calls="$calls" --topic.visits="$visits" \
  --topic.events="$events" --topic.dlq="$dlq" --ingest.group="bench-$suffix" \
  --admin.port="$admin" --ingest.max-future-s=86400
pid=$(cat "$dir/ingest.pid")
trap 'gb_pid_stop "$pid" 20 ingest >/dev/null 2>&1 || true' EXIT
metric() { { curl -sf "http://127.0.0.1:$admin/metrics" 2>/dev/null || true; } | awk -v k="$1" '$1 == k {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Poll finely: the first record read starts the clock, the last one stops it.
t0=""; c0=""
deadline=$(( $(gb_now_ms) + 600000 ))
while :; do
  n=$(metric gb_ingest_records_in_total); n=${n:-0}
  if [ -z "$t0" ] && [ "$n" -gt 0 ]; then t0=$(gb_now_ms); c0=$(cpu_ticks); n0=$n; fi
  [ "$n" -ge "$records" ] && break
  [ "$(gb_now_ms)" -lt "$deadline" ] || gb_die "ingest read only $n of $records records in 10 minutes"
  [ -n "$t0" ] || [ "$n" -eq 0 ] || true
  gb_pid_alive "$pid" || gb_die "ingest died; see $log"
  sleep 0.02
done
t1=$(gb_now_ms); c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
out=$(metric gb_ingest_records_out_total); ev=$(metric gb_ingest_events_out_total)
dead=$(curl -sf "http://127.0.0.1:$admin/metrics" | awk '/^gb_ingest_records_dead_total/ {s += $2} END {print s}')
ms=$(( t1 - t0 )); [ "$ms" -gt 0 ] || ms=1
rate=$(( (records - n0) * 1000 / ms ))
cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
cpu_per_m=$(awk -v c="$cpu" -v r="$((records - n0))" 'BEGIN {printf "%.2f", c / (r / 1e6)}')
floor_rate=${floor##*records_per_s=}; floor_rate=${floor_rate%% *}
echo "ingest_bench format=$format batch=$batch records=$records partitions=$partitions invalid=$invalid"
echo "  floor (librdkafka, no processing): $floor_rate records/s"
echo "  ingest: $rate records/s, $(( ev * 1000 / ms )) events/s out, ${cpu} CPU s (${cpu_per_m} CPU s per million records)"
echo "  accounting: in=$records out=$out dead=$dead events=$ev ($(( rate * 100 / (floor_rate > 0 ? floor_rate : 1) ))% of the floor)"
