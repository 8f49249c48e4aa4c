# Shared helpers for goldenbell's scripts. Source it; it defines functions
# and GB_ROOT (the repository root) and changes no shell options.
#
#   gb_log MSG...                 one line to stderr, prefixed by the script name
#   gb_die MSG...                 gb_log, then exit 1
#   gb_free_ports N               N distinct free loopback TCP ports, one a line
#   gb_free_port                  one free loopback TCP port
#   gb_wait_until T DESC CMD...   run CMD until it succeeds, at most T seconds
#   gb_pid_alive PID [PATTERN]    PID is running (and its cmdline matches PATTERN)
#   gb_pid_stop PID T DESC [SIG]  SIG (default TERM), wait up to T s, then KILL
#   gb_launch LOG PIDFILE CMD...  start CMD in its own session, detached
#
# Nothing here sleeps to synchronise: every wait is a bounded poll.

GB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GB_PROG=${GB_PROG:-$(basename "$0" .sh)}
GB_PYTHON=${GB_PYTHON:-/usr/bin/python3}

gb_log() {
  printf '%s: %s\n' "$GB_PROG" "$*" >&2
}

gb_die() {
  gb_log "error: $*"
  exit 1
}

# Prints N distinct ports the kernel hands out for 127.0.0.1:0. All sockets
# stay bound until every port is chosen, so the N are distinct; a port may
# still be taken by someone else before the caller binds it.
gb_free_ports() {
  local n=${1:-1}
  "$GB_PYTHON" - "$n" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
for s in socks:
    s.close()
EOF
}

gb_free_port() {
  gb_free_ports 1
}

# gb_wait_until TIMEOUT_S DESCRIPTION COMMAND...
# Runs COMMAND every GB_WAIT_INTERVAL seconds (default 0.2) until it exits 0,
# and returns 0. If COMMAND exits 100 it gives up at once (the thing waited
# for cannot happen any more, e.g. the process died); after TIMEOUT_S seconds
# it gives up too. Either way it logs why and returns 1. COMMAND runs in this
# shell, so it may be a function; its output is not captured.
gb_wait_until() {
  local timeout=$1 desc=$2 rc start elapsed
  shift 2
  start=${EPOCHREALTIME/[.,]/}
  while :; do
    rc=0
    "$@" || rc=$?
    [ "$rc" -eq 0 ] && return 0
    elapsed=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
    if [ "$rc" -eq 100 ]; then
      gb_log "error: gave up waiting for $desc after ${elapsed} ms"
      return 1
    fi
    if [ "$elapsed" -ge $((timeout * 1000)) ]; then
      gb_log "error: timed out after ${timeout} s waiting for $desc"
      return 1
    fi
    sleep "${GB_WAIT_INTERVAL:-0.2}"
  done
}

# Milliseconds since the epoch, for measuring.
gb_now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# gb_pid_alive PID [PATTERN]: PID exists, is not a zombie, and (if PATTERN is
# given) its command line contains PATTERN, which guards against a pid file
# naming a pid the kernel has since reused.
gb_pid_alive() {
  local pid=$1 pattern=${2:-} state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != "Z" ] || return 1
  if [ -n "$pattern" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  fi
  return 0
}

_gb_pid_gone() {
  ! gb_pid_alive "$1" "${2:-}"
}

# gb_pid_stop PID TIMEOUT_S DESCRIPTION [SIGNAL] [PATTERN]
# Sends SIGNAL (default TERM), waits up to TIMEOUT_S for the process to go,
# then sends KILL and waits up to 10 s more. Returns 0 once it is gone.
gb_pid_stop() {
  local pid=$1 timeout=$2 desc=$3 sig=${4:-TERM} pattern=${5:-}
  gb_pid_alive "$pid" "$pattern" || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  if [ "$sig" != KILL ] &&
     GB_WAIT_INTERVAL=0.1 gb_wait_until "$timeout" "$desc (pid $pid) to exit after SIG$sig" \
       _gb_pid_gone "$pid" "$pattern" 2>/dev/null; then
    return 0
  fi
  if gb_pid_alive "$pid" "$pattern"; then
    [ "$sig" = KILL ] || gb_log "$desc (pid $pid) still running after ${timeout} s; sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null || true
  fi
  GB_WAIT_INTERVAL=0.05 gb_wait_until 10 "$desc (pid $pid) to exit after SIGKILL" \
    _gb_pid_gone "$pid" "$pattern"
}

# gb_launch LOGFILE PIDFILE COMMAND...
# Starts COMMAND in a new session (setsid), stdin from /dev/null, stdout and
# stderr appended to LOGFILE, every other inherited descriptor closed, so that
# a caller reading our output through a pipe ($(...), ctest) is not held open
# by the daemon. The pid written to PIDFILE is COMMAND's own pid.
gb_launch() {
  local log=$1 pidfile=$2 fd
  shift 2
  rm -f "$pidfile"
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    # The shell writes its own pid, then becomes COMMAND through exec, so the
    # pid is right whether or not setsid had to fork.
    exec setsid /bin/sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
      </dev/null >>"$log" 2>&1
  ) &
  # Not a job this shell reports on: the daemon outlives us.
  disown "$!" 2>/dev/null || true
  # Wait (bounded) for the pid file so callers can rely on it at once.
  GB_WAIT_INTERVAL=0.02 gb_wait_until 10 "pid file $pidfile" test -s "$pidfile"
}

# ---------------------------------------------------------------------------
# Kafka helpers shared by kafka-start.sh, kafka-stop.sh and kafka-node.sh.
# A cluster directory DIR holds cluster.env (NODES, CLUSTER_ID, HEAP, ...),
# bootstrap, and one DIR/node-<id> per node with server.properties, data/,
# pid, broker.out (JVM stdout/stderr) and server.log (log4j).

GB_KAFKA_HOME=${GB_KAFKA_HOME:-$GB_ROOT/build/kafka}

# Runs scripts/kafka-fetch.sh when the broker jars are not there yet.
gb_kafka_ensure_jars() {
  if ! compgen -G "$GB_KAFKA_HOME/libs/kafka_2.13-*.jar" >/dev/null; then
    gb_log "no broker jars in $GB_KAFKA_HOME/libs; running scripts/kafka-fetch.sh"
    "$GB_ROOT/scripts/kafka-fetch.sh" >&2 || gb_die "scripts/kafka-fetch.sh failed"
  fi
  command -v "${JAVA:-java}" >/dev/null || gb_die "java not found (set JAVA or run scripts/setup.sh)"
}

# Loads DIR/cluster.env into the caller's shell; dies if DIR holds no cluster.
gb_kafka_load() {
  local dir=$1
  [ -f "$dir/cluster.env" ] || gb_die "$dir has no cluster.env; was it made by kafka-start.sh?"
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
}

# The PLAINTEXT host:port a node advertises.
gb_kafka_node_addr() {
  sed -n 's#^advertised\.listeners=PLAINTEXT://##p' "$1/node-$2/server.properties"
}

gb_kafka_node_pid() {
  cat "$1/node-$2/pid" 2>/dev/null || true
}

gb_kafka_node_alive() {
  gb_pid_alive "$(gb_kafka_node_pid "$1" "$2")" kafka.Kafka
}

# Prints the last lines of a node's logs to stderr, for a failure message.
gb_kafka_node_tail() {
  local nd=$1/node-$2 f
  for f in "$nd/broker.out" "$nd/server.log"; do
    [ -s "$f" ] || continue
    gb_log "---- last lines of $f ----"
    tail -n "${3:-25}" "$f" >&2
  done
}

# gb_port_open HOST PORT: something accepts TCP connections there (bounded).
gb_port_open() {
  timeout 2 bash -c ': <>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Prints the broker ids that a metadata request to BOOTSTRAP lists, one a
# line; fails if the brokers do not answer within a few seconds.
gb_kafka_broker_ids() {
  local out
  out=$(timeout 10 kcat -b "$1" -L -m 3 2>/dev/null) || return 1
  sed -n 's/^ *broker \([0-9][0-9]*\) at .*/\1/p' <<<"$out"
}

# Starts node ID of the cluster in DIR with its existing config; returns at
# once (use gb_wait_until to wait for readiness).
gb_kafka_node_launch() {
  local dir=$1 id=$2 nd heap
  nd=$dir/node-$id
  heap=${HEAP:-512m}
  [ -f "$nd/server.properties" ] || gb_die "$nd/server.properties missing"
  # shellcheck disable=SC2086 # GB_KAFKA_JVM_OPTS is a list of words
  gb_launch "$nd/broker.out" "$nd/pid" \
    "${JAVA:-java}" "-Xmx$heap" "-Xms$heap" \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$nd" \
    "-Dlog4j.configuration=file:$GB_ROOT/deploy/kafka/log4j.properties" \
    ${GB_KAFKA_JVM_OPTS:-} \
    -cp "$GB_KAFKA_HOME/libs/*" kafka.Kafka "$nd/server.properties" ||
    gb_die "could not launch node $id"
}

# gb_kafka_node_stop DIR ID TIMEOUT_S [SIGNAL]
gb_kafka_node_stop() {
  local dir=$1 id=$2 timeout=$3 sig=${4:-TERM} pid
  pid=$(gb_kafka_node_pid "$dir" "$id")
  if ! gb_pid_alive "$pid" kafka.Kafka; then
    gb_log "node $id is not running"
    return 0
  fi
  gb_pid_stop "$pid" "$timeout" "kafka node $id" "$sig" kafka.Kafka || return 1
  gb_log "node $id stopped (pid $pid, SIG$sig)"
}

# Succeeds when metadata from BOOTSTRAP shows every partition (internal ones
# included) with a leader and all its replicas in sync.
gb_kafka_isr_complete() {
  local out
  out=$(timeout 10 kcat -b "$1" -L -m 3 2>/dev/null) || return 1
  awk '/^ +partition / {
         if (split($0, a, "replicas: ") < 2 || split($0, b, "isrs: ") < 2) { bad++; next }
         match(a[2], /^[0-9]+(,[0-9]+)*/); r = substr(a[2], 1, RLENGTH)
         match(b[2], /^[0-9]+(,[0-9]+)*/); i = substr(b[2], 1, RLENGTH)
         if (split(r, x, ",") != split(i, y, ",") || $0 ~ /leader -1/) bad++
       }
       END { exit bad > 0 }' <<<"$out"
}
