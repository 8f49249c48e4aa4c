#!/usr/bin/env bash
# Configures and builds goldenbell into build/ (or $GB_BUILD_DIR).
#   scripts/build.sh [extra cmake -D options]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${GB_BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=${GB_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" -- --no-print-directory >/dev/null
echo "build: ok ($build)" >&2
