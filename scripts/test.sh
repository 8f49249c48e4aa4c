#!/usr/bin/env bash
# Runs every test, from a fresh machine: installs what is missing, builds,
# runs the unit and integration tests (real Kafka broker, real redis-server),
# then rebuilds with AddressSanitizer and UndefinedBehaviorSanitizer and runs
# the unit tests again, then fuzzes every decoder and parser for a short
# while (scripts/fuzz.sh). .ci/run calls exactly this.
#
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only tests labelled unit (ctest arguments pass through)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
start=$(date +%s)

scripts/setup.sh
scripts/build.sh

echo "== tests (build/) =="
(cd build && ctest --output-on-failure --timeout 600 "$@")

if [ $# -eq 0 ]; then
  echo "== unit, integration and browser tests under ASan + UBSan (build-asan/) =="
  GB_BUILD_DIR=$here/build-asan GB_BUILD_TYPE=Debug scripts/build.sh -DGB_SANITIZE=ON
  # Not again here: valgrind (memcheck is its own tool), and the three
  # tests of whole-system trouble (a broker cluster killed and frozen,
  # crashes, floods). They take minutes each, their code paths are the
  # ones every other test runs under the sanitizers, and what they assert
  # is timing under load, which the sanitizers' 2-3x slowdown would turn
  # into noise (docs/RELIABILITY.md, section 6).
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure --timeout 600 -E '^integration\.(valgrind|broker_trouble|chaos|flood)$')
  # The short form of scripts/fuzz.sh: the clang build, every target's
  # corpus and regressions, then each target fuzzed for 20 s (3.6 min in
  # all, measured on the 2-core machine).
  echo "== fuzzing, short form (build-fuzz/; docs/RELIABILITY.md) =="
  scripts/fuzz.sh --seconds "${GB_FUZZ_SECONDS:-20}"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s =="
