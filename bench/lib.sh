# Shared by the benchmark harnesses: source after scripts/lib/common.sh.

# bench_start [REDIS_NAME]: builds, then sets dir (GB_BENCH_DIR, default
# var/bench) and B, the bootstrap of the bench's own broker (started if it
# is not running; left running for the next run); with REDIS_NAME, also R,
# a fresh redis-server under $dir/REDIS_NAME.
bench_start() {
  scripts/build.sh >/dev/null
  dir=${GB_BENCH_DIR:-$GB_ROOT/var/bench}
  mkdir -p "$dir"
  B=$(scripts/kafka-start.sh --dir "$dir/kafka" --heap "${GB_BENCH_HEAP:-1g}" --topics "" \
        --topics-tool build/tools/gb-topics)
  if [ -n "${1:-}" ]; then
    rm -rf "${dir:?}/$1"
    R=$(scripts/redis-start.sh --dir "$dir/$1")
  fi
}

# bench_notifier NAME [OPTION...]: one notifier process on the broker B and
# the redis-server R (prefix gb:), on fresh topics of its own, with every
# partition of its alerts topic assigned. Sets notifier_pid, notifier_log,
# http (its port) and alerts_topic. The number-hash key goes in
# $dir/hash.key (GB_INDEX_HASH_KEY_FILE) and the data key in $dir/data.keys
# (GB_INDEX_KEYS_FILE: notifier opens registrants' details with it).
bench_notifier() {
  local name=$1 partitions=${GB_BENCH_PARTITIONS:-4} sfx
  shift
  sfx=$(date +%s)-$$
  local topics=(bench.alerts.$sfx bench.workflow.$sfx bench.dlq.$sfx bench.intel.$sfx)
  build/tools/gb-topics -b "$B" -p "$partitions" -r 1 -c retention.ms=7200000 create "${topics[@]}" 2>/dev/null
  alerts_topic=${topics[0]}
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/hash.key"
  echo "k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/data.keys"
  export GB_INDEX_HASH_KEY_FILE=$dir/hash.key GB_INDEX_KEYS_FILE=$dir/data.keys
  http=$(gb_free_port)
  notifier_log=$dir/$name-$sfx.log
  gb_launch "$notifier_log" "$dir/$name.pid" build/notifier/notifier --redis.url="$R" --redis.prefix=gb: \
    --kafka.bootstrap.servers="$B" --topic.alerts="${topics[0]}" --topic.workflow="${topics[1]}" \
    --topic.dlq="${topics[2]}" --topic.intel="${topics[3]}" --notifier.group="bench-$sfx" \
    --http.port="$http" "$@"
  notifier_pid=$(cat "$dir/$name.pid")
  _bench_notifier_up() {
    gb_pid_alive "$notifier_pid" || return 100
    [ "$(grep -c "kafka.assigned topic=$alerts_topic " "$notifier_log")" -ge "$partitions" ]
  }
  gb_wait_until 60 "notifier assigned every partition" _bench_notifier_up ||
    gb_die "notifier did not start; see $notifier_log"
}

# bench_device STATION OFFICER: an officer account of the station (gb-accounts
# create, then a one-time binding code) and a device bound through
# notifier's API, as an officer's phone does; prints "STATION TOKEN".
bench_device() {
  local acc=(build/tools/gb-accounts --redis "$R" --prefix gb:) code answer token
  "${acc[@]}" create "$2" --role officer --station "$1" --name "警官 $2" >/dev/null
  code=$("${acc[@]}" code "$2")
  answer=$(curl -sf -X POST "http://127.0.0.1:$http/v1/devices/bind" \
    -H 'content-type: application/json' -d "{\"code\":\"$code\",\"device\":\"$2 phone\"}") ||
    gb_die "binding a device of $2 failed"
  # {"token":"gbt_...",...}: read without jq, whose start-up (40 ms) would
  # dominate a thousand binds.
  token=${answer#*\"token\":\"}
  token=${token%%\"*}
  [[ "$token" == gbt_* ]] || gb_die "binding a device of $2: no token in $answer"
  printf '%s %s\n' "$1" "$token"
}

# bench_cpu PID: user + system CPU ticks of a process so far (0 if gone).
bench_cpu() {
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# bench_rq_wait PID: nanoseconds the process's main thread has spent
# runnable but waiting for a CPU (/proc/PID/schedstat), 0 if unknown.
bench_rq_wait() {
  awk '{print $2}' "/proc/$1/schedstat" 2>/dev/null || echo 0
}

# bench_children_cpu: CPU ticks of this shell's finished (waited-for)
# children so far; the difference around a foreground command is its CPU.
bench_children_cpu() {
  awk '{print $16 + $17}' "/proc/$$/stat"
}

# bench_commit_records: records in the broker's __consumer_offsets so far
# (each committed partition offset is one), to count consumers' commits.
bench_commit_records() {
  local q=() p
  for p in $(seq 0 49); do q+=(-t "__consumer_offsets:$p:-1"); done
  timeout 10 kcat -b "$B" -Q "${q[@]}" 2>/dev/null | awk '$(NF-1) == "offset" {s += $NF} END {print s + 0}'
}

# bench_redis_stats PORT: the commands Redis ran since its last CONFIG
# RESETSTAT, busiest first: "name calls x µs" (µs per call, in Redis'
# main thread, scripts' inner commands included in their EVAL's time).
bench_redis_stats() {
  redis-cli -p "$1" INFO commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),usec=\([0-9]*\),usec_per_call=\([0-9.]*\).*/\3 \1 \2 \4/p' |
    sort -rn | head -"${2:-5}" | awk '{printf "%s%s %d x %.1f µs", (NR > 1 ? ", " : ""), $2, $3, $4}'
}

# bench_machine_busy: busy CPU ticks of the whole machine so far (all
# cores: everything but idle and iowait), to tell whether something else
# ran during a measurement.
bench_machine_busy() {
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}
