# Helpers for integration tests. Source it after `set -euo pipefail`.
#
# Each test gets its own scratch directory, its own redis-server and unique
# topic names on the broker that the ctest fixture started for the whole run
# (GB_TEST_KAFKA_DIR), so tests never interfere and nothing needs tearing
# down on the broker. Every wait is bounded.
#
#   it_init NAME            scratch dir $IT_DIR, cleanup on exit
#   it_kafka_cluster N      the test's own N-broker cluster instead of the shared one
#   it_topics T...          creates topics "<T>.<suffix>", sets IT_TOPIC_<T> (dots as _)
#   it_redis                starts redis-server, sets IT_REDIS_URL
#   it_hash_key             writes a number-hash key file, sets IT_HASH_KEY_FILE
#   it_start NAME BIN ARGS  starts a service (log $IT_DIR/NAME.log; notifier gets
#                           --index.keys-file=$IT_KEYS_FILE unless ARGS name one)
#   it_wait_log NAME REGEX T DESC   waits until NAME's log matches REGEX
#   it_produce TOPIC KEY JSON       publishes one record with kcat
#   it_fail MSG             fails the test with a message
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

GB_BUILD_DIR=${GB_BUILD_DIR:-$GB_ROOT/build}
IT_PIDS=()
IT_NAMES=()
IT_OK=0

it_fail() {
  gb_log "FAIL: $*"
  exit 1
}

it_cleanup() {
  local i
  for i in "${!IT_PIDS[@]}"; do
    gb_pid_stop "${IT_PIDS[$i]}" 10 "${IT_NAMES[$i]}" TERM >/dev/null 2>&1 || true
  done
  [ -n "${IT_REDIS_DIR:-}" ] && "$GB_ROOT/scripts/redis-stop.sh" --dir "$IT_REDIS_DIR" >/dev/null 2>&1 || true
  [ -n "${IT_KAFKA_DIR:-}" ] && _it_kafka_cluster_stop || true
  # A sanitizer build reports at exit, into the service's log: any report
  # fails the test, whatever it asserted.
  local bad
  bad=$(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "${IT_DIR:-/nonexistent}"/*.log 2>/dev/null || true)
  if [ -n "$bad" ]; then
    gb_log "FAIL: sanitizer reports in: $bad"
    IT_OK=0
  fi
  [ "$IT_OK" = 1 ] && ! it_no_secrets_logged && IT_OK=0
  if [ "$IT_OK" != 1 ] && [ -d "${IT_DIR:-}" ]; then
    for f in "$IT_DIR"/*.log; do
      [ -s "$f" ] || continue
      gb_log "---- last lines of $f ----"
      tail -n 30 "$f" >&2
    done
    exit 1
  fi
}

# Tokens, binding codes and keys never reach a service's log: every test
# that passes checks its services' logs for each token and code it was
# given (IT_SECRETS), anything shaped like a device token, and the hex of
# the number-hash and data keys. Returns 1 (and says where) when one is there.
IT_SECRETS=()
IT_SERVICE_LOGS=()
it_no_secrets_logged() {
  [ "${#IT_SERVICE_LOGS[@]}" -gt 0 ] || return 0
  local s pats=("${IT_SECRETS[@]}")
  [ -s "${IT_HASH_KEY_FILE:-}" ] && pats+=("$(tr -d ' \n' <"$IT_HASH_KEY_FILE")")
  [ -s "${IT_KEYS_FILE:-}" ] && while IFS= read -r s; do pats+=("${s#*=}"); done <"$IT_KEYS_FILE"
  for s in "${pats[@]}"; do
    [ -n "$s" ] || continue
    if grep -nF -- "$s" "${IT_SERVICE_LOGS[@]}" >&2 2>/dev/null; then
      gb_log "FAIL: a secret (${s:0:6}...) is in a service's log"
      return 1
    fi
  done
  if grep -nE 'gbt_[A-Za-z0-9._-]+~[A-Za-z0-9_-]{16}' "${IT_SERVICE_LOGS[@]}" >&2 2>/dev/null; then
    gb_log "FAIL: a device token is in a service's log"
    return 1
  fi
  gb_log "no token, code or key in the services' logs (${#pats[@]} secrets and the token pattern checked)"
}

it_init() {
  GB_PROG=$1
  IT_DIR=${GB_TEST_TMP:-$GB_BUILD_DIR/test-tmp}/$1-$$
  rm -rf "$IT_DIR"
  mkdir -p "$IT_DIR"
  IT_SUFFIX=$(date +%s)-$$-$RANDOM
  [ -n "${GB_TEST_KAFKA_DIR:-}" ] || it_fail "GB_TEST_KAFKA_DIR is not set (run through ctest)"
  IT_BOOTSTRAP=$(cat "$GB_TEST_KAFKA_DIR/bootstrap") || it_fail "no broker bootstrap in $GB_TEST_KAFKA_DIR"
  trap it_cleanup EXIT
}

it_topics() {
  local t names=() var
  for t in "$@"; do
    names+=("$t.$IT_SUFFIX")
    var=IT_TOPIC_${t//./_}
    printf -v "$var" '%s' "$t.$IT_SUFFIX"
  done
  # IT_REPLICATION and IT_TOPIC_CONFIG (key=value words): set by it_kafka_cluster.
  local c conf=()
  for c in ${IT_TOPIC_CONFIG[@]+"${IT_TOPIC_CONFIG[@]}"}; do conf+=(-c "$c"); done
  "$GB_BUILD_DIR/tools/gb-topics" -b "$IT_BOOTSTRAP" -p "${IT_PARTITIONS:-4}" -r "${IT_REPLICATION:-1}" \
    ${conf[@]+"${conf[@]}"} create "${names[@]}" 2>>"$IT_DIR/topics.log" || it_fail "could not create topics"
}

# it_kafka_cluster NODES [kafka-start.sh OPTION...]: this test's own cluster
# of NODES brokers in $IT_DIR/kafka (IT_KAFKA_DIR) instead of the shared
# one, for tests that take brokers away. Call it after it_init and before
# it_topics: IT_BOOTSTRAP points at it, it_topics replicates to min(NODES, 3)
# (IT_REPLICATION) with min.insync.replicas=2 on three or more nodes
# (IT_TOPIC_CONFIG), and it_cleanup stops it, after the services (brokers
# a test left stopped with SIGSTOP are continued first). Heap 384m a node
# unless an option says otherwise; GB_KAFKA_JVM_OPTS defaults to the faster
# start (kafka-start.sh), for it_kafka_node's restarts too.
# IT_KAFKA_START_MS: how long the start took.
it_kafka_cluster() {
  local nodes=$1 t0
  shift
  IT_KAFKA_DIR=$IT_DIR/kafka
  # Not exported: the services would read a GB_KAFKA_* variable as a
  # librdkafka property. it_kafka_node restarts a node the same way.
  IT_KAFKA_JVM_OPTS=${GB_KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1}
  t0=$(gb_now_ms)
  IT_BOOTSTRAP=$(GB_KAFKA_JVM_OPTS=$IT_KAFKA_JVM_OPTS "$GB_ROOT/scripts/kafka-start.sh" \
    --dir "$IT_KAFKA_DIR" --nodes "$nodes" --heap 384m --topics "" "$@" 2>>"$IT_DIR/kafka-start.log") ||
    { tail -n 40 "$IT_DIR/kafka-start.log" >&2; it_fail "the $nodes-node cluster did not start"; }
  IT_KAFKA_START_MS=$(( $(gb_now_ms) - t0 ))
  IT_REPLICATION=$(( nodes < 3 ? nodes : 3 ))
  IT_TOPIC_CONFIG=()
  [ "$nodes" -lt 3 ] || IT_TOPIC_CONFIG=(min.insync.replicas=2)
}

# it_kafka_node ARGS...: scripts/kafka-node.sh on this test's cluster
# (it_kafka_node kill 2; it_kafka_node start 2 --wait-isr), chatter to
# $IT_DIR/kafka-start.log.
it_kafka_node() {
  GB_KAFKA_JVM_OPTS=$IT_KAFKA_JVM_OPTS "$GB_ROOT/scripts/kafka-node.sh" --dir "$IT_KAFKA_DIR" "$@" \
    2>>"$IT_DIR/kafka-start.log"
}

# it_kafka_pid ID: the pid of node ID of this test's cluster.
it_kafka_pid() {
  gb_kafka_node_pid "$IT_KAFKA_DIR" "$1"
}

_it_kafka_cluster_stop() {
  local nd pid
  for nd in "$IT_KAFKA_DIR"/node-*; do
    pid=$(cat "$nd/pid" 2>/dev/null || true)
    gb_pid_alive "$pid" kafka.Kafka && kill -s CONT "$pid" 2>/dev/null
  done
  "$GB_ROOT/scripts/kafka-stop.sh" --dir "$IT_KAFKA_DIR" --timeout 20 >>"$IT_DIR/kafka-start.log" 2>&1 ||
    gb_log "the test's cluster in $IT_KAFKA_DIR did not stop cleanly"
  # The brokers' data is only of use to debug a failure.
  [ "$IT_OK" != 1 ] || rm -rf "$IT_KAFKA_DIR"/node-*/data
  return 0
}

it_redis() {
  IT_REDIS_DIR=$IT_DIR/redis
  IT_REDIS_URL=$("$GB_ROOT/scripts/redis-start.sh" --dir "$IT_REDIS_DIR") || it_fail "redis did not start"
  IT_REDIS_PORT=${IT_REDIS_URL##*:}
}

# The index's secrets: the number-hash key and a data-encryption keyring.
it_hash_key() {
  IT_HASH_KEY_FILE=$IT_DIR/hash.key
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$IT_HASH_KEY_FILE"
  IT_KEYS_FILE=$IT_DIR/data.keys
  echo "k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$IT_KEYS_FILE"
}

# The keyed hash of an E.164 number, as Redis keys name it (BLAKE2b-128,
# computed independently with Python's hashlib).
it_numhash() {
  /usr/bin/python3 -c 'import hashlib,sys; k=bytes.fromhex(open(sys.argv[1]).read().strip()); print(hashlib.blake2b(sys.argv[2].encode(), digest_size=16, key=k).hexdigest())' \
    "$IT_HASH_KEY_FILE" "$1"
}

# it_station ID NAME LAT LON [--publicity]: a unit the bureau administrator created.
it_station() {
  "$GB_BUILD_DIR/tools/gb-stations" --redis "$IT_REDIS_URL" --prefix "${IT_PREFIX:-t$IT_SUFFIX:}" \
    add --id "$1" --name "$2" --bureau b1 --lat "$3" --lon "$4" ${5:-} >>"$IT_DIR/stations.log" 2>&1 ||
    it_fail "gb-stations could not add $1"
}

it_start() {
  local name=$1 bin=$2
  shift 2
  # notifier opens the people an alert is about with the data keys, as
  # matcher seals them: given this test's keys unless the test names some.
  if [ "$bin" = notifier/notifier ] && [ -n "${IT_KEYS_FILE:-}" ] && [[ " $* " != *" --index.keys-file"* ]]; then
    set -- "$@" --index.keys-file="$IT_KEYS_FILE"
  fi
  # IT_WRAP: a command the services run under (valgrind.sh: memcheck).
  gb_launch "$IT_DIR/$name.log" "$IT_DIR/$name.pid" ${IT_WRAP[@]+"${IT_WRAP[@]}"} "$GB_BUILD_DIR/$bin" "$@" ||
    it_fail "could not start $name"
  IT_SERVICE_LOGS+=("$IT_DIR/$name.log")
  IT_PIDS+=("$(cat "$IT_DIR/$name.pid")")
  IT_NAMES+=("$name")
}

_it_log_matches() {
  grep -Eq -- "$2" "$IT_DIR/$1.log" 2>/dev/null
}

it_wait_log() {
  gb_wait_until "$3" "$4" _it_log_matches "$1" "$2" || it_fail "$4"
}

# Sets IT_ARGS: the options every service of a test shares: this test's
# Redis and prefix, the broker, and every topic it_topics made, by name
# (gb.registry.results -> --topic.registry-results).
it_service_args() {
  IT_ARGS=(--redis.url="$IT_REDIS_URL" --redis.prefix="${IT_PREFIX:-t$IT_SUFFIX:}"
    --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000)
  local var name
  for var in ${!IT_TOPIC_gb_*}; do
    name=${var#IT_TOPIC_gb_}
    IT_ARGS+=("--topic.${name//_/-}=${!var}")
  done
}

it_produce() {
  printf '%s|%s\n' "$2" "$3" |
    kcat -P -b "$IT_BOOTSTRAP" -t "$1" -K '|' -H content-type=application/json \
      -X enable.idempotence=true -X acks=all 2>>"$IT_DIR/kcat.log" ||
    it_fail "kcat could not publish to $1"
}

_it_notifier_start() {
  it_start notifier notifier/notifier "${IT_ARGS[@]}" --notifier.group="n$IT_SUFFIX" \
    --index.hash-key-file="$IT_HASH_KEY_FILE" \
    --http.port="$IT_HTTP" ${IT_NOTIFIER_ARGS:-}
}

# it_notifier: notifier alone on this test's topics, assigned its
# partitions; IT_HTTP is its port. Needs it_env first.
it_notifier() {
  IT_HTTP=$(gb_free_port)
  it_service_args
  _it_notifier_start
  it_wait_log notifier "kafka.assigned topic=$IT_TOPIC_gb_alerts" 60 "notifier assignment"
}

# it_stack [MATCHER_OPTION...]: ingest, matcher (debug log) and notifier on
# this test's topics, each assigned its partitions; IT_HTTP is notifier's
# port; IT_NOTIFIER_ARGS adds options to notifier. Needs it_env first.
it_stack() {
  IT_HTTP=$(gb_free_port)
  it_service_args
  it_start ingest ingest/ingest "${IT_ARGS[@]}" --ingest.group="i$IT_SUFFIX" --admin.port=0
  it_start matcher matcher/matcher "${IT_ARGS[@]}" --log.level=debug --matcher.group="m$IT_SUFFIX" \
    --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file="$IT_KEYS_FILE" --admin.port=0 "$@"
  _it_notifier_start
  it_wait_log ingest "kafka.assigned topic=$IT_TOPIC_gb_calls" 60 "ingest assignment"
  it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_events" 60 "matcher assignment"
  it_wait_log notifier "kafka.assigned topic=$IT_TOPIC_gb_alerts" 60 "notifier assignment"
}

# it_token ACCOUNT STATION [ROLE]: an account (an officer unless ROLE says
# otherwise) of the station, made with gb-accounts, and a device bound to it
# through notifier's API (IT_HTTP); IT_TOKEN gets the device's token.
it_token() {
  local acc=("$GB_BUILD_DIR/tools/gb-accounts" --redis "$IT_REDIS_URL" --prefix "${IT_PREFIX:-t$IT_SUFFIX:}")
  "${acc[@]}" create "$1" --role "${3:-officer}" ${2:+--station "$2"} >>"$IT_DIR/accounts.log" 2>&1 ||
    it_fail "gb-accounts could not create $1"
  local code
  code=$("${acc[@]}" code "$1" 2>>"$IT_DIR/accounts.log") || it_fail "gb-accounts gave no code for $1"
  IT_TOKEN=$(curl -sf -X POST "http://127.0.0.1:$IT_HTTP/v1/devices/bind" -H 'content-type: application/json' \
    -d "{\"code\":\"$code\",\"device\":\"$1 phone\"}" | jq -er .token) ||
    it_fail "binding a device of $1 failed"
  IT_SECRETS+=("$IT_TOKEN" "$code")
}

# it_device NAME STATION: a device of an officer of the station on the
# station's push stream; what it receives goes to $IT_DIR/NAME.out.
it_device() {
  it_token "o-$1" "$2"
  gb_launch "$IT_DIR/$1.out" "$IT_DIR/$1.pid" \
    curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$IT_HTTP/v1/stream?station=$2"
  IT_PIDS+=("$(cat "$IT_DIR/$1.pid")"); IT_NAMES+=("$1")
  it_wait_log notifier "stream.opened station=$2" 20 "the $2 device"
}

# it_call ID CALLER CALLEE DURATION_S [START (RFC 3339, default now)] [STATUS]:
# a carrier's call record.
it_call() {
  local start=${5:-$(date -u +%Y-%m-%dT%H:%M:%SZ)} status=${6:-final}
  it_produce "$IT_TOPIC_gb_calls" "$1" \
    "{\"call_id\":\"$1\",\"caller\":\"$2\",\"callee\":\"$3\",\"start\":\"$start\",\"duration_s\":$4,\"status\":\"$status\",\"carrier\":\"CMCC\"}"
}

# it_ago SECONDS: the time that long ago, RFC 3339 UTC.
it_ago() {
  date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%SZ
}

# it_alerts DEVICE: every alert the device received, one JSON a line.
it_alerts() {
  sed -n 's/^data: //p' "$IT_DIR/$1.out" 2>/dev/null
}

# it_alerts_for DEVICE SUBJECT: the subject's alerts the device received.
it_alerts_for() {
  it_alerts "$1" | jq -c --arg s "$2" 'select(.subject == $s)'
}

# it_wait_alert DEVICE SUBJECT JQ_FILTER SECONDS WHAT: waits until an alert
# about SUBJECT for which the filter is true reaches the device.
_it_alert_matches() {
  [ -n "$(it_alerts_for "$1" "$2" | jq -c "select($3)" 2>/dev/null)" ]
}
it_wait_alert() {
  gb_wait_until "$4" "$5" _it_alert_matches "$1" "$2" "$3" ||
    it_fail "$5: the device got: $(it_alerts_for "$1" "$2" | cut -c1-600)"
}

# it_messages TOPIC TYPE PROTO: every message on the topic, decoded by protoc
# (an independent decoder) as TYPE of PROTO (goldenbell/v1/...), one a line.
it_messages() {
  local p o
  timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$1" -o beginning -e -q -f '%p %o\n' 2>/dev/null |
    while read -r p o; do
      timeout 10 kcat -C -b "$IT_BOOTSTRAP" -t "$1" -p "$p" -o "$o" -c 1 -e -q -f '%s' 2>/dev/null |
        protoc --proto_path="$GB_ROOT/proto" --decode="$2" "$3" | tr '\n' ' '
      echo
    done
}

# it_count TOPIC: how many messages the topic holds.
it_count() {
  timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$1" -o beginning -e -q -f '%o\n' 2>/dev/null | grep -c . || true
}

# it_env NAME: the usual test setting: the test's directory, every topic the
# three services use, a redis-server, the number-hash and data keys, and a
# key prefix of the test's own.
it_env() {
  it_init "$1"
  it_topics gb.calls gb.visits gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.workflow gb.dlq
  it_redis
  it_hash_key
  IT_PREFIX="t$IT_SUFFIX:"
}

# it_unseal CONTEXT: opens the sealed values on stdin, one a line
# (gb-registry unseal, with the test's keys).
it_unseal() {
  "$GB_BUILD_DIR/tools/gb-registry" unseal "$1" --index.keys-file="$IT_KEYS_FILE" --log.level=error
}

# it_feed STATION: the station's feed entries' JSON, opened, one a line.
it_feed() {
  redis-cli -p "$IT_REDIS_PORT" --raw XRANGE "${IT_PREFIX}feed:{st:$1}" - + |
    awk 'prev == "json" { print } { prev = $0 }' | it_unseal notifier.feed
}

# it_no_plain_numbers NUMBER...: fails when any of the numbers (national
# form: 13900000001), as digits or spaced (139 0000 0001), is anywhere in
# Redis in the clear: key names and every value of every type. Citizens'
# numbers are sealed or hashed at rest; fraud numbers are not citizens'.
it_no_plain_numbers() {
  local k dump=$IT_DIR/redis-dump.txt rc=(redis-cli -p "$IT_REDIS_PORT" --raw)
  "${rc[@]}" --scan --pattern "${IT_PREFIX}*" >"$IT_DIR/redis-keys.txt"
  : >"$dump"
  while IFS= read -r k; do
    echo "KEY $k" >>"$dump"
    case $("${rc[@]}" TYPE "$k") in
      hash) "${rc[@]}" HGETALL "$k" >>"$dump" ;;
      string) "${rc[@]}" GET "$k" >>"$dump" ;;
      zset) "${rc[@]}" ZRANGE "$k" 0 -1 WITHSCORES >>"$dump" ;;
      set) "${rc[@]}" SMEMBERS "$k" >>"$dump" ;;
      list) "${rc[@]}" LRANGE "$k" 0 -1 >>"$dump" ;;
      stream) "${rc[@]}" XRANGE "$k" - + >>"$dump" ;;
    esac
  done <"$IT_DIR/redis-keys.txt"
  [ "$(wc -l <"$IT_DIR/redis-keys.txt")" -ge 10 ] || it_fail "too few keys to scan: $(wc -l <"$IT_DIR/redis-keys.txt")"
  local num
  for num in "$@"; do
    if grep -n -e "$num" -e "${num:0:3} ${num:3:4} ${num:7:4}" "$dump" >&2; then
      it_fail "plain number $num found in Redis (see $dump)"
    fi
  done
  IT_SCANNED_KEYS=$(wc -l <"$IT_DIR/redis-keys.txt")
}

# it_admin NAME: host:port of a service's admin endpoint (ingest, matcher;
# --admin.port=0 picks a free one), from its start line.
it_admin() {
  sed -n "s/.*event=$1\.started .*admin=\([0-9.]*:[0-9]*\).*/\1/p" "$IT_DIR/$1.log" | tail -1
}

# it_sse_events DEVICE EVENT: the data of every event of that type the
# device received, one JSON a line (it_alerts gives every event's).
it_sse_events() {
  awk -v want="$2" '/^event: /{ev=substr($0,8)} /^data: /{if (ev==want) print substr($0,7)} /^$/{ev=""}' \
    "$IT_DIR/$1.out" 2>/dev/null
}

# ---- steady traffic, for the tests of trouble (broker_trouble, chaos) ----

# it_traffic_start RATE POOL FRAUD [BACKGROUND]: RATE calls a second that
# must alert (FRAUD calls protected person i, +86 139 001 xxxxx, for 5 min;
# the next i each time) and BACKGROUND (default 1) that must not per
# alerting call (a clean number with a protected person, FRAUD with
# nobody protected, two clean numbers, in turn), through one idempotent
# kcat (acks=all), until it_traffic_stop or the POOL persons run out.
# $IT_DIR/hits.log: "<i> <subject> <ms sent>" per alerting call;
# it_hits_sent counts them.
_it_traffic() {
  local rate=$1 pool=$2 fraud=$3 bgper=$4 h=0 b=0 k period=$((1000 / $1)) next start now callee kind
  local tail=',"duration_s":300,"status":"final","carrier":"CMCC"}'
  next=$(gb_now_ms)
  while [ ! -e "$IT_DIR/traffic.stop" ] && [ "$h" -lt "$pool" ]; do
    printf -v start '%(%Y-%m-%dT%H:%M:%SZ)T' -1
    printf 'hit-%d|{"call_id":"hit-%d","caller":"%s","callee":"%d","start":"%s"%s\n' \
      "$h" "$h" "$fraud" $((13900100000 + h)) "$start" "$tail"
    echo "$h +86$((13900100000 + h)) $(gb_now_ms)" >>"$IT_DIR/hits.log"
    h=$((h + 1))
    for ((k = 0; k < bgper; k++)); do
      kind=$((b % 3))
      case $kind in
        0) callee=$((13900100000 + (b * 7) % pool)) ;;
        *) callee=$((13700000000 + b)) ;;
      esac
      printf 'bg-%d|{"call_id":"bg-%d","caller":"%s","callee":"%d","start":"%s"%s\n' \
        "$b" "$b" "$([ "$kind" = 1 ] && echo "$fraud" || echo $((13600000000 + b)))" "$callee" "$start" "$tail"
      b=$((b + 1))
    done
    echo "$b" >"$IT_DIR/background.count"
    next=$((next + period))
    now=$(gb_now_ms)
    [ "$next" -le "$now" ] || sleep "$(((next - now) / 1000)).$(printf %03d $(((next - now) % 1000)))"
  done
}
it_hits_sent() { wc -l <"$IT_DIR/hits.log" 2>/dev/null || echo 0; }
it_traffic_start() {
  echo 0 >"$IT_DIR/background.count"
  mkfifo "$IT_DIR/traffic.fifo"
  gb_launch "$IT_DIR/traffic-kcat.log" "$IT_DIR/traffic-kcat.pid" \
    kcat -P -b "$IT_BOOTSTRAP" -K '|' -H content-type=application/json \
    -X enable.idempotence=true -X acks=all -t "$IT_TOPIC_gb_calls" -l "$IT_DIR/traffic.fifo"
  IT_TRAFFIC_KCAT=$(cat "$IT_DIR/traffic-kcat.pid")
  IT_PIDS+=("$IT_TRAFFIC_KCAT"); IT_NAMES+=(traffic-kcat)
  TZ=UTC _it_traffic "$1" "$2" "$3" "${4:-1}" >"$IT_DIR/traffic.fifo" 2>>"$IT_DIR/traffic.err" &
  IT_TRAFFIC_GEN=$!
  IT_PIDS+=("$IT_TRAFFIC_GEN"); IT_NAMES+=(traffic)
}

# it_forget_pid PID: it_cleanup no longer signals it (it ended by itself,
# and its pid may be someone else's next).
it_forget_pid() {
  local i
  for i in "${!IT_PIDS[@]}"; do
    [ "${IT_PIDS[$i]}" = "$1" ] && unset 'IT_PIDS[i]' 'IT_NAMES[i]'
  done
  return 0
}

# it_traffic_stop: ends the traffic and waits until kcat delivered every
# call. IT_HITS and IT_BACKGROUND: the calls that must and must not alert.
it_traffic_stop() {
  touch "$IT_DIR/traffic.stop"
  gb_wait_until 10 "the traffic generator to stop" _gb_pid_gone "$IT_TRAFFIC_GEN" || it_fail "the generator did not stop"
  wait "$IT_TRAFFIC_GEN" || it_fail "the traffic generator failed: $(tail -n 5 "$IT_DIR/traffic.err")"
  gb_wait_until 60 "kcat to deliver the last calls and exit" _gb_pid_gone "$IT_TRAFFIC_KCAT" ||
    it_fail "the traffic's kcat did not finish"
  it_forget_pid "$IT_TRAFFIC_GEN"
  it_forget_pid "$IT_TRAFFIC_KCAT"
  ! grep -i 'delivery failed' "$IT_DIR/traffic-kcat.log" >&2 || it_fail "kcat reported failed deliveries"
  IT_HITS=$(it_hits_sent)
  IT_BACKGROUND=$(cat "$IT_DIR/background.count")
}

# it_lag GROUP TOPIC...: the consumer group's lag summed over the topics'
# partitions (gb-topics lag).
it_lag() {
  local out
  out=$("$GB_BUILD_DIR/tools/gb-topics" -b "$IT_BOOTSTRAP" -t 5000 lag "$@" 2>>"$IT_DIR/lag.log") &&
    [ -n "$out" ] || return 1
  awk -F'\t' '{ s += $5 } END { print s }' <<<"$out"
}

# it_wait_lag_zero SECONDS: waits until ingest's, matcher's and notifier's
# groups (it_stack's names) have read everything; IT_LAG says the last
# figures. IT_LAG_CHECK: a command run at each look (e.g. that no worker
# died).
_it_lag_zero() {
  local i m n
  ${IT_LAG_CHECK:-true}
  i=$(it_lag "i$IT_SUFFIX" "$IT_TOPIC_gb_calls" "$IT_TOPIC_gb_visits") &&
    m=$(it_lag "m$IT_SUFFIX" "$IT_TOPIC_gb_registry" "$IT_TOPIC_gb_intel" "$IT_TOPIC_gb_events") &&
    n=$(it_lag "n$IT_SUFFIX" "$IT_TOPIC_gb_alerts") || return 1
  IT_LAG="ingest $i, matcher $m, notifier $n"
  [ $((i + m + n)) = 0 ]
}
it_wait_lag_zero() {
  IT_LAG=unknown
  GB_WAIT_INTERVAL=0.5 gb_wait_until "$1" "every consumer group's lag to return to 0" _it_lag_zero ||
    it_fail "consumer lag after $1 s: $IT_LAG"
}

# it_stop_clean PID_INGEST PID_MATCHER PID_NOTIFIER: SIGTERM to each, and
# each must say it stopped cleanly (everything handled was committed).
it_stop_clean() {
  local pids=([0]="$1" [1]="$2" [2]="$3") names=(ingest matcher notifier) i
  for i in 0 1 2; do
    gb_pid_stop "${pids[$i]}" 20 "${names[$i]}" TERM || it_fail "${names[$i]} ignored SIGTERM"
  done
  it_wait_log ingest 'event=pipeline.stopped .* clean=yes' 5 "ingest clean stop"
  it_wait_log matcher 'event=pipeline.stopped .* clean=yes' 5 "matcher clean stop"
  it_wait_log notifier 'event=notifier.stopped .* exit=0' 5 "notifier clean stop"
}
