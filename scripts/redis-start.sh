#!/usr/bin/env bash
# Starts a private redis-server on loopback for tests and the demo.
#
#   scripts/redis-start.sh --dir DIR [--port P] [--timeout S]
#
#   --dir      data directory (created): redis.conf, appendonlydir/, redis.log,
#              redis.out (stdout/stderr), pid, url
#   --port     TCP port on 127.0.0.1 (default: a free one)
#   --timeout  seconds to wait for PONG (default $GB_REDIS_START_TIMEOUT or 30)
#
# The server persists with AOF (appendonly yes, appendfsync everysec) and no
# RDB snapshots, listens on 127.0.0.1 only with protected-mode on, and runs
# in the foreground of its own session (setsid), not daemonized.
# Prints "redis://127.0.0.1:P" as the only line on stdout and writes it to
# DIR/url. Idempotent: if DIR already holds a running server that answers
# PING, it prints its URL and does nothing else; if DIR holds a stopped one,
# it starts it again on the same port with the same data.
# Stop with scripts/redis-stop.sh --dir DIR. Environment: REDIS_SERVER,
# REDIS_CLI (default /usr/bin/redis-server, /usr/bin/redis-cli).
set -euo pipefail
GB_PROG=redis-start
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

dir="" port="" timeout=${GB_REDIS_START_TIMEOUT:-30}
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --port) port=${2:?--port needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -h|--help) usage ;;
    *) gb_log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$dir" ] || { gb_log "--dir is required"; usage; }
if [ -n "$port" ]; then
  [[ "$port" =~ ^[1-9][0-9]*$ ]] && [ "$port" -le 65535 ] ||
    gb_die "--port wants 1..65535, got '$port'"
fi
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || gb_die "--timeout wants seconds, got '$timeout'"
server=${REDIS_SERVER:-/usr/bin/redis-server}
cli=${REDIS_CLI:-/usr/bin/redis-cli}
[ -x "$server" ] || gb_die "$server not found (run scripts/setup.sh)"
[ -x "$cli" ] || gb_die "$cli not found (run scripts/setup.sh)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

pong() {
  [ "$(timeout 5 "$cli" -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

# 0 once the server answers PONG; 100 if it died (no point waiting).
ready() {
  if ! gb_pid_alive "$(cat "$dir/pid" 2>/dev/null)" redis-server; then
    gb_log "redis-server exited during startup; last lines of its logs:"
    tail -n 20 "$dir/redis.out" "$dir/redis.log" >&2 2>/dev/null || true
    return 100
  fi
  pong "$port"
}

if [ -f "$dir/redis.conf" ]; then
  old_port=$(sed -n 's/^port //p' "$dir/redis.conf")
  if [ -n "$port" ] && [ "$port" != "$old_port" ]; then
    gb_die "$dir already holds a server configured for port $old_port, not $port"
  fi
  port=$old_port
  if gb_pid_alive "$(cat "$dir/pid" 2>/dev/null)" redis-server && pong "$port"; then
    gb_log "reusing the running redis-server in $dir"
    echo "redis://127.0.0.1:$port" >"$dir/url"
    echo "redis://127.0.0.1:$port"
    exit 0
  fi
  gb_log "restarting the stopped redis-server in $dir on port $port"
else
  port=${port:-$(gb_free_port)}
  {
    echo "# Written by scripts/redis-start.sh."
    echo "bind 127.0.0.1"
    echo "protected-mode yes"
    echo "port $port"
    echo "daemonize no"
    echo "pidfile $dir/redis.pid"
    echo "dir $dir"
    echo "logfile $dir/redis.log"
    echo "loglevel notice"
    echo "appendonly yes"
    echo "appendfsync everysec"
    echo 'save ""'
  } >"$dir/redis.conf"
fi
rm -f "$dir/url"

t0=$(gb_now_ms)
gb_launch "$dir/redis.out" "$dir/pid" "$server" "$dir/redis.conf" ||
  gb_die "could not launch $server"
pid=$(cat "$dir/pid")
gb_log "redis-server launched (pid $pid, port $port)"
ok=0
trap '[ "$ok" = 1 ] || gb_pid_stop "$pid" 5 redis-server KILL redis-server || true' EXIT
gb_wait_until "$timeout" "redis-server on 127.0.0.1:$port to answer PING" ready || exit 1
gb_log "redis-server ready in $(( $(gb_now_ms) - t0 )) ms"
echo "redis://127.0.0.1:$port" >"$dir/url"
ok=1
echo "redis://127.0.0.1:$port"
