#!/usr/bin/env bash
# Stops a cluster that scripts/kafka-start.sh made.
#
#   scripts/kafka-stop.sh --dir DIR [--node ID] [--timeout S]
#   scripts/kafka-stop.sh --dir DIR --kill ID [--wait-fenced]
#   scripts/kafka-stop.sh --dir DIR --start ID [--wait-isr]
#
#   (default)  SIGTERM every node at once, wait up to --timeout (default 30 s)
#              for each to exit, then SIGKILL the ones left. The directory
#              and its data stay; kafka-start.sh --dir DIR starts it again.
#   --node ID  the same for one node only
#   --kill ID  SIGKILL node ID (a crash), wait until it is gone
#   --start ID restart node ID with its existing config and wait until it
#              answers; same as scripts/kafka-node.sh --dir DIR start ID
#
# Single-node operations (start, stop, kill, status) live in
# scripts/kafka-node.sh; --kill and --start here forward to it.
# A DIR without a cluster, or with nothing running, is not an error.
set -euo pipefail
GB_PROG=kafka-stop
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

dir="" node="" timeout=30
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --node) node=${2:?--node needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    --kill) exec "$GB_ROOT/scripts/kafka-node.sh" --dir "${dir:?--dir must come first}" kill "${2:?--kill needs a node id}" "${@:3}" ;;
    --start) exec "$GB_ROOT/scripts/kafka-node.sh" --dir "${dir:?--dir must come first}" start "${2:?--start needs a node id}" "${@:3}" ;;
    -h|--help) usage ;;
    *) gb_log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$dir" ] || usage
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || gb_die "--timeout wants seconds, got '$timeout'"
if [ ! -f "$dir/cluster.env" ]; then
  gb_log "no cluster in $dir; nothing to stop"
  exit 0
fi
gb_kafka_load "$dir"

if [ -n "$node" ]; then
  [[ "$node" =~ ^[0-9]+$ ]] && [ "$node" -ge 1 ] && [ "$node" -le "$NODES" ] ||
    gb_die "node id '$node' is not one of 1..$NODES"
  exec "$GB_ROOT/scripts/kafka-node.sh" --dir "$dir" stop "$node" --timeout "$timeout"
fi

# Signal all nodes first so they shut down together; one at a time, the last
# nodes would wait for a controller quorum that is already gone.
pids=()
for id in $(seq 1 "$NODES"); do
  pid=$(gb_kafka_node_pid "$dir" "$id")
  if gb_pid_alive "$pid" kafka.Kafka; then
    kill -s TERM "$pid" 2>/dev/null || true
    pids[$id]=$pid
  fi
done
if [ "${#pids[@]}" -eq 0 ]; then
  gb_log "nothing running in $dir"
  rm -f "$dir/bootstrap"
  exit 0
fi
rc=0
for id in "${!pids[@]}"; do
  if gb_pid_stop "${pids[$id]}" "$timeout" "kafka node $id" TERM kafka.Kafka; then
    gb_log "node $id stopped (pid ${pids[$id]})"
  else
    rc=1
  fi
done
rm -f "$dir/bootstrap"
exit "$rc"
