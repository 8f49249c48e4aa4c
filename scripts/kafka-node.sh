#!/usr/bin/env bash
# Stops, kills, restarts or reports one node of a cluster that
# scripts/kafka-start.sh made, for tests that take brokers away.
#
#   scripts/kafka-node.sh --dir DIR start ID [--no-wait | --wait-isr] [--timeout S]
#   scripts/kafka-node.sh --dir DIR stop ID [--timeout S]
#   scripts/kafka-node.sh --dir DIR kill ID [--wait-fenced] [--timeout S]
#   scripts/kafka-node.sh --dir DIR status [ID]
#   scripts/kafka-node.sh --dir DIR wait-isr [--timeout S]
#
#   start   launch node ID again with its existing config and data (same
#           ports), then wait until the node answers metadata and lists
#           itself as a broker (bounded: --timeout, default
#           $GB_KAFKA_START_TIMEOUT or 90 s); --no-wait returns at once.
#           Fails at once with the tail of its logs if the process dies.
#           --wait-isr then also waits until every partition is fully in
#           sync again (the restarted node has caught up).
#   stop    SIGTERM (controlled shutdown), wait up to --timeout (default 30 s),
#           then SIGKILL.
#   kill    SIGKILL, then wait (bounded) until the process is gone. The
#           controller notices only after broker.session.timeout.ms (9 s by
#           default): until then metadata still lists the node, as leader
#           and in the ISR. --wait-fenced waits (bounded, --timeout, default
#           30 s) until the other nodes' metadata no longer lists it.
#   wait-isr  wait (bounded, --timeout, default 90 s) until metadata shows
#           every partition with a leader and all replicas in sync.
#   status  one line per node: "node ID running pid P addr A" or
#           "node ID stopped addr A"; exit 1 if a named node is stopped.
#
# Messages go to stderr; status goes to stdout.
set -euo pipefail
GB_PROG=kafka-node
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

dir="" cmd="" id="" wait=1 wait_isr=0 wait_fenced=0 timeout=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --no-wait) wait=0; shift ;;
    --wait-isr) wait_isr=1; shift ;;
    --wait-fenced) wait_fenced=1; shift ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -h|--help) usage ;;
    start|stop|kill|status|wait-isr) cmd=$1; shift ;;
    [0-9]*) id=$1; shift ;;
    *) gb_log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$dir" ] && [ -n "$cmd" ] || usage
[ -d "$dir" ] || gb_die "no such directory: $dir"
dir=$(cd "$dir" && pwd)
gb_kafka_load "$dir"
if [ -n "$id" ]; then
  [[ "$id" =~ ^[0-9]+$ ]] && [ "$id" -ge 1 ] && [ "$id" -le "$NODES" ] ||
    gb_die "node id '$id' is not one of 1..$NODES"
elif [ "$cmd" != status ] && [ "$cmd" != wait-isr ]; then
  gb_die "$cmd needs a node id (1..$NODES)"
fi

# 0 once node $id answers and lists itself; 100 if its process died.
node_ready() {
  local ids
  if ! gb_kafka_node_alive "$dir" "$id"; then
    gb_log "node $id exited during startup"
    gb_kafka_node_tail "$dir" "$id"
    return 100
  fi
  ids=$(gb_kafka_broker_ids "$addr") || return 1
  grep -qx "$id" <<<"$ids"
}

# 0 once metadata from the other nodes no longer lists node $id.
node_fenced() {
  local ids
  ids=$(gb_kafka_broker_ids "$BOOTSTRAP") || return 1
  ! grep -qx "$id" <<<"$ids"
}

case $cmd in
  start)
    addr=$(gb_kafka_node_addr "$dir" "$id")
    if gb_kafka_node_alive "$dir" "$id"; then
      gb_log "node $id already running (pid $(gb_kafka_node_pid "$dir" "$id"))"
    else
      gb_kafka_ensure_jars
      t0=$(gb_now_ms)
      gb_kafka_node_launch "$dir" "$id"
      gb_log "node $id launched (pid $(gb_kafka_node_pid "$dir" "$id"), $addr)"
    fi
    if [ "$wait" = 1 ]; then
      gb_wait_until "${timeout:-${GB_KAFKA_START_TIMEOUT:-90}}" "node $id at $addr to answer metadata" node_ready ||
        exit 1
      gb_log "node $id ready${t0:+ in $(( $(gb_now_ms) - t0 )) ms}"
    fi
    if [ "$wait_isr" = 1 ]; then
      gb_wait_until "${timeout:-${GB_KAFKA_START_TIMEOUT:-90}}" "all partitions in sync at $BOOTSTRAP" \
        gb_kafka_isr_complete "$BOOTSTRAP" || exit 1
      gb_log "all partitions in sync${t0:+ $(( $(gb_now_ms) - t0 )) ms after launch}"
    fi
    ;;
  wait-isr)
    t0=$(gb_now_ms)
    gb_wait_until "${timeout:-90}" "all partitions in sync at $BOOTSTRAP" \
      gb_kafka_isr_complete "$BOOTSTRAP" || exit 1
    gb_log "all partitions in sync (waited $(( $(gb_now_ms) - t0 )) ms)"
    ;;
  stop)
    gb_kafka_node_stop "$dir" "$id" "${timeout:-30}" TERM
    ;;
  kill)
    gb_kafka_node_stop "$dir" "$id" 10 KILL
    if [ "$wait_fenced" = 1 ]; then
      t0=$(gb_now_ms)
      gb_wait_until "${timeout:-30}" "the controller to fence node $id" node_fenced || exit 1
      gb_log "node $id fenced $(( $(gb_now_ms) - t0 )) ms after SIGKILL"
    fi
    ;;
  status)
    rc=0
    for n in $(if [ -n "$id" ]; then echo "$id"; else seq 1 "$NODES"; fi); do
      if gb_kafka_node_alive "$dir" "$n"; then
        echo "node $n running pid $(gb_kafka_node_pid "$dir" "$n") addr $(gb_kafka_node_addr "$dir" "$n")"
      else
        echo "node $n stopped addr $(gb_kafka_node_addr "$dir" "$n")"
        [ -z "$id" ] || rc=1
      fi
    done
    exit "$rc"
    ;;
esac
