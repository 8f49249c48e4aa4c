#!/usr/bin/env bash
# Floods, the long form (issue 8, promise 4): a minute at twice the
# sustainable input rate, with a slow and a dead webhook gateway.
#
#   bench/flood.sh [--seconds S] [--rate R]
#
# Runs tests/integration/flood.sh (its header says what it does and
# asserts) for S seconds (default 60; CI runs the same test for 20) on the
# bench's own broker under var/bench (GB_BENCH_DIR; started if it is not
# running and left running, as the other benchmarks do) and a redis-server
# of its own. R (calls/s) takes the sustainable rate as given; by default it
# is measured first. Prints the figures: the sustainable rate, the flood's
# achieved rate, the peak backlog and lag, the drain time, each service's
# peak RSS against its bound, alert latencies with healthy and with failing
# gateways. The run's logs stay in $GB_BENCH_DIR/test-tmp/flood-<pid>/.
set -euo pipefail
GB_PROG=flood_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
args=(--seconds 60)
while [ $# -gt 0 ]; do
  case $1 in
    --seconds | --rate) args+=("$1" "$2"); shift 2 ;;
    *) gb_die "unknown argument $1 (see the header of $0)" ;;
  esac
done
bench_start
GB_TEST_KAFKA_DIR=$dir/kafka GB_BUILD_DIR=${GB_BUILD_DIR:-$GB_ROOT/build} GB_TEST_TMP=$dir/test-tmp \
  tests/integration/flood.sh "${args[@]}"
