#!/usr/bin/env bash
# Every service refuses bad configuration with status 2 and a clear message,
# and exits 1 with a startup.failed line naming the dependency when Kafka or
# Redis does not answer at start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init startup_errors
dead_port=$(gb_free_port) # nothing listens there

expect() { # want_status want_text name cmd...
  local want=$1 text=$2 name=$3 rc=0
  shift 3
  timeout 30 "$@" >"$IT_DIR/$name.out" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || it_fail "$name: exit $rc, want $want: $(head -c 300 "$IT_DIR/$name.out")"
  grep -qF -- "$text" "$IT_DIR/$name.out" || it_fail "$name: output lacks '$text': $(head -c 300 "$IT_DIR/$name.out")"
  gb_log "ok - $name: exit $rc, says '$text'"
}

for svc in ingest matcher notifier; do
  bin=$GB_BUILD_DIR/$svc/$svc
  expect 0 "Usage: $svc" "$svc-help" "$bin" --help
  expect 2 "unknown option --no-such-option" "$svc-unknown" "$bin" --no-such-option=1
  expect 2 "--startup.timeout-ms: 'soon' is not a whole number" "$svc-badint" "$bin" --startup.timeout-ms=soon
  expect 2 "--log.level: 'loud' is not debug, info, warn or error" "$svc-badlevel" "$bin" --log.level=loud
done

# Unreachable dependencies, each bounded by a short startup timeout.
it_hash_key
expect 1 'what=kafka reason="kafka: no answer from the cluster within 1500 ms' ingest-nokafka \
  "$GB_BUILD_DIR/ingest/ingest" --startup.timeout-ms=1500 --kafka.bootstrap.servers=127.0.0.1:$dead_port
expect 1 'what=redis reason="redis: no answer from redis://127.0.0.1:'"$dead_port" matcher-noredis \
  "$GB_BUILD_DIR/matcher/matcher" --startup.timeout-ms=1500 --redis.url=redis://127.0.0.1:$dead_port \
  --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file="$IT_KEYS_FILE"
expect 1 "keys: no data-encryption key" matcher-nokeys \
  "$GB_BUILD_DIR/matcher/matcher" --startup.timeout-ms=1500 --index.hash-key-file="$IT_HASH_KEY_FILE"
expect 1 'what=redis' notifier-noredis \
  "$GB_BUILD_DIR/notifier/notifier" --startup.timeout-ms=1500 --redis.url=redis://127.0.0.1:$dead_port
expect 1 "index hash key: set --index.hash-key-file" matcher-nokey \
  "$GB_BUILD_DIR/matcher/matcher" --startup.timeout-ms=1500
expect 1 "is not redis://host:port[/db]" notifier-badurl \
  "$GB_BUILD_DIR/notifier/notifier" --redis.url=localhost
# A topic that does not exist is a configuration error, not a silent wait.
it_redis
expect 1 "topic 'no.such.topic.$IT_SUFFIX' does not exist" ingest-notopic \
  "$GB_BUILD_DIR/ingest/ingest" --kafka.bootstrap.servers="$IT_BOOTSTRAP" --topic.calls="no.such.topic.$IT_SUFFIX"

IT_OK=1
gb_log "PASS: bad configuration and unreachable dependencies are refused clearly"
