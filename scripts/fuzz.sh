#!/usr/bin/env bash
# Fuzzes goldenbell's decoders and parsers with libFuzzer (tests/fuzz/;
# docs/RELIABILITY.md, "Hostile input: fuzzing"). Builds build-fuzz/ with
# clang, AddressSanitizer and UBSan, replays every target's corpus and
# regressions once (ctest -L fuzz), then fuzzes each target for N seconds,
# two at a time on this machine's cores.
#
#   scripts/fuzz.sh                      every target, 300 s each (the long form)
#   scripts/fuzz.sh --seconds 20         every target, 20 s each (CI's short form)
#   scripts/fuzz.sh --seconds 600 phone site
#   scripts/fuzz.sh --merge ...          also merge new coverage into tests/fuzz/corpus/
#   scripts/fuzz.sh --list               the targets
#
# New inputs are kept in build-fuzz/work/<target>/ and, only with --merge,
# minimised into tests/fuzz/corpus/<target>/ (commit them). An input that
# crashes, leaks, breaks a target's check or runs past --timeout seconds is
# copied to tests/fuzz/regressions/<target>/ and the script fails: fix the
# bug, keep the input (every build's ctest replays it from then on).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${GB_FUZZ_BUILD_DIR:-$here/build-fuzz}
seconds=300
merge=0
jobs=$(nproc)
timeout_s=10
targets=()

# Each target's largest input, bytes: about the largest input that means
# something to it (a phone number is at most 256 bytes, a host 4096, ...).
declare -A MAX_LEN=(
  [ingest_json]=8192 [ingest_proto]=4096 [registry_json]=2048 [registry_proto]=1024
  [intel_json]=2048 [intel_proto]=1024 [pbwire]=1024 [event_batch]=4096 [proto]=4096
  [phone]=300 [site]=4400 [time]=64 [rules]=4096 [http]=8192 [accounts]=160
  [config]=1024 [text]=1024
)
ALL=(ingest_json ingest_proto registry_json registry_proto intel_json intel_proto pbwire
     event_batch proto phone site time rules http accounts config text)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --merge) merge=1; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --list) printf '%s\n' "${ALL[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -n "${MAX_LEN[$1]:-}" ] || { echo "fuzz: no target '$1' (see --list)" >&2; exit 2; }
       targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz: --seconds wants a whole number > 0" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
command -v clang >/dev/null || { echo "fuzz: clang is missing: scripts/setup.sh installs it" >&2; exit 1; }

start=$(date +%s)
echo "== fuzz: building $build (clang, libFuzzer, ASan + UBSan) =="
CC=clang cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGB_FUZZ=ON \
  -DGB_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_all -- --no-print-directory >/dev/null

echo "== fuzz: replaying the corpora and regressions =="
regex="^fuzz\\.($(IFS='|'; echo "${targets[*]}"))\$"
(cd "$build" && ctest --output-on-failure -L fuzz -R "$regex" -j"$jobs")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=$build/logs
mkdir -p "$logs"

# Fuzzes one target; its summary line goes to $logs/<target>.result.
fuzz_one() {
  local t=$1 exe=$build/tests/fuzz/fuzz_$1 work=$build/work/$1 art=$build/artifacts/$1
  local corpus=$here/tests/fuzz/corpus/$t reg=$here/tests/fuzz/regressions/$t
  local dict=$here/tests/fuzz/dict/$t.dict args=() rc=0
  mkdir -p "$work" "$art" "$corpus"
  rm -f "$art"/*
  [ -f "$dict" ] && args+=("-dict=$dict")
  dirs=("$work" "$corpus")
  [ -d "$reg" ] && dirs+=("$reg")
  "$exe" -max_total_time="$seconds" -max_len="${MAX_LEN[$t]}" -timeout="$timeout_s" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" "${args[@]}" \
    "${dirs[@]}" >"$logs/$t.log" 2>&1 || rc=$?
  local runs speed found
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  found=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
    mkdir -p "$reg"
    for f in $found; do cp "$f" "$reg/"; done
    echo "FAIL $t: exit $rc after ${runs:-?} runs; kept $(echo "$found" | grep -c . || true) input(s) in tests/fuzz/regressions/$t/; log $logs/$t.log" \
      >"$logs/$t.result"
    return
  fi
  if [ "$merge" -eq 1 ]; then
    local before after
    before=$(find "$corpus" -type f | wc -l)
    "$exe" -merge=1 -max_len="${MAX_LEN[$t]}" -timeout="$timeout_s" -rss_limit_mb=2048 \
      "$corpus" "$work" >"$logs/$t.merge.log" 2>&1 || {
      echo "FAIL $t: merge failed; log $logs/$t.merge.log" >"$logs/$t.result"; return; }
    after=$(find "$corpus" -type f | wc -l)
    found=", $((after - before)) new input(s) merged into the corpus"
  fi
  printf 'ok   %-15s %10s runs %8s exec/s%s\n' "$t" "${runs:-?}" "${speed:-?}" "${found:-}" \
    >"$logs/$t.result"
}

echo "== fuzz: ${#targets[@]} target(s), $seconds s each, $jobs at a time =="
rm -f "$logs"/*.result
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
failed=0
for t in "${targets[@]}"; do
  if [ -f "$logs/$t.result" ]; then cat "$logs/$t.result"; else echo "FAIL $t: no result"; fi
  grep -q '^ok' "$logs/$t.result" 2>/dev/null || failed=$((failed + 1))
done
echo "== fuzz: done in $(( $(date +%s) - start )) s =="
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
