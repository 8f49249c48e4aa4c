#!/usr/bin/env bash
# Stops a redis-server that scripts/redis-start.sh started.
#
#   scripts/redis-stop.sh --dir DIR [--timeout S]
#
# Sends SIGTERM, on which redis fsyncs the append-only file and exits (not
# "SHUTDOWN NOSAVE", which skips the final save); waits up to --timeout
# seconds (default 30), then sends SIGKILL. The data stays in DIR;
# redis-start.sh --dir DIR starts the server again on it. A DIR with nothing
# running is not an error.
set -euo pipefail
GB_PROG=redis-stop
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

dir="" timeout=30
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -h|--help) usage ;;
    *) gb_log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$dir" ] || usage
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || gb_die "--timeout wants seconds, got '$timeout'"

pid=$(cat "$dir/pid" 2>/dev/null || true)
rm -f "$dir/url"
if ! gb_pid_alive "$pid" redis-server; then
  gb_log "no redis-server running in $dir"
  exit 0
fi
gb_pid_stop "$pid" "$timeout" redis-server TERM redis-server
gb_log "redis-server stopped (pid $pid)"
