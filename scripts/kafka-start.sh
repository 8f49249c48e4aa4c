#!/usr/bin/env bash
# Starts a real Apache Kafka broker cluster (KRaft, combined broker+controller
# nodes, no ZooKeeper) on free loopback ports, for tests and the demo.
#
#   scripts/kafka-start.sh --dir DIR [--nodes 1|3] [--partitions N]
#       [--replication R] [--topics "t1 t2 ..."] [--heap 512m]
#       [--topics-tool PATH] [--timeout S]
#
#   --dir          cluster directory (created); nodes live in DIR/node-<id>
#   --nodes        1 (default) or 3
#   --partitions   partitions per topic and broker num.partitions (default 4)
#   --replication  replication factor of the topics (default min(nodes,3))
#   --topics       topics to create, space separated; "" creates none.
#                  Default: gb.calls gb.visits gb.registry gb.registry.results
#                  gb.intel gb.events gb.alerts gb.workflow gb.dlq
#   --heap         JVM -Xmx/-Xms per node (default 512m)
#   --topics-tool  gb-topics binary (default $GB_TOPICS_TOOL, then
#                  build/tools/gb-topics; if neither exists it is compiled
#                  into DIR/gb-topics with cc)
#   --timeout      seconds to wait for readiness (default
#                  $GB_KAFKA_START_TIMEOUT or 90)
#
# Prints the bootstrap list ("127.0.0.1:P[,127.0.0.1:P...]") as the only line
# on stdout and writes it to DIR/bootstrap; all chatter goes to stderr.
# Idempotent: if DIR already holds a running cluster that answers metadata,
# it prints its bootstrap and does nothing else; if DIR holds a stopped
# cluster, it starts the stopped nodes with their existing config and data.
# On failure it stops the nodes it started (GB_KAFKA_KEEP_ON_FAILURE=1 keeps
# them for debugging) and prints the tail of their logs.
#
# Environment: GB_KAFKA_HOME (jars in $GB_KAFKA_HOME/libs, default
# build/kafka), JAVA, GB_KAFKA_JVM_OPTS (extra JVM options; on a 2-core
# machine "-XX:TieredStopAtLevel=1" starts a 3-node cluster about 25% faster,
# at the cost of peak broker throughput, so it is not the default).
# Stop with scripts/kafka-stop.sh --dir DIR; single nodes: scripts/kafka-node.sh.
set -euo pipefail
GB_PROG=kafka-start
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DEFAULT_TOPICS="gb.calls gb.visits gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.workflow gb.dlq"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

dir="" nodes="" partitions="" replication="" topics=$DEFAULT_TOPICS heap=""
topics_tool="" timeout=${GB_KAFKA_START_TIMEOUT:-90}
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
    --partitions) partitions=${2:?--partitions needs a value}; shift 2 ;;
    --replication) replication=${2:?--replication needs a value}; shift 2 ;;
    --topics) [ $# -ge 2 ] || gb_die "--topics needs a value"; topics=$2; shift 2 ;;
    --heap) heap=${2:?--heap needs a value}; shift 2 ;;
    --topics-tool) topics_tool=${2:?--topics-tool needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -h|--help) usage ;;
    *) gb_log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$dir" ] || { gb_log "--dir is required"; usage; }
[ -z "$heap" ] || [[ "$heap" =~ ^[1-9][0-9]*[kKmMgG]?$ ]] || gb_die "--heap wants e.g. 512m, got '$heap'"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || gb_die "--timeout wants seconds, got '$timeout'"
command -v kcat >/dev/null || gb_die "kcat not found (run scripts/setup.sh)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# ---- readiness --------------------------------------------------------------

# Exit 0 when every node answers and metadata lists all NODES brokers, 100 if
# a node process died (no point waiting), 1 otherwise.
cluster_ready() {
  local id ids
  for id in $(seq 1 "$NODES"); do
    if ! gb_kafka_node_alive "$dir" "$id"; then
      gb_log "node $id (pid $(gb_kafka_node_pid "$dir" "$id")) exited during startup"
      gb_kafka_node_tail "$dir" "$id"
      died=1
      return 100
    fi
  done
  # A cheap connect first: kcat against ports that refuse takes up to a
  # second to give up, which would delay noticing readiness.
  for id in $(seq 1 "$NODES"); do
    gb_port_open 127.0.0.1 "$(gb_kafka_node_addr "$dir" "$id" | cut -d: -f2)" || return 1
  done
  ids=$(gb_kafka_broker_ids "$BOOTSTRAP") || return 1
  [ "$(wc -l <<<"$ids")" -eq "$NODES" ]
}

# ---- reuse a cluster already in DIR -------------------------------------------

if [ -f "$dir/cluster.env" ]; then
  gb_kafka_load "$dir"
  if [ -n "$nodes" ] && [ "$nodes" != "$NODES" ]; then
    gb_die "$dir holds a $NODES-node cluster, not $nodes; stop it and remove $dir first"
  fi
  if [ -f "$dir/bootstrap" ] && [ "$(cat "$dir/bootstrap")" = "$BOOTSTRAP" ] &&
     ids=$(gb_kafka_broker_ids "$BOOTSTRAP") && [ "$(wc -l <<<"$ids")" -eq "$NODES" ]; then
    gb_log "reusing the running $NODES-node cluster in $dir"
    echo "$BOOTSTRAP"
    exit 0
  fi
  gb_log "restarting the existing $NODES-node cluster in $dir"
  new_cluster=0
else
  nodes=${nodes:-1}
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || gb_die "--nodes wants 1 or 3, got '$nodes'"
  new_cluster=1
fi
rm -f "$dir/bootstrap"
n=${NODES:-$nodes}
rf=$(( n < 3 ? n : 3 ))
# A restarted cluster keeps the partition count and replication it was made with.
partitions=${partitions:-${PARTITIONS:-4}}
HEAP=${heap:-${HEAP:-512m}}
replication=${replication:-${REPLICATION:-$rf}}
[[ "$partitions" =~ ^[1-9][0-9]*$ ]] || gb_die "--partitions wants a positive integer, got '$partitions'"
[[ "$replication" =~ ^[1-9][0-9]*$ ]] || gb_die "--replication wants a positive integer, got '$replication'"
[ "$replication" -le "$n" ] || gb_die "--replication $replication exceeds the node count $n"

gb_kafka_ensure_jars

# ---- the gb-topics tool -----------------------------------------------------------

if [ -n "${topics// /}" ]; then
  topics_tool=${topics_tool:-${GB_TOPICS_TOOL:-}}
  if [ -z "$topics_tool" ]; then
    if [ -x "$GB_ROOT/build/tools/gb-topics" ]; then
      topics_tool=$GB_ROOT/build/tools/gb-topics
    else
      topics_tool=$dir/gb-topics
      if [ ! -x "$topics_tool" ] || [ "$GB_ROOT/tools/gb-topics.c" -nt "$topics_tool" ]; then
        gb_log "build/tools/gb-topics not built; compiling $topics_tool"
        # shellcheck disable=SC2046 # pkg-config prints a list of flags
        "${CC:-cc}" -std=gnu11 -O2 -o "$topics_tool" "$GB_ROOT/tools/gb-topics.c" \
          $(pkg-config --cflags --libs rdkafka) ||
          gb_die "could not compile tools/gb-topics.c (run the CMake build or pass --topics-tool)"
      fi
    fi
  fi
  [ -x "$topics_tool" ] || gb_die "topics tool '$topics_tool' is not an executable"
fi

# ---- write a new cluster's config ---------------------------------------------

write_node_config() {
  local id=$1 nd=$dir/node-$1
  local isr=$(( NODES == 1 ? 1 : 2 ))
  mkdir -p "$nd/data"
  cat >"$nd/server.properties" <<EOF
# Written by scripts/kafka-start.sh; node $id of $NODES (combined broker+controller).
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$VOTERS
listeners=PLAINTEXT://127.0.0.1:${BPORTS[$id]},CONTROLLER://127.0.0.1:${CPORTS[$id]}
advertised.listeners=PLAINTEXT://127.0.0.1:${BPORTS[$id]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$nd/data

num.partitions=$PARTITIONS
default.replication.factor=$REPLICATION
auto.create.topics.enable=false
min.insync.replicas=$isr
offsets.topic.replication.factor=$RF
transaction.state.log.replication.factor=$RF
transaction.state.log.min.isr=$isr
# Fewer internal partitions than the default 50: the first consumer group and
# the first transactional producer come up much faster on a test broker.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0

log.retention.hours=168
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
replica.fetch.response.max.bytes=16777216
EOF
}

if [ "$new_cluster" = 1 ]; then
  NODES=$nodes PARTITIONS=$partitions REPLICATION=$replication RF=$rf
  CLUSTER_ID=$("$GB_PYTHON" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))')
  mapfile -t ports < <(gb_free_ports $((2 * NODES)))
  [ "${#ports[@]}" -eq $((2 * NODES)) ] || gb_die "could not pick free ports"
  declare -a BPORTS CPORTS
  VOTERS="" BOOTSTRAP=""
  for id in $(seq 1 "$NODES"); do
    BPORTS[$id]=${ports[$((2 * id - 2))]}
    CPORTS[$id]=${ports[$((2 * id - 1))]}
    VOTERS+="${VOTERS:+,}$id@127.0.0.1:${CPORTS[$id]}"
    BOOTSTRAP+="${BOOTSTRAP:+,}127.0.0.1:${BPORTS[$id]}"
  done
  for id in $(seq 1 "$NODES"); do
    write_node_config "$id"
  done
  cat >"$dir/cluster.env" <<EOF
# Written by scripts/kafka-start.sh; read by kafka-stop.sh and kafka-node.sh.
NODES=$NODES
CLUSTER_ID=$CLUSTER_ID
BOOTSTRAP=$BOOTSTRAP
PARTITIONS=$PARTITIONS
REPLICATION=$REPLICATION
RF=$RF
HEAP=$HEAP
EOF
  gb_log "new $NODES-node cluster $CLUSTER_ID in $dir, bootstrap $BOOTSTRAP"
fi

# ---- format, launch, wait ---------------------------------------------------------

launched=()
ok=0
on_exit() {
  local id
  [ "$ok" = 1 ] && return 0
  [ "${#launched[@]}" -gt 0 ] || return 0
  if [ "${GB_KAFKA_KEEP_ON_FAILURE:-0}" = 1 ]; then
    gb_log "GB_KAFKA_KEEP_ON_FAILURE=1: leaving nodes ${launched[*]} running"
    return 0
  fi
  for id in "${launched[@]}"; do
    gb_kafka_node_stop "$dir" "$id" 5 KILL || true
  done
}
trap on_exit EXIT

t0=$(gb_now_ms)
fmt_pids=()
for id in $(seq 1 "$NODES"); do
  nd=$dir/node-$id
  [ -f "$nd/data/meta.properties" ] && continue
  # StorageTool 3.9.1: "format -t ID -c FILE"; with the static
  # controller.quorum.voters it needs none of --standalone/--initial-controllers.
  # Without a log4j config it only warns about that, into format.out, and
  # leaves server.log to the broker.
  timeout 120 "${JAVA:-java}" -Xmx256m -Djava.awt.headless=true \
    -cp "$GB_KAFKA_HOME/libs/*" kafka.tools.StorageTool format \
    -t "$CLUSTER_ID" -c "$nd/server.properties" --ignore-formatted \
    >"$nd/format.out" 2>&1 &
  fmt_pids[$id]=$!
done
for id in "${!fmt_pids[@]}"; do
  if ! wait "${fmt_pids[$id]}"; then
    gb_log "formatting node $id failed:"
    cat "$dir/node-$id/format.out" >&2
    exit 1
  fi
done

for id in $(seq 1 "$NODES"); do
  if gb_kafka_node_alive "$dir" "$id"; then
    gb_log "node $id already running (pid $(gb_kafka_node_pid "$dir" "$id"))"
    continue
  fi
  gb_kafka_node_launch "$dir" "$id"
  launched+=("$id")
  gb_log "node $id launched (pid $(gb_kafka_node_pid "$dir" "$id"), heap $HEAP)"
done

died=0
if ! gb_wait_until "$timeout" "$NODES broker(s) at $BOOTSTRAP to answer metadata" cluster_ready; then
  if [ "$died" = 0 ]; then
    for id in $(seq 1 "$NODES"); do gb_kafka_node_tail "$dir" "$id" 10; done
  fi
  exit 1
fi
gb_log "cluster ready in $(( $(gb_now_ms) - t0 )) ms"

# ---- topics -------------------------------------------------------------------------

if [ -n "${topics// /}" ]; then
  # shellcheck disable=SC2086 # the topic list is split on spaces on purpose
  "$topics_tool" -b "$BOOTSTRAP" -p "$partitions" -r "$replication" -t 60000 \
    create $topics || gb_die "creating topics failed"
fi

echo "$BOOTSTRAP" >"$dir/bootstrap"
ok=1
echo "$BOOTSTRAP"
