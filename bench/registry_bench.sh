#!/usr/bin/env bash
# Registry changes through one matcher process, and Redis memory per
# protected number: N registrants, each registering and adding F family
# numbers, published with gb-publish to the real broker on this machine.
#
#   bench/registry_bench.sh [--registrants N] [--family F]
#
# Prints changes/s, CPU seconds per thousand changes, and Redis bytes per
# protected number (used_memory before and after, divided by the numbers).
set -euo pipefail
GB_PROG=registry_bench
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$(dirname "$0")/lib.sh"
cd "$GB_ROOT"
n=10000 fam=2
while [ $# -gt 0 ]; do
  case $1 in
    --registrants) n=$2; shift 2 ;;
    --family) fam=$2; shift 2 ;;
    *) gb_die "unknown argument $1" ;;
  esac
done
bench_start redis-registry
port=${R##*:}
trap 'scripts/redis-stop.sh --dir "$dir/redis-registry" >/dev/null 2>&1 || true' EXIT
s=$(date +%s)-$$
topics=(bench.registry.$s bench.results.$s bench.intel.$s bench.events.$s bench.alerts.$s bench.dlq.$s bench.index.$s)
build/tools/gb-topics -b "$B" -p 4 -r 1 create "${topics[@]}" 2>/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/hash.key"
echo "k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/data.keys"
st=(build/tools/gb-stations --redis "$R" --prefix gb:)
"${st[@]}" add --id st-1 --name "思明派出所" --bureau b --lat 24.4539 --lon 118.0820 >/dev/null
"${st[@]}" add --id st-2 --name "湖里派出所" --bureau b --lat 24.5122 --lon 118.1462 >/dev/null

data=$dir/registry-$n-$fam.jsonl
/usr/bin/python3 - "$n" "$fam" >"$data" <<'PY'
import json, random, sys
n, fam = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(7)
for i in range(n):
    reg = "139%08d" % i
    print(json.dumps({"request_id": "r%d" % i, "op": "register", "registrant": reg,
                      "station_id": "st-%d" % (1 + i % 2), "following": True,
                      "name": "居民%d" % i, "age": rnd.randint(18, 90), "occupation": "退休"},
                     ensure_ascii=False))
    for k in range(fam):
        print(json.dumps({"request_id": "r%d-f%d" % (i, k), "op": "add_family", "registrant": reg,
                          "family": "137%08d" % (i * fam + k), "relation": "亲属"},
                         ensure_ascii=False))
PY
changes=$((n * (1 + fam)))
build/tools/gb-publish -b "$B" -t "${topics[0]}" -f jsonl --key registrant -q "$data"
before=$(redis-cli -p "$port" INFO memory | awk -F: '/^used_memory:/ {gsub("\r", ""); print $2}')
admin=$(gb_free_port)
gb_launch "$dir/matcher-$s.log" "$dir/matcher.pid" build/matcher/matcher --log.level=warn \
  --redis.url="$R" --kafka.bootstrap.servers="$B" --topic.registry="${topics[0]}" \
  --topic.registry-results="${topics[1]}" --topic.intel="${topics[2]}" --topic.events="${topics[3]}" \
  --topic.alerts="${topics[4]}" --topic.dlq="${topics[5]}" --topic.index="${topics[6]}" --matcher.group="bench-$s" \
  --index.hash-key-file="$dir/hash.key" --index.keys-file="$dir/data.keys" --admin.port="$admin"
pid=$(cat "$dir/matcher.pid")
trap 'gb_pid_stop "$pid" 20 matcher >/dev/null 2>&1 || true; scripts/redis-stop.sh --dir "$dir/redis-registry" >/dev/null 2>&1 || true' EXIT
done_count() { { curl -sf "http://127.0.0.1:$admin/metrics" 2>/dev/null || true; } |
  awk '/^gb_matcher_registry_changes_total/ {s += $2} END {print s + 0}'; }
t0=""; deadline=$(( $(gb_now_ms) + 3600000 ))
while :; do
  c=$(done_count)
  if [ -z "$t0" ] && [ "$c" -gt 0 ]; then t0=$(gb_now_ms); c0=$c; k0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); fi
  [ "$c" -ge "$changes" ] && break
  [ "$(gb_now_ms)" -lt "$deadline" ] || gb_die "matcher applied only $c of $changes changes"
  gb_pid_alive "$pid" || gb_die "matcher died; see $dir/matcher-$s.log"
  sleep 0.05
done
t1=$(gb_now_ms); k1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
after=$(redis-cli -p "$port" INFO memory | awk -F: '/^used_memory:/ {gsub("\r", ""); print $2}')
ms=$((t1 - t0)); [ "$ms" -gt 0 ] || ms=1
numbers=$((n * (1 + fam)))
echo "registry_bench registrants=$n family=$fam changes=$changes"
echo "  matcher: $(( (changes - c0) * 1000 / ms )) changes/s, $(awk -v a="$k0" -v b="$k1" -v hz="$(getconf CLK_TCK)" -v c="$((changes - c0))" 'BEGIN {printf "%.3f", (b - a) / hz / (c / 1000)}') CPU s per thousand changes"
echo "  redis: $(( (after - before) / numbers )) bytes per protected number ($(( (after - before) / n )) per registrant with $fam family numbers; used_memory $before -> $after)"
