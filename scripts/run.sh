#!/usr/bin/env bash
# Runs the whole pipeline on the embedded default, from a fresh machine:
# installs what is missing, builds, starts a local Kafka broker (KRaft) and a
# local redis-server, the three services and a demo source, and prints each
# alert as an officer's device receives it. Ctrl-C stops everything.
#
#   scripts/run.sh [--duration S]
#
# State lives in var/run/ (GB_RUN_DIR); logs in var/run/logs/.
set -euo pipefail
GB_PROG=run
. "$(dirname "$0")/lib/common.sh"
cd "$GB_ROOT"
duration=0
[ "${1:-}" = "--duration" ] && duration=$2

scripts/setup.sh
scripts/build.sh

run=${GB_RUN_DIR:-$GB_ROOT/var/run}
mkdir -p "$run/logs"
bootstrap=$(scripts/kafka-start.sh --dir "$run/kafka" --partitions 4 --topics-tool build/tools/gb-topics)
redis_url=$(scripts/redis-start.sh --dir "$run/redis")
# A broker kept from an earlier run may predate a topic: create any missing.
build/tools/gb-topics -b "$bootstrap" -p 4 -r 1 create gb.calls gb.visits gb.registry \
  gb.registry.results gb.intel gb.index gb.events gb.alerts gb.workflow gb.dlq 2>/dev/null
# The index's secrets (docs/OPERATIONS.md): the number-hash key and the
# data-encryption keyring. Made once; kept with the demo's data.
[ -s "$run/hash.key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/hash.key"
[ -s "$run/data.keys" ] || echo "k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$run/data.keys"
chmod 600 "$run/hash.key" "$run/data.keys"
# The bureau administrator's units: two police stations and the publicity centre.
stations=(build/tools/gb-stations --redis "$redis_url")
"${stations[@]}" add --id st-yongfu --name "永福派出所" --bureau demo-bureau --lat 24.4539 --lon 118.0820 >/dev/null
"${stations[@]}" add --id st-binhai --name "滨海派出所" --bureau demo-bureau --lat 24.5122 --lon 118.1462 >/dev/null
"${stations[@]}" add --id st-publicity --name "终结诈骗防诈宣传中心" --bureau demo-bureau --lat 24.48 --lon 118.10 --publicity >/dev/null
port=${GB_HTTP_PORT:-8080}
if ! "$GB_PYTHON" -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  port=$(gb_free_port)
fi

export GB_KAFKA_BOOTSTRAP_SERVERS=$bootstrap GB_REDIS_URL=$redis_url
export GB_INDEX_HASH_KEY_FILE=$run/hash.key GB_INDEX_KEYS_FILE=$run/data.keys GB_HTTP_PORT=$port
pids=()
cleanup() {
  trap - EXIT INT TERM
  gb_log "stopping"
  for pid in "${pids[@]}"; do gb_pid_stop "$pid" 15 "pid $pid" >/dev/null 2>&1 || true; done
  scripts/redis-stop.sh --dir "$run/redis" >/dev/null 2>&1 || true
  scripts/kafka-stop.sh --dir "$run/kafka" >/dev/null 2>&1 || true
  gb_log "stopped; logs are in $run/logs"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for svc in ingest matcher notifier; do
  gb_launch "$run/logs/$svc.log" "$run/$svc.pid" "build/$svc/$svc"
  pids+=("$(cat "$run/$svc.pid")")
done
assigned() { grep -q "event=kafka.assigned" "$run/logs/$1.log"; }
for svc in ingest matcher notifier; do
  gb_wait_until 60 "$svc to join its consumer group" assigned "$svc" ||
    { tail -n 20 "$run/logs/$svc.log" >&2; exit 1; }
done
gb_log "kafka $bootstrap, redis $redis_url, notifier http://127.0.0.1:$port"

# Two officers, one per station (accounts made with gb-accounts, as a bureau
# administrator would), each binds a device with a one-time code and prints
# what it receives.
bind_officer() { # ACCOUNT STATION -> the device token
  build/tools/gb-accounts create "$1" --role officer --station "$2" --name "$1" >/dev/null
  local code; code=$(build/tools/gb-accounts code "$1")
  curl -sf -X POST "http://127.0.0.1:$port/v1/devices/bind" -H 'content-type: application/json' \
    -d "{\"code\":\"$code\",\"device\":\"demo phone\"}" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}
device() {
  local station=$1 token
  token=$(bind_officer "demo-$station" "$station")
  [ -n "$token" ] || gb_die "could not bind a demo device for $station"
  curl -sN --no-buffer -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/v1/stream?station=$station" |
    while IFS= read -r line; do
      case $line in
        event:*) ev=${line#event: } ;;
        data:*)
          subj=$(sed -n 's/.*"subject":"\([^"]*\)".*/\1/p' <<<"$line")
          risk=$(sed -n 's/.*"risk":"\([^"]*\)".*/\1/p' <<<"$line")
          evid=$(sed -n 's/.*"evidence":"\([^"]*\)".*/\1/p' <<<"$line")
          printf '%s  officer device @%-10s  %-13s %-6s %s: %s\n' "$(date +%T)" "$station" \
            "${ev^^}" "$risk" "$subj" "$evid" ;;
      esac
    done
}
device st-yongfu & pids+=($!)
device st-binhai & pids+=($!)
streams() { [ "$(grep -c 'event=stream.opened' "$run/logs/notifier.log")" -ge 2 ]; }
gb_wait_until 20 "the officers' devices to connect" streams

# For a person at a browser: an officer of 永福派出所 and the bureau
# administrator, each with a one-time binding code to type into the page.
acc=(build/tools/gb-accounts)
"${acc[@]}" create officer-li --role officer --station st-yongfu --name "李警官" >/dev/null 2>&1 || true
"${acc[@]}" create bureau-admin --role bureau_admin --name "分局管理员" >/dev/null 2>&1 || true
officer_code=$("${acc[@]}" code officer-li) || gb_die "no binding code for the demo officer"
admin_code=$("${acc[@]}" code bureau-admin) || gb_die "no binding code for the bureau administrator"
gb_log "officer console:  http://127.0.0.1:$port/console/    binding code (李警官, 永福派出所): $officer_code"
gb_log "bureau dashboard: http://127.0.0.1:$port/dashboard/  binding code (分局管理员): $admin_code"
gb_log "(each code works once, for 24 h; live demo alerts for 永福派出所 follow below: claim one on the console)"

scripts/demo-source.sh "$bootstrap" --duration "$duration" 2>&1 | sed 's/^/  /' &
pids+=($!)
gb_log "running; alerts appear below within seconds (Ctrl-C stops)"
wait "${pids[-1]}"
