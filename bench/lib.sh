# Shared by the benchmark harnesses: source after scripts/lib/common.sh.

# bench_start [REDIS_NAME]: builds, then sets dir (GB_BENCH_DIR, default
# var/bench) and B, the bootstrap of the bench's own broker (started if it
# is not running; left running for the next run); with REDIS_NAME, also R,
# a fresh redis-server under $dir/REDIS_NAME.
bench_start() {
  scripts/build.sh >/dev/null
  dir=${GB_BENCH_DIR:-$GB_ROOT/var/bench}
  mkdir -p "$dir"
  B=$(scripts/kafka-start.sh --dir "$dir/kafka" --heap "${GB_BENCH_HEAP:-1g}" --topics "" \
        --topics-tool build/tools/gb-topics)
  if [ -n "${1:-}" ]; then
    rm -rf "${dir:?}/$1"
    R=$(scripts/redis-start.sh --dir "$dir/$1")
  fi
}
