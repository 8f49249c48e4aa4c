#!/usr/bin/env bash
# The long form of the chaos test (docs/RELIABILITY.md, section 1): builds,
# then runs integration.chaos with 10 SIGKILLs per service (or --kills N)
# on the shared test broker.
#
#   scripts/chaos.sh [--kills N]
#
# The short form (6 kills per service) runs in scripts/test.sh.
set -euo pipefail
GB_PROG=chaos
. "$(dirname "$0")/lib/common.sh"
cd "$GB_ROOT"
kills=10
while [ $# -gt 0 ]; do
  case $1 in
    --kills) kills=$2; shift 2 ;;
    *) gb_die "unknown argument $1 (scripts/chaos.sh [--kills N])" ;;
  esac
done
[[ "$kills" =~ ^[1-9][0-9]*$ ]] || gb_die "--kills: a number of kills per service, not '$kills'"
scripts/setup.sh
scripts/build.sh
cd build
GB_CHAOS_KILLS=$kills ctest -R '^(kafka\.start|integration\.chaos|kafka\.stop)$' --output-on-failure
